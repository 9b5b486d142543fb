"""Whether alpha's constraint on the diffusion model helps the model task, measured on a validation
set (the interval set's seed, not the test set's). attm and ctrw only occur at alpha <= 1 and lw only
at alpha > 1 (the challenge's class table); AnDi-J multiplies its class probabilities by its alpha
network's P(alpha <= 1) or P(alpha > 1). Here P(alpha <= 1) is the mean over folds and axes of the
alpha members' distribution over the grid (model.output: distribution), and the classes are those of
each dimension's classifiers. Prints micro-F1 per dimension and length bucket, without and with the
constraint, and the negative log-likelihood of the true model.

    python benchmarks/model_constraint.py convlstm-cpu/results/models --max-length 199

`models` holds the alpha models (L<length>/fold<k>.pt) and the classifiers (model/<d>D/...); the
lengths trained for both, in every dimension, are used; the model of the nearest smaller one reads
each trajectory whole.
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from andiflow import settings
from andiflow.model import load_by_length
from andiflow.normalize import zscore
from andiflow.simulate import Recipe, challenge_set
from andiflow.tasks import MODELS

EDGES = (10, 50, 100, 200, 500, 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", help="a models folder: alpha's L<length>/ and the model task's model/<d>D/")
    parser.add_argument("--n", type=int, default=600, help="trajectories per dimension")
    parser.add_argument("--max-length", type=int, default=999)
    args = parser.parse_args()
    torch.set_num_threads(1)
    folder = Path(args.models)
    alpha = load_by_length(folder)
    classifiers = {d: load_by_length(folder / "model" / f"{d}D") for d in (1, 2, 3)}
    lengths = sorted(set(alpha).intersection(*(set(c) for c in classifiers.values())))
    grid = alpha[lengths[0]][0].grid.numpy()

    def nearest(series):
        return max(L for L in lengths if L <= series.shape[-1])

    def p_subdiffusive(t):
        """P(alpha <= 1): the alpha members' distributions over the grid, averaged over folds and axes."""
        x = torch.from_numpy(zscore(t))
        with torch.inference_mode():
            p = np.mean([torch.softmax(m.logits(x), -1).numpy() for m in alpha[nearest(t)]], axis=(0, 1))
        return p[grid <= 1].sum()

    def log_p(t):
        x = torch.from_numpy(zscore(t[0] if len(t) == 1 else t)[None])
        with torch.inference_mode():
            return np.mean([m(x)[0].numpy() for m in classifiers[len(t)][nearest(t)]], axis=0)

    recipe = Recipe.from_settings(settings.complete()["data"])
    trajectories, dims, _, models = challenge_set(args.n, (1, 2, 3), 10, args.max_length, 2020, "intervals", recipe)
    dims, true = np.array(dims), np.array([MODELS.index(m) for m in models])
    size = np.array([t.shape[1] for t in trajectories])
    p = np.exp([log_p(t) for t in trajectories])
    p /= p.sum(axis=1, keepdims=True)
    sub = np.array([p_subdiffusive(t) for t in trajectories])
    weight = np.stack([sub, sub, np.ones_like(sub), 1 - sub, np.ones_like(sub)], axis=1)  # attm ctrw fbm lw sbm
    constrained = p * weight
    constrained /= constrained.sum(axis=1, keepdims=True)
    print(f"# benchmarks/model_constraint.py {args.models}: {args.n} per dimension, 10-{args.max_length} points")
    print(f"# trained lengths used: {', '.join(map(str, lengths))}")
    edges = [e for e in EDGES if e <= args.max_length] + [args.max_length + 1]
    buckets = [(low, high - 1) for low, high in zip(edges, edges[1:])]
    header = ["all", "1D", "2D", "3D", *(f"{a}-{b}" for a, b in buckets)]
    print(f"{'':<24} " + " ".join(f"{h:>7}" for h in header) + "  NLL")
    for name, probabilities in (("classifiers alone", p), ("with alpha's constraint", constrained)):
        right = probabilities.argmax(axis=1) == true
        cells = [right.mean(), *(right[dims == d].mean() for d in (1, 2, 3))]
        cells += [right[(size >= a) & (size <= b)].mean() for a, b in buckets]
        nll = -np.mean(np.log(probabilities[np.arange(len(true)), true] + 1e-12))
        print(f"{name:<24} " + " ".join(f"{c:7.4f}" for c in cells) + f"  {nll:.4f}")


if __name__ == "__main__":
    main()
