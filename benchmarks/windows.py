"""How a trajectory between two trained lengths is read (`infer.windows`), measured on a validation set:
HNU's head and tail windows of the nearest smaller trained length, against that length's model reading
the whole trajectory. MAE of the raw ensemble mean (clipped, no scale) per dimension and length bucket.

    python benchmarks/windows.py convlstm-cpu/results/models          # an ensemble or models folder
    python benchmarks/windows.py hnu-lstm-cpu --max-length 5000

The set is challenge-style (the 2020 recipe, lengths uniform in 10..max-length, 1D/2D/3D) with the
seed of the workflow's calibration set, not of its test set: choosing the rule on it is choosing on
validation data, as HNU chose the scale.
"""

import argparse

import numpy as np

from andiflow import settings
from andiflow.api import load_ensemble
from andiflow.buckets import bucket_names, length_buckets
from andiflow.ensemble import WINDOWS
from andiflow.simulate import Recipe, challenge_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", help="a shipped ensemble's name or a folder with manifest.json")
    parser.add_argument("--n", type=int, default=1000, help="trajectories per dimension")
    parser.add_argument("--max-length", type=int, default=999)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    config = settings.complete()
    edges = [10, 50, 100, 200, 500, 1000, 2000, 5001]
    edges = [e for e in edges if e <= args.max_length] + [args.max_length + 1]
    trajectories, dims, alphas, _ = challenge_set(
        args.n, [1, 2, 3], 10, args.max_length, args.seed, "calibration", Recipe.from_settings(config["data"])
    )
    dims, alphas = np.array(dims), np.array(alphas)
    buckets = length_buckets([t.shape[1] for t in trajectories], edges)
    ens = load_ensemble(args.models)
    print(f"# benchmarks/windows.py {args.models}: {len(trajectories)} trajectories, lengths 10-{args.max_length}")
    names = [b for b in bucket_names(edges) if (buckets == b).any()]
    print(f"{'rule':<10} {'all':>7} {'1D':>7} {'2D':>7} {'3D':>7} " + " ".join(f"{b:>9}" for b in names))
    for rule in WINDOWS:
        ens.rule = rule
        err = np.abs(np.clip(ens.predict(trajectories)[0], 0.05, 2.0) - alphas)
        cells = [err.mean()] + [err[dims == d].mean() for d in (1, 2, 3)]
        print(
            f"{rule:<10} "
            + " ".join(f"{c:7.4f}" for c in cells)
            + " "
            + " ".join(f"{err[buckets == b].mean():9.4f}" for b in names)
        )


if __name__ == "__main__":
    main()
