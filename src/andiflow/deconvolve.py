"""The population a set of tracks comes from: where its alphas lie and how widely they spread, from
many tracks each too short to say much alone. Not yet a user's
answer: on simulated populations of one process the per-track likelihoods it reads are not calibrated
well enough (benchmarks/population.py); what it does is measured there.

Each track's alpha members give a likelihood over the alpha grid (Ensemble.alpha_likelihoods). The
population's alphas are taken as normally distributed, N(mean, sd) cut to the grid's range, and
(mean, sd) is the pair of a fine grid of candidates under which the tracks are most likely (the
likelihood of a track is its likelihood averaged over the population's alphas): so every track counts
as much as its own uncertainty allows, and its estimate is shrunk towards the population, not the
population's spread inflated by each track's error. The intervals are percentiles of the same fit
on the tracks resampled with replacement.
"""

import math
from functools import lru_cache

import numpy as np

MEANS = np.round(np.arange(0.0, 2.0501, 0.01), 2)  # candidate population means
SDS = np.round(np.arange(0.0, 0.8001, 0.01), 2)  # candidate population spreads (0: one alpha for all)
RESAMPLES = 200
CHUNK = 256  # tracks a pass: bounds memory to CHUNK x candidates


def alpha_population(likelihoods: np.ndarray, grid: np.ndarray, level=0.9, resamples=RESAMPLES, seed=0) -> dict:
    """mean, sd and the central `level` intervals of both (mean_low, mean_high, sd_low, sd_high) of the
    alphas of the population of tracks whose likelihoods over the grid are given [n, grid]."""
    fits = _fits(likelihoods, grid, _resampled(len(likelihoods), resamples, seed))
    means, sds = _candidate_moments(tuple(grid))
    q = [(1 - level) / 2, (1 + level) / 2]
    (mean_low, mean_high), (sd_low, sd_high) = np.quantile(means[fits[1:]], q), np.quantile(sds[fits[1:]], q)
    return dict(
        mean=float(means[fits[0]]),
        mean_low=float(mean_low),
        mean_high=float(mean_high),
        sd=float(sds[fits[0]]),
        sd_low=float(sd_low),
        sd_high=float(sd_high),
    )


def _resampled(n: int, resamples: int, seed: int) -> np.ndarray:
    """[1 + resamples, n] counts of each track: the tracks themselves, then resamples with replacement."""
    rng = np.random.default_rng([seed, n])
    return np.vstack([np.ones(n), rng.multinomial(n, np.full(n, 1 / n), size=resamples)])


def _fits(likelihoods: np.ndarray, grid, counts: np.ndarray) -> np.ndarray:
    """The index of the most likely candidate (mean, sd) for each row of track counts."""
    bins = _candidate_bins(tuple(grid))  # [candidates, grid]
    total = np.zeros((len(counts), len(bins)))
    for start in range(0, len(likelihoods), CHUNK):
        part = likelihoods[start : start + CHUNK]
        log_l = np.log(np.maximum(bins @ part.T, 1e-300))  # [candidates, tracks]
        total += counts[:, start : start + CHUNK] @ log_l.T
    return total.argmax(axis=1)


@lru_cache(maxsize=4)
def _candidate_bins(grid: tuple) -> np.ndarray:
    """[candidates, grid]: the probability of each grid value's bin (half a step either side) under each
    candidate N(mean, sd) cut to the grid's range (sd 0: all in the mean's bin)."""
    values = np.asarray(grid)
    half = (values[1] - values[0]) / 2
    edges = np.r_[values - half, values[-1] + half]
    mean, sd = np.meshgrid(MEANS, SDS, indexing="ij")
    mean, sd = mean.ravel(), sd.ravel()
    z = (edges[None, :] - mean[:, None]) / np.maximum(sd[:, None], 1e-9)
    cdf = 0.5 * (1 + _erf(z / math.sqrt(2)))
    bins = np.diff(cdf, axis=1)
    return bins / np.maximum(bins.sum(axis=1, keepdims=True), 1e-300)


@lru_cache(maxsize=4)
def _candidate_moments(grid: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The mean and sd of each candidate's alphas: N(mean, sd) cut to the grid's range, integrated
    finely (a candidate near an end of the range has its mean moved inwards)."""
    values = np.asarray(grid)
    half = (values[1] - values[0]) / 2
    x = np.linspace(values[0] - half, values[-1] + half, 401)
    mean, sd = np.meshgrid(MEANS, SDS, indexing="ij")
    mean, sd = mean.ravel(), sd.ravel()
    density = np.exp(-0.5 * ((x[None, :] - mean[:, None]) / np.maximum(sd[:, None], 1e-9)) ** 2)
    inside = density.sum(axis=1)
    point = inside < 1e-12  # all outside the range or sd 0 between two points: the nearest end or the mean
    density[point] = 0
    density[point, np.abs(x[None, :] - mean[point, None]).argmin(axis=1)] = 1
    density /= density.sum(axis=1, keepdims=True)
    m = density @ x
    s = np.sqrt(np.maximum(density @ x**2 - m**2, 0))
    return m, s


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[float])(x)
