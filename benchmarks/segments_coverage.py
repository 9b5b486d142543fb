"""How often the segments ensemble's 90% intervals hold the truth, on the workflow's test sets: each
found segment against the true segment it overlaps most (as the intervals were calibrated on the
validation set), alpha's interval and K's (segments whose true K > 0), by segment length.

    python benchmarks/segments_coverage.py segments-cpu/results/segments/ensemble \
        segments-cpu/results/sets/segments_test_defaults segments-cpu/results/sets/segments_test_varied

Results: benchmarks/results/segments_coverage.txt.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from andiflow import segment, tracks
from andiflow.segmenter import SegmentsEnsemble
from andiflow.segments_score import overlapping_truth


def coverage(ens: SegmentsEnsemble, folder: Path) -> pd.DataFrame:
    found = tracks.read_tracks(folder / "trajs_fov_0.csv")
    truth = segment.read_challenge_lines(folder / "traj_labs_fov_0.txt")
    table = ens.table(found)  # positions in px, frames: K in px²/frame^alpha, as the labels
    rows = []
    for pid, group in table.dropna(subset=["alpha"]).groupby("particle", sort=False):
        first = group["first_frame"].iloc[0]
        parts = [
            segment.Segment(int(r.first_frame - first), int(r.last_frame - first), r.alpha, 0, 0)
            for r in group.itertuples()
        ]
        for r, (alpha, k) in zip(group.itertuples(), overlapping_truth(parts, truth[pid])):
            rows.append(
                dict(
                    points=r.points,
                    alpha_in=r.alpha_low <= alpha <= r.alpha_high,
                    k_in=(r.K_low <= k <= r.K_high) if k > 0 else np.nan,
                    alpha_width=r.alpha_high - r.alpha_low,
                )
            )
    return pd.DataFrame(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ensemble")
    p.add_argument("sets", nargs="+")
    args = p.parse_args()
    ens = SegmentsEnsemble.load(args.ensemble)
    print(f"# 90% intervals of {args.ensemble}: coverage of alpha and K (true K > 0), mean width of alpha's")
    print(f"{'set':28s} {'segments':>9s} {'points':>9s} {'alpha':>7s} {'K':>7s} {'width':>7s}")
    for folder in map(Path, args.sets):
        rows = coverage(ens, folder)
        buckets = pd.cut(rows["points"], [0, 10, 20, 40, 80, 201], right=False)
        for name, part in [("all", rows), *((str(b), g) for b, g in rows.groupby(buckets, observed=True))]:
            print(
                f"{folder.name:28s} {len(part):9d} {name:>9s} {part['alpha_in'].mean():7.3f} "
                f"{part['k_in'].mean():7.3f} {part['alpha_width'].mean():7.3f}"
            )


if __name__ == "__main__":
    main()
