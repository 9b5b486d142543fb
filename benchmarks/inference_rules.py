"""How an ensemble is read, measured on a validation set: how a trajectory between two trained lengths
is read (`infer.windows`: HNU's head and tail windows of the nearest smaller trained length, or that
length's model reading the whole trajectory), and whether more folds pay (all folds against the first
alone). MAE of the raw ensemble mean (clipped, no scale) per dimension and length bucket; then the
coverage and width of the ensemble's calibrated intervals, if it has them.

    python benchmarks/inference_rules.py convlstm-cpu/results/models    # an ensemble or models folder
    python benchmarks/inference_rules.py hnu-lstm-cpu --min-length 1000 --max-length 5000   # long tracks

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
    parser.add_argument("--min-length", type=int, default=10)
    parser.add_argument("--max-length", type=int, default=999)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    config = settings.resolve()
    edges = [10, 50, 100, 200, 500, 1000, 2000, 3000, 4000]
    edges = [args.min_length] + [e for e in edges if args.min_length < e <= args.max_length] + [args.max_length + 1]
    recipe = Recipe.from_settings(config["data"])
    trajectories, dims, alphas, models = challenge_set(
        args.n, [1, 2, 3], args.min_length, args.max_length, args.seed, "calibration", recipe
    )
    dims, alphas, models = np.array(dims), np.array(alphas), np.array(models)
    buckets = length_buckets([t.shape[1] for t in trajectories], edges)
    ens = load_ensemble(args.models)
    span = f"{args.min_length}-{args.max_length}"
    print(f"# benchmarks/inference_rules.py {args.models}: {len(trajectories)} trajectories, {span} points")
    names = [b for b in bucket_names(edges) if (buckets == b).any()]
    kinds = sorted(set(models))
    columns = ["all", "1D", "2D", "3D", *names, *kinds]
    print(f"{'windows':<10} {'folds':<6} " + " ".join(f"{c:>9}" for c in columns))
    n_folds = len(next(iter(ens.groups[("alpha", 1)].values())))
    for rule in WINDOWS:
        for folds in sorted({1, n_folds}):
            subset = ens.subset(folds=range(folds), windows=rule)  # each group's first `folds` folds
            err = np.abs(np.clip(subset.raw_alpha(trajectories)["alpha"], 0.05, 2.0) - alphas)
            groups = [err, *(err[dims == d] for d in (1, 2, 3)), *(err[buckets == b] for b in names)]
            groups += [err[models == m] for m in kinds]
            cells = [g.mean() for g in groups]
            print(f"{rule:<10} {folds:<6} " + " ".join(f"{c:9.4f}" for c in cells))
    table = ens.manifest.get("intervals")
    if table:
        est = ens.estimate(trajectories, level=table["level"], classify=False)
        inside = (est["low"] <= alphas) & (alphas <= est["high"])
        width = est["high"] - est["low"]
        groups = [np.ones(len(alphas), bool), *(dims == d for d in (1, 2, 3)), *(buckets == b for b in names)]
        groups += [models == m for m in kinds]
        print(f"\n{table['level']:.0%} intervals of the ensemble as it is (its rule, folds, scale and interval table):")
        print(f"{'coverage':<17} " + " ".join(f"{inside[g].mean():9.3f}" for g in groups))
        print(f"{'mean width':<17} " + " ".join(f"{width[g].mean():9.3f}" for g in groups))


if __name__ == "__main__":
    main()
