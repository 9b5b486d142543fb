"""What more members, or the square's symmetries at prediction, would give the segments ensemble: the
validation set read by each fold alone, by all folds, and by all folds on each track's 8 mirror images
and quarter turns (outputs averaged; the networks read per-axis steps, so they need not be invariant).
Each reading gets its own segmentation tuned on the set (as the ensemble's was), then the challenge's
scorer (segments_score.evaluate). The validation set only: nothing here is tuned on a test set.

    python benchmarks/segments_readings.py src/andiflow/ensembles/segments-cpu \
        segments-cpu/results/sets/segments_validation_mixed

Results: benchmarks/results/segments_readings.txt.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from andiflow import segment, segments_score, tracks
from andiflow.segmenter import SegmentsEnsemble, xy

# (sign of x, sign of y, x and y swapped): the 8 symmetries of the square
SYMMETRIES = [(sx, sy, swap) for swap in (False, True) for sx in (1, -1) for sy in (1, -1)]


def image(t: np.ndarray, sx: int, sy: int, swap: bool) -> np.ndarray:
    x, y = (t[1], t[0]) if swap else (t[0], t[1])
    return np.stack([sx * x, sy * y])


def read(ens: SegmentsEnsemble, members: list, xys: list, symmetries: list) -> list[np.ndarray]:
    """Per-frame outputs of each track: the mean over members and symmetries."""
    ens.members = members
    outs = [ens.frames([image(t, *s) for t in xys]) for s in symmetries]
    return [np.mean(per_track, axis=0) for per_track in zip(*outs)]


def score(found, frames: list, truth: dict, folder: Path) -> tuple[dict, dict]:
    tuned = segments_score.tune(frames, [truth[pid][0] for pid in found.particles])
    lines = [
        segment.challenge_line(pid, segment.segments_of(out, tuned["threshold"], tuned["gap"]), t.shape[-1])
        for pid, out, t in zip(found.particles, frames, found.trajectories)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        predictions = Path(tmp) / "predictions.txt"
        predictions.write_text("\n".join(lines) + "\n")
        scores = segments_score.evaluate(predictions, folder / "traj_labs_fov_0.txt", folder / "experiments.csv")
    return tuned, scores["all"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ensemble", help="a segments ensemble's folder")
    parser.add_argument("validation", type=Path, help="a segments set's folder (trajs_fov_0.csv and its labels)")
    args = parser.parse_args()
    ens = SegmentsEnsemble.load(args.ensemble)
    found = tracks.read_tracks(args.validation / "trajs_fov_0.csv")
    truth = segment.read_challenge_lines(args.validation / "traj_labs_fov_0.txt")
    xys = [xy(t) for t in found.trajectories]
    members = list(ens.members)
    readings = [(f"fold {k} alone", [m], SYMMETRIES[:1]) for k, m in enumerate(members)]
    readings += [(f"{len(members)} folds", members, SYMMETRIES[:1])]
    readings += [(f"{len(members)} folds, 8 symmetries", members, SYMMETRIES)]
    print(f"# benchmarks/segments_readings.py {args.ensemble} {args.validation}: {len(xys)} tracks")
    print("| reading | seconds | threshold, gap | CP JSC | CP RMSE | alpha MAE | log10 K MAE | K MSLE | state F1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, chosen, symmetries in readings:
        start = time.process_time()
        frames = read(ens, chosen, xys, symmetries)
        seconds = time.process_time() - start
        tuned, s = score(found, frames, truth, args.validation)
        print(
            f"| {name} | {seconds:.1f} | {tuned['threshold']:.2f}, {tuned['gap']} | {s['jaccard']:.4f} | "
            f"{s['cp_rmse']:.3f} | {s['alpha_mae']:.4f} | {s['log10_k_mae']:.4f} | {s['k_msle']:.4f} | "
            f"{s['state_f1']:.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
