"""The population answer (`andiflow.population`, the ensemble's population network) against the truth,
on simulated populations of short tracks made apart from its training: error of the mean and of the
spread, how often the 90% interval of the mean holds the true mean, its width, per process and number
of tracks; beside the naive answer (the mean and spread of the per-track estimates); how often the 90%
interval of the difference of two populations' means holds the true difference; and the diffusion
models' shares: their error, and how often their 90% intervals hold the true shares.

    python benchmarks/population.py                  # the default ensemble, 2D, 10-50 points a track

A population: `--dim`D tracks of 10-50 points (uniform), each of one process, alpha ~ N(mean, sd) kept
inside the process's range: fbm or sbm (andi-datasets' models_theory, positions scaled to unit step
std, Gaussian localisation noise of sigma ~ U(0, 1.5) steps), or tracks of the 2020 challenge's recipe
(the alpha networks' training recipe: its models and noise) selected by alpha ("recipe"). Means 0.4,
0.8 and 1.2 (fbm) or 1.5 (sbm, recipe), spreads 0.05 and 0.15, 50, 200 and 1,000 tracks, `--repeats`
populations each, seeds of their own (not the workflow's, not the population network's pools).
"""

import argparse
import itertools

import numpy as np

from andiflow import population, population_difference, predict, settings
from andiflow.api import load_ensemble
from andiflow.population_train import theory_generator, theory_track
from andiflow.simulate import Recipe, seeded_globals, simulate_challenge
from andiflow.tasks import MODELS

SETTINGS = {"fbm": (0.4, 0.8, 1.2), "sbm": (0.4, 0.8, 1.5), "recipe": (0.4, 0.8, 1.5)}
SPREADS = (0.05, 0.15)
SIZES = (50, 200, 1000)
RANGES = {"fbm": (0.05, 1.95), "sbm": (0.05, 2.0)}
LENGTHS = (10, 50)


class Recipes:
    """Tracks of the 2020 challenge's recipe, 10-50 points, from which populations are selected by alpha."""

    def __init__(self, n: int, dim: int, seed: int):
        recipe = Recipe.from_settings(settings.resolve()["data"])
        made, lengths = simulate_challenge(n, *LENGTHS, dim, seed=seed, recipe=recipe)
        self.tracks = [made.positions[i, :, : lengths[i]].T.astype(float) for i in range(n)]
        self.alphas, self.models = np.asarray(made.alpha, dtype=float), np.asarray(made.model)

    def select(self, mean: float, sd: float, n: int, rng) -> tuple[list, np.ndarray, np.ndarray]:
        """n tracks kept with a probability following N(mean, sd) of their alpha, their alphas and models."""
        kept = np.flatnonzero(rng.random(len(self.alphas)) < np.exp(-0.5 * ((self.alphas - mean) / sd) ** 2))
        kept = rng.permutation(kept)[:n]
        return [self.tracks[i] for i in kept], self.alphas[kept], self.models[kept]


def tracks(process: str, mean: float, sd: float, n: int, dim: int, seed: int, recipes: Recipes, noise=(0, 1.5)):
    """n tracks [T, dim] of the process, their alphas and models (indices into MODELS); fbm and sbm with
    localisation noise of sigma uniform over `noise` (steps)."""
    rng = np.random.default_rng(seed)
    if process == "recipe":
        return recipes.select(mean, sd, n, rng)
    alphas = np.clip(rng.normal(mean, sd, n), *RANGES[process])
    lengths = rng.integers(LENGTHS[0], LENGTHS[1] + 1, n)
    generator = theory_generator(dim)
    with seeded_globals(seed), np.errstate(all="ignore"):
        found = [
            theory_track(generator, dim, process, a, T, T + 1, rng.uniform(*noise), rng)
            for a, T in zip(alphas, lengths)
        ]
    return found, alphas, np.full(n, MODELS.index(process))


