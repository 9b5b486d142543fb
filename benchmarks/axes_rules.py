"""How the axes of a 2D/3D trajectory are combined by a distribution-output ensemble, measured on a
validation set (the calibration set's seed, not the test set's): HNU's mean of the per-axis
estimates (medians) against pooling the per-axis probabilities over the alpha grid (their mean,
their product, their product with the log-probabilities divided by sqrt(dim)), read out by the
median (or, for one rule, the mean). The model of the nearest smaller trained length reads each
axis whole; probabilities are averaged over the folds. MAE of the clipped raw estimate (no scale).

    python benchmarks/axes_rules.py convlstm-cpu/results/models --n 2000    # trajectories per dimension

`models` is a workflow's results/models: alpha's 1D networks, alpha/1D/L<length>/fold<k>.pt.
"""

import argparse

import numpy as np
import torch

from andiflow import settings
from andiflow.manifest import networks_of
from andiflow.normalize import zscore
from andiflow.simulate import Recipe, challenge_set


def median(p, grid):
    cumulative = np.cumsum(p / p.sum())
    return grid[min((cumulative < 0.5).sum(), len(grid) - 1)]


def pooled(P, scale=1.0):
    log_p = np.log(P + 1e-12).sum(axis=0) * scale
    return np.exp(log_p - log_p.max())


RULES = {
    "mean of medians (HNU)": lambda P, g: np.mean([median(p, g) for p in P]),
    "median of mean probabilities": lambda P, g: median(P.mean(axis=0), g),
    "median of product": lambda P, g: median(pooled(P), g),
    "mean of product": lambda P, g: float(pooled(P) / pooled(P).sum() @ g),
    "median of product, /sqrt(dim)": lambda P, g: median(pooled(P, 1 / np.sqrt(len(P))), g),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "models", help="a workflow's results/models (alpha/1D/L<length>/fold<k>.pt, distribution output)"
    )
    parser.add_argument("--n", type=int, default=2000, help="trajectories per dimension")
    args = parser.parse_args()
    torch.set_num_threads(1)
    members = networks_of(args.models, "alpha", 1)
    lengths = sorted(members)
    grid = members[lengths[0]][0].grid.numpy()
    recipe = Recipe.from_settings(settings.resolve()["data"])
    trajectories, dims, alphas, _ = challenge_set(args.n, [1, 2, 3], 10, 999, 2020, "calibration", recipe)
    dims, alphas = np.array(dims), np.array(alphas)

    def probabilities(axis):
        Tn = max(L for L in lengths if L <= len(axis))
        x = torch.from_numpy(zscore(axis)[None].astype(np.float32))
        with torch.inference_mode():
            return np.mean([torch.softmax(m.logits(x), -1)[0].numpy() for m in members[Tn]], axis=0)

    per_axis = [np.array([probabilities(a) for a in t]) for t in trajectories]
    print(f"# benchmarks/axes_rules.py {args.models} --n {args.n}: {len(trajectories)} trajectories, 10-999 points")
    for name, rule in RULES.items():
        err = np.abs(np.clip([rule(P, grid) for P in per_axis], 0.05, 2.0) - alphas)
        cells = " ".join(f"{d}D {err[dims == d].mean():.4f}" for d in (1, 2, 3))
        print(f"{name:<32} all {err.mean():.4f} {cells}")


if __name__ == "__main__":
    main()
