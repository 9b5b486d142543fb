"""How the diffusion_model task's classifiers are best read, measured on a validation set (the interval set's
seed, not the test set's):

- axis by axis with the 1D classifiers (the mean member log-probability over folds and axes);
- all axes at once with the classifiers of the trajectory's dimension (trained on 2D/3D shards: the
  workflow's reading);
- the same, with alpha's constraint: attm and ctrw occur only at alpha <= 1 and lw only at alpha > 1
  (the challenge's class table), so, as AnDi-J does, their probabilities are multiplied by P(alpha <= 1)
  or P(alpha > 1), here the mean over folds and axes of the alpha members' distributions over the grid.

Prints micro-F1 per dimension and length bucket and the negative log-likelihood of the true model for
each reading, then what each true 2D/3D model is taken for.

    python benchmarks/classifier_readings.py convlstm-cpu/results/models --max-length 649

`models` is a workflow's results/models: alpha's 1D networks alpha/1D/L<length>/fold<k>.pt (distribution
output) and the diffusion_model task's classifiers diffusion_model/<d>D/L<length>/fold<k>.pt; the lengths
trained for all of them are used, and the network of the nearest smaller one reads each trajectory whole.
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from andiflow import settings
from andiflow.manifest import networks_of
from andiflow.normalize import zscore
from andiflow.simulate import Recipe, challenge_set
from andiflow.tasks import MODELS

EDGES = (10, 50, 100, 200, 500, 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", help="a workflow's results/models: alpha/1D/ and diffusion_model/<d>D/")
    parser.add_argument("--n", type=int, default=600, help="trajectories per dimension")
    parser.add_argument("--max-length", type=int, default=999)
    args = parser.parse_args()
    torch.set_num_threads(1)
    folder = Path(args.models)
    alpha = networks_of(folder, "alpha", 1)
    classifiers = {d: networks_of(folder, "diffusion_model", d) for d in (1, 2, 3)}
    lengths = sorted(set(alpha).intersection(*(set(c) for c in classifiers.values())))
    grid = alpha[lengths[0]][0].grid.numpy()

    def run(members, series):
        """The mean over the members of the nearest smaller length of what `read` gives for series."""
        x = torch.from_numpy(zscore(series)[None] if series.ndim == 1 else zscore(series))
        with torch.inference_mode():
            return [m(x) if m.output == "classes" else torch.softmax(m.logits(x), -1) for m in members[nearest(series)]]

    def nearest(series):
        return max(L for L in lengths if L <= series.shape[-1])

    def per_axis(t):
        return np.mean([np.mean([out[0].numpy() for out in run(classifiers[1], a)], axis=0) for a in t], axis=0)

    def all_axes(t):
        series = t[0] if len(t) == 1 else t[None]
        return np.mean([out[0].numpy() for out in run(classifiers[len(t)], series)], axis=0)

    def p_subdiffusive(t):
        p = np.mean([out.numpy() for out in run(alpha, t)], axis=(0, 1))  # over folds and axes
        return p[grid <= 1].sum()

    recipe = Recipe.from_settings(settings.resolve()["data"])
    trajectories, dims, _, models = challenge_set(args.n, (1, 2, 3), 10, args.max_length, 2020, "intervals", recipe)
    dims, true = np.array(dims), np.array([MODELS.index(m) for m in models])
    size = np.array([t.shape[1] for t in trajectories])
    by_axis = probabilities([per_axis(t) for t in trajectories])
    by_dim = probabilities([all_axes(t) for t in trajectories])
    sub = np.array([p_subdiffusive(t) for t in trajectories])
    constrained = by_dim * np.stack([sub, sub, np.ones_like(sub), 1 - sub, np.ones_like(sub)], axis=1)
    constrained /= constrained.sum(axis=1, keepdims=True)

    print(f"# benchmarks/classifier_readings.py {args.models}: {args.n} per dimension, 10-{args.max_length} points")
    print(f"# trained lengths used: {', '.join(map(str, lengths))}")
    edges = [e for e in EDGES if e <= args.max_length] + [args.max_length + 1]
    buckets = [(low, high - 1) for low, high in zip(edges, edges[1:])]
    header = ["all", "1D", "2D", "3D", *(f"{a}-{b}" for a, b in buckets), "NLL"]
    print(f"{'micro-F1':<40} " + " ".join(f"{h:>7}" for h in header))
    readings = {
        "axis by axis, 1D classifiers": by_axis,
        "all axes, classifiers of the dimension": by_dim,
        "  and alpha's constraint": constrained,
    }
    for name, p in readings.items():
        right = p.argmax(axis=1) == true
        cells = [right.mean(), *(right[dims == d].mean() for d in (1, 2, 3))]
        cells += [right[(size >= a) & (size <= b)].mean() for a, b in buckets]
        cells.append(-np.mean(np.log(p[np.arange(len(true)), true] + 1e-12)))
        print(f"{name:<40} " + " ".join(f"{c:7.4f}" for c in cells))
    for name, p in list(readings.items())[:2]:
        print(f"\n2D/3D, {name}: what each true model is taken for")
        guess = p.argmax(axis=1)
        for k, model in enumerate(MODELS):
            rows = (true == k) & (dims > 1)
            taken = " ".join(f"{other} {np.mean(guess[rows] == j):.2f}" for j, other in enumerate(MODELS))
            print(f"  true {model:<5} {taken}")


def probabilities(log_p) -> np.ndarray:
    p = np.exp(np.array(log_p))
    return p / p.sum(axis=1, keepdims=True)


if __name__ == "__main__":
    main()