def populations(repeats: int, dim: int, base_seed: int):
    """(setting (process, mean, sd, size), tracks, their alphas, their models) of every setting, `repeats` populations
    each; a population's seed is base_seed + a number of its own per setting and repeat."""
    recipes = Recipes(60000, dim, seed=base_seed)
    settings_ = [(p, m, s, n) for p in SETTINGS for m in SETTINGS[p] for s in SPREADS for n in SIZES]
    for k, (setting, _) in enumerate(itertools.product(settings_, range(repeats))):
        yield setting, *tracks(*setting, dim, base_seed + 1 + k, recipes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=None)
    parser.add_argument("--network", default=None, help="the population network's folder (default: the ensemble's)")
    parser.add_argument("--dim", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ens = load_ensemble(args.models, threads=1)
    print(
        f"# benchmarks/population.py --dim {args.dim} --repeats {args.repeats}: {ens.describe()}"
        f"{'; population network ' + args.network if args.network else ''}; {args.dim}D tracks "
        f"of {LENGTHS[0]}-{LENGTHS[1]} points"
    )
    rows = []
    for (process, mean, sd, n), found, alphas, models in populations(
        args.repeats, args.dim, base_seed=7000 + 100 * args.dim
    ):
        answer = population(found, ens, network=args.network).iloc[0]
        naive = predict(found, ens, warn=lambda message: None)["alpha"]
        shares = np.bincount(models, minlength=len(MODELS)) / len(models)
        rows.append(dict(process=process, setting=(mean, sd), n=n, answer=answer, mean=alphas.mean(), sd=alphas.std(),
                         naive=naive, shares=shares))  # fmt: skip
    header = (
        "| mean error | sd error | 90% interval holds the mean | interval width | naive mean error | naive sd error |"
    )
    print(f"| process | mean | sd | tracks | populations | answer's mean {header}")
    print("|---|---|---|---|---|---|" + "---|" * 6)
    for (process, (mean, sd), n), group in grouped(rows, lambda r: (r["process"], r["setting"], r["n"])):
        answered = np.mean([r["answer"]["alpha_mean"] for r in group])
        print(f"| {process} | {mean} | {sd} | {n} | {len(group)} | {answered:.3f} " + scores(group))
    print()
    print(f"| process | tracks | populations {header}")
    print("|---|---|---|" + "---|" * 6)
    for (process, n), group in grouped(rows, lambda r: (r["process"], r["n"])):
        print(f"| {process} | {n} | {len(group)} " + scores(group))
    for (process,), group in grouped(rows, lambda r: (r["process"],)):
        print(f"| {process} | all | {len(group)} " + scores(group))
    print()
    print("| process | tracks | pairs | 90% interval of the difference of means holds it | its width |")
    print("|---|---|---|---|---|")
    for (process, n), group in grouped(rows, lambda r: (r["process"], r["n"])):
        held, widths = [], []
        for a, b in itertools.combinations(group, 2):
            d = population_difference(a["answer"], b["answer"])
            held.append(d["low"] <= b["mean"] - a["mean"] <= d["high"])
            widths.append(d["high"] - d["low"])
        print(f"| {process} | {n} | {len(held)} | {np.mean(held):.2f} | {np.mean(widths):.3f} |")
    print()
    print(
        "| process | tracks | populations | share error (half the L1 distance) | 90% intervals hold the share "
        "(all five) | hold the largest true share | their width (all five) | width at the largest |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (process, n), group in grouped(rows, lambda r: (r["process"], r["n"])):
        print(f"| {process} | {n} | {len(group)} " + share_scores(group))
    for (process,), group in grouped(rows, lambda r: (r["process"],)):
        print(f"| {process} | all | {len(group)} " + share_scores(group))


def grouped(rows: list, key) -> list:
    """(key, rows) of each key, in the order keys first appear."""
    groups = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    return list(groups.items())


def scores(rows) -> str:
    """The errors of the answers and of the naive answer over rows, as the end of a table row."""
    e = np.array(
        [
            (
                abs(r["answer"]["alpha_mean"] - r["mean"]),
                abs(r["answer"]["alpha_sd"] - r["sd"]),
                r["answer"]["alpha_mean_low"] <= r["mean"] <= r["answer"]["alpha_mean_high"],
                r["answer"]["alpha_mean_high"] - r["answer"]["alpha_mean_low"],
                abs(r["naive"].mean() - r["mean"]),
                abs(r["naive"].std() - r["sd"]),
            )
            for r in rows
        ],
        dtype=float,
    ).mean(axis=0)
    return f"| {e[0]:.3f} | {e[1]:.3f} | {e[2]:.2f} | {e[3]:.3f} | {e[4]:.3f} | {e[5]:.3f} |"


def share_scores(rows) -> str:
    """The shares' error and their intervals' coverage and width over rows, as the end of a table row."""
    given, low, high = (
        np.array([[r["answer"][f"share_{m}{bound}"] for m in MODELS] for r in rows]) for bound in ("", "_low", "_high")
    )
    true = np.array([r["shares"] for r in rows])
    holds, width = (low <= true) & (true <= high), high - low
    largest = (np.arange(len(rows)), true.argmax(axis=1))
    error = np.abs(given - true).sum(axis=1).mean() / 2
    return (
        f"| {error:.3f} | {holds.mean():.2f} | {holds[largest].mean():.2f} | {width.mean():.3f} | "
        f"{width[largest].mean():.3f} |"
    )


if __name__ == "__main__":
    main()
