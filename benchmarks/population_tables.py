"""A second road to the population of alpha (after benchmarks/population.py's product of the members'
likelihoods): an error model learned by simulation, per process. Not a user's answer: it is measured
here, and falls short of the goals (see benchmarks/results/population_tables_convlstm-cpu.txt).

1. Tables: `--per-length` 2D tracks of each length 10-50 of the training recipe (simulate.simulate, exactly
   that length), read by the ensemble; counted by length bucket (BUCKETS), true model and alpha, into
   P(estimate's bin | model, alpha, bucket) (smoothed over one bin) and P(most probable model | model,
   alpha, bucket).
2. A population: alpha ~ N(mean, sd) cut to [0.025, 2.025] on the alpha grid, the model given alpha in
   shares pi among the models that allow that alpha; each track's estimate and classified model scored
   by the tables as if independent given (model, alpha); (mean, sd) by a coarse then a fine grid, pi by
   iterative scaling at each; the 90% interval of the mean by the profile likelihood (drop 1.35).
3. The populations of benchmarks/population.py (fbm and sbm with noise beyond the recipe, and the
   recipe itself cut challenge-style), 200 tracks of 15-40 points each.

    python benchmarks/population_tables.py --per-length 20000
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from andiflow import settings
from andiflow.api import load_ensemble
from andiflow.simulate import Recipe, simulate
from andiflow.tasks import MODELS

sys.path.insert(0, str(Path(__file__).parent))
from population import populations  # noqa: E402

BUCKETS = np.array([10, 15, 20, 25, 30, 40, 51])  # track lengths [a, b) counted together
GRID = np.round(np.arange(0.05, 2.001, 0.05), 2)
EDGES = np.r_[GRID - 0.025, GRID[-1] + 0.025]


def readings(ens, positions: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bucket, estimate's grid bin, most probable model) of each track [2, T]."""
    est = ens.estimate(positions, level=None)
    bins = np.clip(np.round((est["alpha"] - 0.05) / 0.05).astype(int), 0, len(GRID) - 1)
    model = np.stack([est[f"p_{m}"] for m in MODELS], axis=1).argmax(axis=1)
    bucket = np.clip(np.searchsorted(BUCKETS, [p.shape[1] for p in positions], side="right") - 1, 0, len(BUCKETS) - 2)
    return bucket, bins, model


def tables(ens, per_length: int, seed: int):
    """P(estimate bin | ...) [bucket, model, alpha, bin], P(classified | ...) [bucket, model, alpha, model],
    and which (model, alpha) the recipe has [model, alpha]."""
    recipe = Recipe.from_settings(settings.resolve()["data"])
    H = np.zeros((len(BUCKETS) - 1, len(MODELS), len(GRID), len(GRID)))
    C = np.zeros((len(BUCKETS) - 1, len(MODELS), len(GRID), len(MODELS)))
    for length in range(BUCKETS[0], BUCKETS[-1]):
        t = simulate(per_length, length, 2, seed=seed + length, recipe=recipe)
        bucket, bins, model = readings(ens, [p.astype(float) for p in t.positions])
        alpha = np.round((t.alpha - 0.05) / 0.05).astype(int)
        np.add.at(H, (bucket, t.model, alpha, bins), 1)
        np.add.at(C, (bucket, t.model, alpha, model), 1)
    valid = H.sum(axis=(0, 3)) > 0
    x = np.arange(len(GRID))
    kernel = np.exp(-0.5 * (x[:, None] - x[None]) ** 2)
    H = H @ (kernel / kernel.sum(axis=0, keepdims=True)).T
    p_bin = (H + 0.5 / len(GRID)) / (H.sum(-1, keepdims=True) + 0.5)
    p_class = (C + 0.5 / len(MODELS)) / (C.sum(-1, keepdims=True) + 0.5)
    return p_bin, p_class, valid


def binned_normal(mean: float, sd: float) -> np.ndarray | None:
    if sd < 1e-6:
        p = np.zeros(len(GRID))
        p[np.clip(np.searchsorted(EDGES, mean) - 1, 0, len(GRID) - 1)] = 1
        return p
    cdf = 0.5 * (1 + np.vectorize(math.erf)((EDGES - mean) / (sd * math.sqrt(2))))
    p = np.diff(cdf)
    return p / p.sum() if p.sum() > 1e-12 else None


