"""From the segments networks' per-frame outputs to segments, numpy only: changepoints where the
probability of a new segment peaks, then each segment's alpha, K and state; and the 2024 challenge's
lines of segments.

A frame's outputs (framewise.py) are P(changepoint), alpha, log10 K and P(state) for the 4 states.
Peaks above `threshold`, taken from the highest down, each at least `gap` frames from those taken and
from the track's ends, are the changepoints; both settings are tuned on a validation set (`tune`), never
on a test set. A segment's alpha and log10 K are the means over its frames, its state the most probable
on average. Its intervals are its value plus or minus the calibrated half-width of segments of its
length (`Intervals`), alpha's clipped to ALPHA_RANGE.
"""

from dataclasses import dataclass

import numpy as np

STATES = ("immobile", "confined", "free", "directed")  # phenom.STATES, the challenge's 0..3
ALPHA_RANGE = (0.0, 2.0)  # a segment's alpha and its interval are clipped to it
THRESHOLDS = np.round(np.arange(0.1, 0.8, 0.05), 2)  # what tune tries
GAPS = (2, 3, 4, 5, 7)
LENGTH_EDGES = (0, 10, 20, 40, 80, 201, 10**9)  # segment lengths the intervals are calibrated by


@dataclass(frozen=True)
class Segment:
    first: int  # frame index (from the track's first frame, 0) where it starts
    last: int  # its last frame, inclusive
    alpha: float
    log10_k: float
    state: int  # into STATES

    @property
    def points(self) -> int:
        return self.last - self.first + 1


def changepoints(p: np.ndarray, threshold: float, gap: int) -> list[int]:
    """Frames (ascending) where a new segment starts, from P(changepoint) at each frame of a track."""
    peaks = np.flatnonzero((p[1:-1] >= threshold) & (p[1:-1] >= p[:-2]) & (p[1:-1] >= p[2:])) + 1
    taken: list[int] = []
    for frame in peaks[np.argsort(-p[peaks], kind="stable")]:
        if frame < gap or len(p) - frame < gap:
            continue
        if all(abs(frame - other) >= gap for other in taken):
            taken.append(int(frame))
    return sorted(taken)


def segments_of(frames: np.ndarray, threshold: float, gap: int) -> list[Segment]:
    """The segments of one track from its per-frame outputs [T, 7]."""
    cuts = [0, *changepoints(frames[:, 0], threshold, gap), len(frames)]
    found = []
    for first, end in zip(cuts[:-1], cuts[1:]):
        part = frames[first:end]
        alpha = float(np.clip(part[:, 1].mean(), *ALPHA_RANGE))
        found.append(Segment(first, end - 1, alpha, float(part[:, 2].mean()), int(part[:, 3:].mean(0).argmax())))
    return found


def challenge_line(idx, segments: list[Segment], length: int) -> str:
    """`idx, K1, alpha1, state1, CP1, ..., Kn, alphan, staten, T`: the 2024 challenge's line of a
    track, K as given (px^2/frame^alpha for the challenge's files), changepoints from its first frame."""
    values = [str(idx)]
    for k, s in enumerate(segments):
        values += [_number(10**s.log10_k), _number(s.alpha), str(s.state)]
        values.append(str(segments[k + 1].first if k + 1 < len(segments) else length))
    return ",".join(values)


def _number(x: float) -> str:
    return f"{x:.6g}"


def read_challenge_lines(path) -> dict:
    """idx -> (changepoints, alphas, Ks, states, T) of a challenge file of segments (as written by
    challenge_line, the reference's format too)."""
    found = {}
    for number, line in enumerate(open(path), 1):
        values = [v for v in line.strip().split(",") if v.strip()]
        if not values:
            continue
        if (len(values) - 1) % 4:
            raise ValueError(f"{path}, line {number}: not idx followed by K, alpha, state, changepoint groups")
        groups = np.array(values[1:], dtype=float).reshape(-1, 4)
        found[int(float(values[0]))] = (
            groups[:-1, 3].astype(int).tolist(),
            groups[:, 1].tolist(),
            groups[:, 0].tolist(),
            groups[:, 2].astype(int).tolist(),
            int(groups[-1, 3]),
        )
    return found


def match_changepoints(true: list[int], found: list[int], threshold: float = 10) -> tuple[int, int, int, list]:
    """(true positives, false positives, false negatives, the distances of the matches): changepoints
    paired one to one by the least total distance (the challenge's Hungarian assignment), a pair
    counting when less than `threshold` frames apart."""
    if not true or not found:
        return 0, len(found), len(true), []
    from scipy.optimize import linear_sum_assignment

    cost = np.abs(np.subtract.outer(np.asarray(true, float), np.asarray(found, float)))
    rows, cols = linear_sum_assignment(cost)
    hits = cost[rows, cols][cost[rows, cols] < threshold]
    return len(hits), len(found) - len(hits), len(true) - len(hits), hits.tolist()


def jaccard(true: list[list[int]], found: list[list[int]]) -> float:
    """The challenge's changepoint Jaccard index, TP / (TP + FP + FN) over a set of tracks (1 for a
    set without changepoints in both)."""
    tp = fp = fn = 0
    for t, f in zip(true, found):
        a, b, c, _ = match_changepoints(t, f)
        tp, fp, fn = tp + a, fp + b, fn + c
    return tp / (tp + fp + fn) if tp + fp + fn else 1.0


def tune(outputs: list[np.ndarray], true: list[list[int]]) -> dict:
    """The threshold and gap (of THRESHOLDS, GAPS) with the highest changepoint Jaccard index on a
    validation set's outputs and true changepoints, and that index."""
    best = None
    for gap in GAPS:
        for threshold in THRESHOLDS:
            found = [changepoints(o[:, 0], threshold, gap) for o in outputs]
            score = jaccard(true, found)
            if best is None or score > best["jaccard"]:
                best = {"threshold": float(threshold), "gap": gap, "jaccard": score}
    return best


class Intervals:
    """Central intervals of segment alpha and log10 K: the value plus or minus the `level` quantile of
    the absolute error that validation segments of the same length bucket (LENGTH_EDGES) made."""

    def __init__(self, table: dict):
        self.table = table  # {"level", "edges", "alpha": [half-width per bucket], "log10_k": [...]}

    @classmethod
    def calibrate(cls, points, alpha_error, log10_k_error, level: float) -> "Intervals":
        """From matched validation segments: their lengths and absolute errors (NaN where a segment has
        no K, immobile)."""
        bucket = np.digitize(points, LENGTH_EDGES) - 1
        table = {"level": level, "edges": list(LENGTH_EDGES)}
        for name, errors in (("alpha", np.asarray(alpha_error)), ("log10_k", np.asarray(log10_k_error))):
            widths, everything = [], np.nanquantile(errors, level)
            for b in range(len(LENGTH_EDGES) - 1):
                inside = errors[(bucket == b) & ~np.isnan(errors)]
                widths.append(float(np.quantile(inside, level)) if len(inside) >= 20 else float(everything))
            table[name] = widths
        return cls(table)

    def half_width(self, name: str, points: int) -> float:
        bucket = int(np.clip(np.digitize(points, self.table["edges"]) - 1, 0, len(self.table[name]) - 1))
        return self.table[name][bucket]
