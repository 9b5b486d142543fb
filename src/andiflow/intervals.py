"""Calibrated intervals for alpha (beyond HNU): split-conformal calibration on a held-out
challenge-style set of 1D, 2D and 3D trajectories.

The held-out set's residuals (true - predicted alpha) are kept sorted per group: dimension x length
bucket, and, with `spread_bins` > 1, x bin of the ensemble's spread (edges at the spread's quantiles
within the dimension and length bucket). The central interval at level P of a new prediction of a
group with n residuals is [alpha + r_(i), alpha + r_(j)], the order statistics i = floor((n+1)(1-P)/2)
and j = ceil((n+1)(1+P)/2): each side misses at most (1-P)/2 of the time when the new trajectory is
drawn like the held-out ones. Where a group has too few residuals for P, the interval is the whole
clip range; a track longer than the last length bucket is given that bucket's interval. Intervals
are clipped to that range, which holds every true alpha.
"""

import math

import numpy as np

from andiflow.buckets import bucket_names, length_buckets


def fit(pred, true, dims, lengths, spread, length_edges, spread_bins: int = 1) -> dict:
    """The interval table of a held-out set (predictions already scaled and clipped)."""
    pred, true, spread = map(np.asarray, (pred, true, spread))
    buckets = length_buckets(lengths, length_edges)
    table = {"length_edges": list(length_edges), "spread_bins": spread_bins, "spread_edges": {}, "residuals": {}}
    for dim, bucket in sorted(set(zip(np.asarray(dims).tolist(), buckets.tolist()))):
        rows = (np.asarray(dims) == dim) & (buckets == bucket)
        edges = np.quantile(spread[rows], np.linspace(0, 1, spread_bins + 1)[1:-1]).round(6).tolist()
        table["spread_edges"][f"{dim}|{bucket}"] = edges
        bins = np.searchsorted(edges, spread[rows], side="right")
        for b in range(spread_bins):
            residuals = np.sort(true[rows][bins == b] - pred[rows][bins == b])
            table["residuals"][_key(dim, bucket, b)] = residuals.round(4).tolist()
    return table


def interval(table: dict, pred, dims, lengths, spread, level: float, clip) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of each prediction at level P, from its group's residuals."""
    pred, spread = np.asarray(pred, dtype=float), np.asarray(spread, dtype=float)
    low, high = np.full(len(pred), float(clip[0])), np.full(len(pred), float(clip[1]))
    # a track longer than the last bucket takes its residuals: more points, a smaller error, so the
    # interval errs on the wide side instead of saying nothing ([clip])
    edges = table["length_edges"]
    buckets = length_buckets(np.minimum(lengths, edges[-1] - 1), edges)
    ranks_of = {}  # a group's ranks, found once for all its predictions
    for i, (dim, bucket) in enumerate(zip(np.asarray(dims).tolist(), buckets.tolist())):
        edges = table["spread_edges"].get(f"{dim}|{bucket}")
        if edges is None:
            continue
        key = _key(dim, bucket, int(np.searchsorted(edges, spread[i], side="right")))
        residuals = table["residuals"][key]
        if key not in ranks_of:
            ranks_of[key] = order_statistics(residuals, level)
        ranks = ranks_of[key]
        if ranks:
            low[i], high[i] = pred[i] + residuals[ranks[0] - 1], pred[i] + residuals[ranks[1] - 1]
    # rounded as the residuals are: an end on a residual of the held-out set holds that value exactly
    return np.clip(low.round(4), *clip), np.clip(high.round(4), *clip)


def order_statistics(residuals: list, level: float) -> tuple[int, int] | None:
    """The ranks (1-based) of the interval's ends among n sorted residuals, None if n is too small for
    the level. Split-conformal ranks i = floor((n+1)(1-P)/2) and j = ceil((n+1)(1+P)/2). But alpha's
    grid makes residuals discrete, and an end on a run of equal residuals holds the whole run, which on
    long tracks (few distinct errors) covered 93-94% at P = 0.9. So an end in a run may move just past
    it: of the (at most four) choices, the one whose left-out share of the held-out set is nearest 1-P,
    the conformal ranks where that is a tie."""
    n = len(residuals)
    # rounded first: (1 - 0.9) / 2 is 0.04999... in floating point
    i, j = math.floor(round((n + 1) * (1 - level) / 2, 9)), math.ceil(round((n + 1) * (1 + level) / 2, 9))
    if i < 1 or j > n:
        return None
    below, above = _run(residuals, i), _run(residuals, j)  # (first, last) rank of each end's run
    # (rank, residuals left out on its side): the conformal end holds the run, the other leaves it out
    lows = [(i, below[0] - 1)] + ([(below[1] + 1, below[1])] if below[1] > below[0] else [])
    highs = [(j, n - above[1])] + ([(above[0] - 1, n - above[0] + 1)] if above[1] > above[0] else [])
    pairs = [(lo, hi) for lo in lows for hi in highs if lo[0] <= hi[0]]
    lo, hi = min(pairs, key=lambda pair: abs(pair[0][1] + pair[1][1] - n * (1 - level)))
    return lo[0], hi[0]


def _run(residuals: list, rank: int) -> tuple[int, int]:
    """First and last rank (1-based) of the residuals equal to the one at `rank`."""
    value = residuals[rank - 1]
    return int(np.searchsorted(residuals, value, "left")) + 1, int(np.searchsorted(residuals, value, "right"))


def coverage(low, high, true, dims, lengths, length_edges) -> dict:
    """Share of true alphas inside their interval, and mean width, overall, per dimension and per
    length bucket."""
    low, high, true = map(np.asarray, (low, high, true))
    inside, width = (low <= true) & (true <= high), high - low
    buckets = length_buckets(lengths, length_edges)

    def cell(rows):
        return {
            "n": int(rows.sum()),
            "coverage": round(float(inside[rows].mean()), 4),
            "width": round(float(width[rows].mean()), 4),
        }

    dims = np.asarray(dims)
    return {
        "all": cell(np.ones(len(true), bool)),
        "by_dim": {str(d): cell(dims == d) for d in sorted(set(dims.tolist()))},
        "by_length": {b: cell(buckets == b) for b in bucket_names(length_edges) if (buckets == b).any()},
    }


def _key(dim, bucket, spread_bin) -> str:
    return f"{dim}|{bucket}|{spread_bin}"


def calibrate(pred, true, dims, lengths, spread, section: dict, clip) -> dict:
    """The interval table of a held-out set for the `intervals` section, with the measurement behind
    `spread_bins`: coverage and mean width on the odd rows of tables fitted on the even rows, for 1
    and 3 spread bins (and the configured number)."""
    pred, true, dims, lengths, spread = map(np.asarray, (pred, true, dims, lengths, spread))
    edges, level = section["length_edges"], section["level"]
    even, odd = np.arange(len(true)) % 2 == 0, np.arange(len(true)) % 2 == 1
    split = {}
    for bins in sorted({1, 3, section["spread_bins"]}):
        half = fit(pred[even], true[even], dims[even], lengths[even], spread[even], edges, bins)
        low, high = interval(half, pred[odd], dims[odd], lengths[odd], spread[odd], level, clip)
        split[str(bins)] = coverage(low, high, true[odd], dims[odd], lengths[odd], edges)
    table = fit(pred, true, dims, lengths, spread, edges, section["spread_bins"])
    return dict(table, level=level, n=int(len(true)), split_halves=split)