def log_likelihood(terms: np.ndarray, valid: np.ndarray, mean: float, sd: float, iterations=30) -> float:
    """The population's log-likelihood at (mean, sd), the model shares fitted."""
    p = binned_normal(mean, sd)
    if p is None:
        return -np.inf
    weighted = terms * p[None, None, :]
    shares = np.full(len(MODELS), 1 / len(MODELS))
    for _ in range(iterations + 1):
        allowed = shares[:, None] * valid
        given_alpha = allowed / np.maximum(allowed.sum(axis=0, keepdims=True), 1e-300)  # P(model | alpha)
        joint = weighted * given_alpha[None]
        total = joint.sum(axis=(1, 2))
        counts = (joint / total[:, None, None]).sum(axis=0)  # [model, alpha]
        denominator = (
            counts.sum(axis=0)[None, :] * valid / np.maximum(allowed.sum(axis=0, keepdims=True), 1e-300)
        ).sum(1)
        shares = counts.sum(axis=1) / np.maximum(denominator, 1e-300)
        shares /= shares.sum()
    return float(np.log(np.maximum(total, 1e-300)).sum())


def fit(terms: np.ndarray, valid: np.ndarray) -> dict:
    coarse = [
        (log_likelihood(terms, valid, m, s, 15), m, s)
        for m in np.arange(0, 2.06, 0.1)
        for s in np.arange(0, 0.61, 0.05)
    ]
    _, m0, s0 = max(coarse)
    profile = {}
    for m in np.round(np.arange(m0 - 0.15, m0 + 0.151, 0.01), 3):
        profile[m] = max((log_likelihood(terms, valid, m, s), s) for s in np.arange(max(0, s0 - 0.1), s0 + 0.101, 0.01))
    means = np.array(sorted(profile))
    values = np.array([profile[m][0] for m in means])
    best = int(values.argmax())
    inside = means[values >= values[best] - 2.706 / 2]
    return dict(mean=means[best], sd=profile[means[best]][1], low=inside.min(), high=inside.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-length", type=int, default=20000)
    parser.add_argument("--tracks", type=int, default=200)
    args = parser.parse_args()
    ens = load_ensemble(threads=1)
    p_bin, p_class, valid = tables(ens, args.per_length, seed=10_200)
    print(
        f"# benchmarks/population_tables.py --per-length {args.per_length}: {ens.describe()}; tables from "
        f"{args.per_length * (BUCKETS[-1] - BUCKETS[0]):,} 2D tracks of 10-50 points; populations of {args.tracks}"
    )
    print("| process | mean | sd | fit mean (90% interval) | fit sd | naive mean |")
    print("|---|---|---|---|---|---|")
    scores = {}
    for process, found, alphas in populations(args.tracks, 1, base_seed=9000):
        bucket, bins, model = readings(ens, found)
        result = fit(p_bin[bucket, :, :, bins] * p_class[bucket, :, :, model], valid)
        naive = float(ens.predict(found).mean())
        true_mean, true_sd = alphas.mean(), alphas.std()
        held = result["low"] <= true_mean <= result["high"]
        scores.setdefault(process, []).append(
            (abs(result["mean"] - true_mean), abs(result["sd"] - true_sd), held, abs(naive - true_mean))
        )
        print(
            f"| {process} | {true_mean:.3f} | {true_sd:.3f} | {result['mean']:.2f} ({result['low']:.2f}, "
            f"{result['high']:.2f}) | {result['sd']:.2f} | {naive:.3f} |",
            flush=True,
        )
    print()
    print("| process | populations | mean error | sd error | 90% interval holds the mean | naive mean error |")
    print("|---|---|---|---|---|---|")
    for process, rows in scores.items():
        e = np.array(rows, dtype=float).mean(axis=0)
        print(f"| {process} | {len(rows)} | {e[0]:.3f} | {e[1]:.3f} | {e[2]:.2f} | {e[3]:.3f} |")


if __name__ == "__main__":
    main()
