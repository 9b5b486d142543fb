"""Classical baselines of the segments task, scored as the ensemble is (segments_score.evaluate, the
2024 challenge's scorer), on the workflow's test sets:

- whole track: one segment, alpha and K from a fit of the time-averaged MSD (lags 1 to a quarter of
  the track, at most 10: log MSD = log(4 K) + alpha log lag, 2D), state free;
- true changepoints: the reference's changepoints, the same fit on each segment.

    python benchmarks/segments_baselines.py segments-cpu/results/sets/segments_test_defaults ...

Results: benchmarks/results/segments_baselines.txt.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

from andiflow import segment, segments_score, tracks


def msd_fit(xy: np.ndarray) -> tuple[float, float]:
    """(alpha, K) of positions [2, T] from the TA-MSD over lags 1..min(10, max(2, T // 4))."""
    if xy.shape[1] < 2:  # a one-point segment (a window cut just after a changepoint): nothing to fit
        return 1.0, 1e-3
    lags = np.arange(1, min(10, max(2, xy.shape[1] // 4)) + 1)
    lags = lags[lags < xy.shape[1]]
    msd = np.array([np.mean(np.sum((xy[:, lag:] - xy[:, :-lag]) ** 2, axis=0)) for lag in lags])
    if len(lags) < 2:
        return 1.0, float(msd[0] / 4)
    slope, intercept = np.polyfit(np.log(lags), np.log(np.maximum(msd, 1e-12)), 1)
    return float(np.clip(slope, 0, 2)), float(np.exp(intercept) / 4)


def lines(found, truth: dict, use_truth: bool) -> list[str]:
    out = []
    for pid, xy in zip(found.particles, found.trajectories):
        T = xy.shape[1]
        cps = truth[pid][0] if use_truth else []
        cuts = [0, *cps, T]
        parts = []
        for a, b in zip(cuts[:-1], cuts[1:]):
            alpha, k = msd_fit(xy[:, a:b])
            parts.append(segment.Segment(a, b - 1, alpha, np.log10(max(k, 1e-12)), 2))
        out.append(segment.challenge_line(pid, parts, T))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sets", nargs="+", help="test set folders (trajs_fov_0.csv, traj_labs_fov_0.txt, experiments.csv)")
    args = p.parse_args()
    for folder in map(Path, args.sets):
        found = tracks.read_tracks(folder / "trajs_fov_0.csv")
        truth = segment.read_challenge_lines(folder / "traj_labs_fov_0.txt")
        for name, use_truth in (("whole track, TA-MSD fit", False), ("true changepoints, TA-MSD fit", True)):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "pred.txt"
                path.write_text("".join(line + "\n" for line in lines(found, truth, use_truth)))
                scores = segments_score.evaluate(path, folder / "traj_labs_fov_0.txt", folder / "experiments.csv")
            print(f"## {folder.name}: {name}")
            print(segments_score.summary(scores))
            print()


if __name__ == "__main__":
    main()
