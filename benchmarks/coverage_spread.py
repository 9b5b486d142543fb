"""How much the coverage of an ensemble's calibrated intervals moves from one set to the next: many
challenge-style sets of the same size (the calibration set's seed stage, one seed each: validation
data, not the test set), each predicted as `andiflow predict` does. Per set: MAE and coverage per
dimension; then per dimension the mean, standard deviation, smallest and largest coverage over the
sets, the share of sets inside a band, and the standard deviation a binomial draw of that many
trajectories would give at the mean coverage; and the coverage per diffusion model over all sets.

    python benchmarks/coverage_spread.py convlstm-cpu --n 300 --seeds 2020 2021 13 14 15
    python benchmarks/coverage_spread.py convlstm-cpu --n 300 --first-seed 100 --sets 20

One thread, ONNX Runtime.
"""

import argparse

import numpy as np

from andiflow import settings
from andiflow.api import load_ensemble
from andiflow.simulate import Recipe, challenge_set
from andiflow.tasks import MODELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", help="a shipped ensemble's name or a folder with manifest.json")
    parser.add_argument("--n", type=int, default=300, help="trajectories per dimension in each set")
    parser.add_argument("--min-length", type=int, default=1000)
    parser.add_argument("--max-length", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="*", default=[], help="the sets' seeds")
    parser.add_argument("--first-seed", type=int, default=100, help="with --sets: seeds from this one on")
    parser.add_argument("--sets", type=int, default=0, help="this many more sets")
    parser.add_argument("--band", type=float, nargs=2, default=[0.87, 0.93])
    args = parser.parse_args()
    seeds = args.seeds + list(range(args.first_seed, args.first_seed + args.sets))
    recipe = Recipe.from_settings(settings.resolve()["data"])
    ens = load_ensemble(args.models)
    level = ens.manifest["intervals"]["level"]
    span = f"{args.min_length}-{args.max_length} points"
    print(f"# benchmarks/coverage_spread.py {args.models}: {len(seeds)} sets of {args.n} per dimension, {span}")
    print(f"{'seed':>6} {'MAE':>7} | {level:.0%} coverage {'1D':>6} {'2D':>6} {'3D':>6}")
    cover, inside_of_model = {d: [] for d in (1, 2, 3)}, {m: [] for m in MODELS}
    for seed in seeds:
        trajectories, dims, alphas, models = challenge_set(
            args.n, [1, 2, 3], args.min_length, args.max_length, seed, "calibration", recipe
        )
        dims, alphas, models = np.array(dims), np.array(alphas), np.array(models)
        est = ens.estimate(trajectories, level=level, classify=False)
        inside = (est["low"] <= alphas) & (alphas <= est["high"])
        for d in cover:
            cover[d].append(inside[dims == d].mean())
        for m in MODELS:
            inside_of_model[m] += inside[models == m].tolist()
        mae = np.abs(est["alpha"] - alphas).mean()
        print(f"{seed:>6} {mae:7.4f} | {'':12} " + " ".join(f"{cover[d][-1]:6.3f}" for d in cover), flush=True)
    low, high = args.band
    print(f"\nper dimension over the sets (band {low:.2f}-{high:.2f}; binomial: the sd of one set at the mean):")
    print(f"{'dim':>4} {'mean':>6} {'sd':>6} {'min':>6} {'max':>6} {'in band':>8} {'binomial sd':>12}")
    for d, c in cover.items():
        c = np.array(c)
        binomial = np.sqrt(c.mean() * (1 - c.mean()) / args.n)
        in_band = np.mean((c >= low - 1e-9) & (c <= high + 1e-9))
        print(
            f"{d:>3}D {c.mean():6.3f} {c.std(ddof=1) if len(c) > 1 else 0:6.3f} {c.min():6.3f} {c.max():6.3f}"
            f" {in_band:8.2f} {binomial:12.3f}"
        )
    per_model = " ".join(f"{m} {np.mean(v):.3f}" for m, v in inside_of_model.items())
    print(f"coverage per diffusion model, all sets: {per_model}")


if __name__ == "__main__":
    main()
