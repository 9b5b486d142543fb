"""What moves the coverage of long-track intervals, measured on fresh long-track sets (the calibration
set's seed stage, other seeds: validation data, not the test set). The workflow's interval set is
predicted and an interval table fitted on it for each reading, as `andiflow-step intervals` does:

- grid medians: groups of dimension and length bucket; alpha is the mean of the members' grid medians
  (as shipped until infer.median: interpolated);
- groups of dimension, length bucket and the diffusion model the ensemble's classifiers (the
  diffusion_model task's) predict;
- each member's grid median replaced by its interpolated median (the grouped-data median of its
  distribution over the grid, `infer.median: interpolated`: continuous, so the residuals have no
  ties), groups of dimension and length bucket;
- both: interpolated medians, groups by predicted model.

Prints MAE, and the 90% intervals' coverage, overall, per dimension and per true diffusion model (how
much the coverage of a set hangs on its mix of models), and their mean width, on each set.

    python benchmarks/interval_groups.py convlstm-cpu/results/models --sets 300:2020 1000:11 1000:12

`models` is a workflow's results/models (its manifest.json, alpha/ and diffusion_model/); the interval set,
its interval table's length edges and the scale are read from the same results folder. One thread, PyTorch.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from andiflow import andi_io, settings
from andiflow.ensemble import Ensemble, finish
from andiflow.intervals import fit, interval
from andiflow.simulate import Recipe, challenge_set
from andiflow.tasks import MODELS

LEVEL, CLIP = 0.9, (0.05, 2.0)


def read_by(median: str, manifest) -> Ensemble:
    """The ensemble with each distribution member read out by its `median` (heads.MEDIANS), in PyTorch."""
    return Ensemble.load(manifest, backend="torch", median=median)


def read(ens: Ensemble, trajectories, scale: float) -> tuple[np.ndarray, np.ndarray]:
    raw = ens.raw_alpha(trajectories)
    return finish(raw["alpha"], scale, CLIP), raw["spread"] * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", help="a workflow's results/models folder")
    parser.add_argument("--sets", nargs="+", default=["300:2020", "1000:11", "1000:12"], help="N_PER_DIM:SEED")
    parser.add_argument("--min-length", type=int, default=1000)
    parser.add_argument("--max-length", type=int, default=5000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = Path(args.models).parent
    manifest = Path(args.models) / "manifest.json"
    ens = Ensemble.load(manifest, backend="torch")
    scale = json.loads((results / "calibrate" / "scale.json").read_text())["scale"]
    edges = json.loads((results / "intervals" / "intervals.json").read_text())["length_edges"]
    held_out = andi_io.read_trajectories(results / "sets" / "intervals" / "task1.txt")
    dims, true, _ = andi_io.read_reference(results / "sets" / "intervals" / "ref1.txt")
    recipe = Recipe.from_settings(settings.resolve()["data"])
    sets = []
    for spec in args.sets:
        n, seed = map(int, spec.split(":"))
        trajectories, d, a, m = challenge_set(
            n, [1, 2, 3], args.min_length, args.max_length, seed, "calibration", recipe
        )
        sets.append((spec, trajectories, np.array(d), np.array(a), np.array(m), _predicted(ens, trajectories)))
    print(
        f"# benchmarks/interval_groups.py {args.models}: interval set {len(held_out)} trajectories; sets "
        + " ".join(args.sets)
    )
    columns = " ".join(f"{c:>6}" for c in ("MAE", "1D", "2D", "3D")) + " | "
    columns += " ".join(f"{c:>6}" for c in ("cover", "1D", "2D", "3D", *MODELS)) + " | width"
    print(f"{'reading':<24} {'set':<9} {columns}")
    held_model = _predicted(ens, held_out)
    readings = {median: read_by(median, manifest) for median in ("grid", "interpolated")}  # each read once
    reads = {
        median: [read(reader, held_out, scale)] + [read(reader, s[1], scale) for s in sets]
        for median, reader in readings.items()
    }
    for name, median, by_model in (
        ("grid medians", "grid", False),
        ("by predicted model", "grid", True),
        ("interpolated median", "interpolated", False),
        ("interpolated, by model", "interpolated", True),
    ):
        (alpha, spread), *on_sets = reads[median]
        table = fit(alpha, true, _groups(dims, held_model, by_model), _lengths(held_out), spread, edges)
        for (spec, trajectories, d, a, true_model, model), (pred, sp) in zip(sets, on_sets):
            low, high = interval(table, pred, _groups(d, model, by_model), _lengths(trajectories), sp, LEVEL, CLIP)
            err, inside = np.abs(pred - a), (low <= a) & (a <= high)
            cells = [err.mean(), *(err[d == k].mean() for k in (1, 2, 3))]
            cover = [inside.mean(), *(inside[d == k].mean() for k in (1, 2, 3))]
            cover += [inside[true_model == kind].mean() for kind in MODELS]
            print(
                f"{name:<24} {spec:<9} "
                + " ".join(f"{c:6.4f}" for c in cells)
                + " | "
                + " ".join(f"{c:6.3f}" for c in cover)
                + f" | {np.mean(high - low):.3f}",
                flush=True,
            )


def _predicted(ens: Ensemble, trajectories) -> np.ndarray:
    return ens.predict_proba(trajectories).argmax(axis=1)


def _groups(dims, models, by_model: bool) -> np.ndarray:
    """The interval table's dimension key, with the predicted model folded in (10 d + model index)."""
    return 10 * np.asarray(dims) + np.asarray(models) if by_model else np.asarray(dims)


def _lengths(trajectories) -> list[int]:
    return [t.shape[1] for t in trajectories]


if __name__ == "__main__":
    main()
