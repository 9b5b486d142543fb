"""Alpha networks of a dimension (`tasks.alpha.dims`) against HNU's reading of its trajectories axis
by axis with the 1D networks, on the lengths trained so far: PyTorch members of a workflow's
results/models, each trajectory read whole by the networks of the nearest smaller trained length,
interpolated median, no scale, clip [0.05, 2]. A challenge-style validation set of a seed of its own
(not the test set), lengths up to the longest trained + 149.

    python benchmarks/dim_networks.py convlstm-cpu/results/models --dim 2 --n 2000
"""

import argparse

import numpy as np
import torch

from andiflow import settings
from andiflow.ensemble import Ensemble
from andiflow.manifest import networks_of
from andiflow.members import TorchMember
from andiflow.simulate import Recipe, simulate_challenge

BUCKETS = ((10, 50), (50, 100), (100, 200), (200, 500), (500, 1000))


def members(folder, dim: int, lengths: list) -> dict:
    found = networks_of(folder, "alpha", dim)
    for nets in found.values():
        for model in nets:
            model.median = "interpolated"
    return {L: [TorchMember(model, "cpu", settings.default("batch_values")) for model in found[L]] for L in lengths}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", help="a workflow's results/models")
    parser.add_argument("--dim", type=int, choices=(2, 3), default=2)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=8642)
    args = parser.parse_args()
    torch.set_num_threads(1)
    lengths = sorted(networks_of(args.models, "alpha", args.dim))
    manifest = {"scale": 1.0, "clip": [0.05, 2.0]}
    axes = Ensemble({("alpha", 1): members(args.models, 1, lengths)}, manifest, windows="whole")
    whole = Ensemble(
        {("alpha", 1): members(args.models, 1, lengths), ("alpha", args.dim): members(args.models, args.dim, lengths)},
        manifest,
        windows="whole",
    )
    recipe = Recipe.from_settings(settings.resolve()["data"])
    made, T = simulate_challenge(args.n, 10, lengths[-1] + 149, args.dim, seed=args.seed, recipe=recipe)
    tracks = [p[:, :t].astype(float) for p, t in zip(made.positions, T)]
    alpha = np.asarray(made.alpha)
    by_axis, by_dim = np.abs(axes.predict(tracks) - alpha), np.abs(whole.predict(tracks) - alpha)
    print(
        f"# benchmarks/dim_networks.py {args.models} --dim {args.dim}: lengths {lengths[0]}-{lengths[-1]} trained; "
        f"{args.n} {args.dim}D challenge-style tracks of 10-{lengths[-1] + 149} points (seed {args.seed})"
    )
    print(f"alpha MAE: 1D networks axis by axis {by_axis.mean():.4f}, {args.dim}D networks {by_dim.mean():.4f}")
    for lo, hi in BUCKETS:
        k = (T >= lo) & (T < hi)
        if k.any():
            print(f"  {lo}-{hi - 1} points (n={k.sum()}): {by_axis[k].mean():.4f} -> {by_dim[k].mean():.4f}")


if __name__ == "__main__":
    main()
