"""The population of alpha deconvolved from per-track likelihoods (deconvolve.py) against the truth, on
simulated populations of short tracks: error of the mean and of the spread, how often the 90% interval
of the mean holds the true mean, per process; beside the naive answer (the mean and spread of the
per-track estimates) and how well calibrated the per-track likelihoods are (the share of tracks whose
true alpha lies in the central 90% of their likelihood, read as a posterior under a uniform prior).

    python benchmarks/population.py                                  # the default: convlstm-cpu's networks
    python benchmarks/population.py --models convlstm-cpu/results/models/manifest.json --backend torch

A population: `--tracks` 2D tracks of 15-40 points (uniform), each of one process (fbm or sbm, from
andi-datasets' models_theory), alpha ~ N(mean, sd) kept inside the process's range, positions scaled
to unit step std with Gaussian localisation noise of sigma ~ U(0, 1.5) steps (the training recipe
has 0.1, 0.5 or 1). Means 0.4, 0.8 and 1.2 (fbm) or 1.5 (sbm), spreads 0.05 and 0.15, `--repeats`
populations each, seeds of their own (not the workflow's sets); and populations of the training recipe
itself ("recipe"), selected by alpha.
"""

import argparse

import numpy as np
from andi_datasets.models_theory import models_theory

from andiflow import settings
from andiflow.api import load_ensemble
from andiflow.deconvolve import alpha_population
from andiflow.simulate import Recipe, seeded_globals, simulate_challenge

SETTINGS = {"fbm": (0.4, 0.8, 1.2), "sbm": (0.4, 0.8, 1.5), "recipe": (0.4, 0.8, 1.5)}
SPREADS = (0.05, 0.15)
RANGES = {"fbm": (0.05, 1.95), "sbm": (0.05, 2.0)}


def tracks(process: str, mean: float, sd: float, n: int, seed: int):
    """n 2D tracks of the process, and their alphas; "recipe": tracks of the training recipe (its mix of
    models and noise, alpha on its grid) kept with a probability following N(mean, sd) of their alpha,
    for which the networks' likelihoods are as right as their training made them."""
    rng = np.random.default_rng(seed)
    if process == "recipe":
        recipe = Recipe.from_settings(settings.resolve()["data"])
        made, lengths = simulate_challenge(40 * n, 15, 40, 2, seed=seed, recipe=recipe)
        alphas = np.asarray(made.alpha, dtype=float)
        kept = np.flatnonzero(rng.random(len(alphas)) < np.exp(-0.5 * ((alphas - mean) / sd) ** 2))[:n]
        return [made.positions[i, :, : lengths[i]].astype(float) for i in kept], alphas[kept]
    alphas = np.clip(rng.normal(mean, sd, n), *RANGES[process])
    lengths = rng.integers(15, 41, n)
    generator = models_theory._twoD()
    found = []
    with seeded_globals(seed):
        for alpha, T in zip(alphas, lengths):
            raw = np.reshape(getattr(generator, process)(T + 1, alpha), (2, T + 1))
            steps = np.diff(raw, axis=1)
            steps /= np.where(steps.std(axis=1, keepdims=True) > 0, steps.std(axis=1, keepdims=True), 1)
            positions = np.cumsum(steps, axis=1) + rng.uniform(0, 1.5) * rng.standard_normal((2, T))
            found.append(positions)
    return found, alphas


def populations(n: int, repeats: int, base_seed: int):
    """(process, tracks, their alphas) of every setting, `repeats` populations of n tracks each; a
    population's seed is base_seed + 100 process + 10 mean + repeat + 1000 sd."""
    for p, process in enumerate(SETTINGS):
        for mean in SETTINGS[process]:
            for sd in SPREADS:
                for r in range(repeats):
                    seed = int(base_seed + 100 * p + 10 * mean + r + 1000 * sd)
                    yield process, *tracks(process, mean, sd, n, seed=seed)


def held_by_tracks(likelihoods: np.ndarray, grid: np.ndarray, alphas: np.ndarray) -> float:
    """The share of tracks whose alpha lies within the central 90% of their likelihood over the grid."""
    cumulative = np.cumsum(likelihoods, axis=1)
    k = np.clip(np.round((alphas - grid[0]) / (grid[1] - grid[0])).astype(int), 0, len(grid) - 1)
    rows = np.arange(len(k))
    middle = cumulative[rows, k] - likelihoods[rows, k] / 2  # the probability below the true alpha's bin middle
    return float(np.mean((middle >= 0.05) & (middle <= 0.95)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=None)
    parser.add_argument("--backend", default="onnx", choices=["onnx", "torch"])
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.backend == "torch":
        import torch

        torch.set_num_threads(1)
    ens = load_ensemble(args.models, backend=args.backend, threads=1)
    print(
        f"# benchmarks/population.py: {ens.describe()} ({args.backend}); populations of {args.tracks} 2D tracks of "
        f"15-40 points, {args.repeats} per setting"
    )
    print("| process | mean | sd | est. mean (90% interval) | est. sd | naive mean | naive sd |")
    print("|---|---|---|---|---|---|---|")
    scores = {}
    for process, found, alphas in populations(args.tracks, args.repeats, base_seed=7000):
        true_mean, true_sd = alphas.mean(), alphas.std()
        likelihoods = ens.alpha_likelihoods(found)
        fit = alpha_population(likelihoods, ens.alpha_grid)
        naive = ens.raw_alpha(found)["alpha"]
        scores.setdefault(process, []).append(
            (
                abs(fit["mean"] - true_mean),
                abs(fit["sd"] - true_sd),
                fit["mean_low"] <= true_mean <= fit["mean_high"],
                abs(naive.mean() - true_mean),
                abs(naive.std() - true_sd),
                held_by_tracks(likelihoods, ens.alpha_grid, alphas),
            )
        )
        print(
            f"| {process} | {true_mean:.3f} | {true_sd:.3f} | {fit['mean']:.3f} ({fit['mean_low']:.3f}, "
            f"{fit['mean_high']:.3f}) | {fit['sd']:.3f} | {naive.mean():.3f} | {naive.std():.3f} |"
        )
    print()
    print(
        "| process | populations | mean error | sd error | 90% interval holds the mean | naive mean error | "
        "naive sd error | tracks' 90% holds their alpha |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for process, rows in scores.items():
        e = np.array(rows, dtype=float)
        print(
            f"| {process} | {len(e)} | {e[:, 0].mean():.3f} | {e[:, 1].mean():.3f} | {e[:, 2].mean():.2f} | "
            f"{e[:, 3].mean():.3f} | {e[:, 4].mean():.3f} | {e[:, 5].mean():.2f} |"
        )


if __name__ == "__main__":
    main()
