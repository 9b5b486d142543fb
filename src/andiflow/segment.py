"""From the segments networks' per-frame outputs to segments, numpy only: changepoints where the
probability of a new segment peaks, then each segment's alpha, K and state; and the 2024 challenge's
lines of segments.

A frame's outputs (framewise.py) are P(changepoint), alpha, log10 K and P(state) for the 4 states.
Peaks above `threshold`, taken from the highest down, each at least `gap` frames from those taken and
from the track's ends, are the changepoints; both settings are tuned on a validation set
(segments_score.tune), never on a test set. A segment's state is the most probable on average over
its frames, its alpha and log10 K the medians over them (frames beside a change the peaks missed pull
a mean; benchmarks/segments_decoding.py); an immobile segment's alpha is 0, as the challenge labels
it, and its K the network's, however small (a slow segment called immobile keeps a K of its size).
Its intervals are its value plus or minus the calibrated half-width of segments of its length
(`Intervals`), alpha's clipped to ALPHA_RANGE.

The networks learnt their state probabilities under the training recipe's mix of states; a file (one
experiment, one condition) has its own. Read by the file's mix (`file_mix`), each segment's mean
probabilities are weighed by the ratio of that mix to the training one before its state is taken.
"""

from dataclasses import dataclass

import numpy as np

STATES = ("immobile", "confined", "free", "directed")  # phenom.STATES, the challenge's 0..3
ALPHA_RANGE = (0.0, 2.0)  # a segment's alpha and its interval are clipped to it
LENGTH_EDGES = (0, 10, 20, 40, 80, 201, 10**9)  # segment lengths the intervals are calibrated by
MIX_WEIGHT = 100  # segments the training mix counts as in a file's (benchmarks/segments_priors.py)


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


def bounds(frames: np.ndarray, threshold: float, gap: int) -> list[tuple[int, int]]:
    """(first frame, end) of each segment of one track, from its per-frame outputs [T, 7]."""
    cuts = [0, *changepoints(frames[:, 0], threshold, gap), len(frames)]
    return list(zip(cuts[:-1], cuts[1:]))


def segments_of(frames: np.ndarray, threshold: float, gap: int, weights=None) -> list[Segment]:
    """The segments of one track from its per-frame outputs [T, 7]; `weights` (per state, the file's
    mix over the training one) weigh the mean state probabilities where given."""
    found = []
    for first, end in bounds(frames, threshold, gap):
        part = frames[first:end]
        p = part[:, 3:].mean(0)
        state = int((p if weights is None else p * weights).argmax())
        alpha = 0.0 if state == 0 else float(np.clip(np.median(part[:, 1]), *ALPHA_RANGE))
        found.append(Segment(first, end - 1, alpha, float(np.median(part[:, 2])), state))
    return found


def state_probabilities(frames: list, threshold: float, gap: int) -> np.ndarray:
    """The mean state probabilities [n, 4] of the n segments of tracks' per-frame outputs [T, 7]."""
    return np.array([f[a:b, 3:].mean(0) for f in frames for a, b in bounds(f, threshold, gap)]).reshape(-1, 4)


def file_mix(p: np.ndarray, training: np.ndarray, weight: float = MIX_WEIGHT, rounds: int = 200) -> np.ndarray:
    """The mix of states of a file's segments from their mean state probabilities p [n, 4], which the
    networks learnt under the `training` mix: by EM (Saerens, Latinne & Decaestecker 2002, each
    segment's probabilities reweighed by the ratio of the mixes, the file's mix their mean), the
    training mix counting as `weight` segments more, so that a few segments move it little."""
    mix = training
    for _ in range(rounds):
        q = p * (mix / training)
        q /= q.sum(1, keepdims=True)
        new = (q.sum(0) + weight * training) / (len(p) + weight)
        if np.abs(new - mix).max() < 1e-7:
            return new
        mix = new
    return mix


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
