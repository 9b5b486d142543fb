"""How the model task's classifiers should read a 2D/3D trajectory, measured on a validation set (the
interval set's seed, not the test set's): axis by axis with the 1D classifiers (the mean member
log-probability over folds and axes), or all axes at once with the classifiers of its dimension
(trained on 2D/3D shards). Prints micro-F1 per dimension and length bucket for each reading, and
what each true model is taken for in 2D/3D.

    python benchmarks/classifier_axes.py convlstm-cpu/results/models/model --max-length 649

`models` holds 1D/, 2D/ and 3D/ folders of L<length>/fold<k>.pt; only lengths trained in every
dimension are used, and the model of the nearest smaller one reads each trajectory whole.
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
    parser.add_argument("models", help="the model task's folder, with 1D/, 2D/ and 3D/ inside")
    parser.add_argument("--n", type=int, default=600, help="trajectories per dimension")
    parser.add_argument("--max-length", type=int, default=999)
    args = parser.parse_args()
    torch.set_num_threads(1)
    members = {d: load_by_length(Path(args.models) / f"{d}D") for d in (1, 2, 3)}
    lengths = sorted(set.intersection(*(set(m) for m in members.values())))
    recipe = Recipe.from_settings(settings.complete()["data"])

    def log_p(of_dim, series):
        Tn = max(L for L in lengths if L <= series.shape[-1])
        x = torch.from_numpy(zscore(series)[None])
        with torch.inference_mode():
            return np.mean([m(x)[0].numpy() for m in of_dim[Tn]], axis=0)

    trajectories, dims, _, models = challenge_set(args.n, (1, 2, 3), 10, args.max_length, 2020, "intervals", recipe)
    dims, true = np.array(dims), np.array([MODELS.index(m) for m in models])
    size = np.array([t.shape[1] for t in trajectories])
    readings = {
        "axis by axis, 1D classifiers": [np.mean([log_p(members[1], a) for a in t], axis=0) for t in trajectories],
        "all axes, classifiers of the dimension": [
            log_p(members[len(t)], t[0] if len(t) == 1 else t) for t in trajectories
        ],
    }
    print(f"# benchmarks/classifier_axes.py {args.models}: {args.n} per dimension, 10-{args.max_length} points")
    print(f"# trained lengths used: {', '.join(map(str, lengths))}")
    for name, scores in readings.items():
        guess = np.array(scores).argmax(axis=1)
        right = guess == true
        print(f"\n## {name}")
        print(f"micro-F1 all {right.mean():.4f} " + " ".join(f"{d}D {right[dims == d].mean():.4f}" for d in (1, 2, 3)))
        edges = [e for e in EDGES if e <= args.max_length] + [args.max_length + 1]
        for low, high in zip(edges, edges[1:]):
            rows = (size >= low) & (size < high)
            print(f"  {low}-{high - 1} points: {right[rows].mean():.4f} (n={rows.sum()})")
        print("  2D/3D, what each true model is taken for:")
        for k, model in enumerate(MODELS):
            rows = (true == k) & (dims > 1)
            taken = " ".join(f"{other} {np.mean(guess[rows] == j):.2f}" for j, other in enumerate(MODELS))
            print(f"    true {model}: {taken}")


if __name__ == "__main__":
    main()
