"""Whether classifiers of the model task trained on 1D shards read 2D/3D trajectories axis by axis,
measured on a validation set (the interval set's seed, not the test set's): micro-F1 per dimension
and length bucket of the mean member log-probability over folds and axes; then, at 200-499 points,
the same from the x axis alone and what each true model is taken for.

    python benchmarks/classifier_axes.py convlstm-cpu/results/models/model --max-length 649

The model of the nearest smaller trained length reads each axis whole.
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from andiflow import settings
from andiflow.model import load_checkpoint
from andiflow.normalize import zscore
from andiflow.simulate import Recipe, challenge_set
from andiflow.tasks import MODELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", help="a folder of the model task's L<length>/fold<k>.pt")
    parser.add_argument("--n", type=int, default=600, help="trajectories per dimension")
    parser.add_argument("--max-length", type=int, default=999)
    args = parser.parse_args()
    torch.set_num_threads(1)
    members = {}
    for path in sorted(Path(args.models).glob("L*/fold*.pt")):
        members.setdefault(int(path.parent.name[1:]), []).append(load_checkpoint(path)[0])
    lengths = sorted(members)
    recipe = Recipe.from_settings(settings.complete()["data"])

    def log_p(axis):
        Tn = max(L for L in lengths if L <= len(axis))
        x = torch.from_numpy(zscore(axis)[None].astype(np.float32))
        with torch.inference_mode():
            return np.mean([m(x)[0].numpy() for m in members[Tn]], axis=0)

    def labelled(dims, low, high):
        trajectories, d, _, models = challenge_set(args.n, dims, low, high, 2020, "intervals", recipe)
        return trajectories, np.array(d), np.array([MODELS.index(m) for m in models])

    trajectories, dims, true = labelled([1, 2, 3], 10, args.max_length)
    right = np.array([np.mean([log_p(a) for a in t], axis=0).argmax() for t in trajectories]) == true
    lengths_of = np.array([t.shape[1] for t in trajectories])
    print(f"# benchmarks/classifier_axes.py {args.models}: {args.n} per dimension, 10-{args.max_length} points")
    print(f"micro-F1 all {right.mean():.4f} " + " ".join(f"{d}D {right[dims == d].mean():.4f}" for d in (1, 2, 3)))
    edges = [e for e in (10, 50, 100, 200, 500, 1000) if e <= args.max_length] + [args.max_length + 1]
    for low, high in zip(edges, edges[1:]):
        rows = (lengths_of >= low) & (lengths_of < high)
        print(f"  {low}-{high - 1} points: {right[rows].mean():.4f} (n={rows.sum()})")
    trajectories, dims, true = labelled([2, 3], 200, 499)
    first = np.array([log_p(t[0]).argmax() for t in trajectories])
    print(
        "200-499 points, the x axis alone: " + " ".join(f"{d}D {(first == true)[dims == d].mean():.3f}" for d in (2, 3))
    )
    for k, name in enumerate(MODELS):
        taken = " ".join(f"{other} {np.mean(first[true == k] == j):.2f}" for j, other in enumerate(MODELS))
        print(f"  true {name}: taken for {taken}")


if __name__ == "__main__":
    main()
