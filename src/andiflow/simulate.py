"""The 2020 AnDi challenge's Task-1 data recipe, at a fixed length or at challenge-style random lengths.

Per trajectory, as andi-datasets' 2020 `andi_dataset` did: draw alpha uniformly from the grid and the
model by the challenge's class table; generate the model at T = length + 1; normalise it like
`andi_datasets.utils_trajectories.normalize` (displacements divided by their std, cumulative sum from
0); add Gaussian localisation noise of a sigma drawn from the noise set; multiply every displacement by
one coefficient D ~ N(0, 1); cumulative sum from 0; keep the first `length` points.
`challenge_theory_dataset` of andi-datasets 2.x is not used: it lost the 2020 shuffle and is biased.
"""

import contextlib
from dataclasses import dataclass

import numpy as np
import stochastic.random
from andi_datasets.models_theory import models_theory

from andiflow.normalize import zscore
from andiflow.progress import progress
from andiflow.seeds import derive_seed
from andiflow.tasks import MODELS
from andiflow.tasks.alpha import alpha_grid

CHUNK = 4096  # trajectories post-processed at once; bounds memory, does not change results


@dataclass
class Recipe:
    alphas: np.ndarray  # the alpha grid, labels rounded to 2 decimals
    noise_sigmas: np.ndarray

    @classmethod
    def from_settings(cls, data: dict) -> "Recipe":
        return cls(alphas=alpha_grid(data["alphas"]), noise_sigmas=np.asarray(data["noise_sigmas"], dtype=float))


@dataclass
class Trajectories:
    positions: np.ndarray  # float32 [n, dim, length]
    alpha: np.ndarray  # float32 [n]
    model: np.ndarray  # int8 [n], index into MODELS
    sigma: np.ndarray  # float32 [n], localisation noise


def model_probabilities(alphas: np.ndarray) -> np.ndarray:
    """P(model | alpha), [5, n_alpha], from the challenge's class table (`n_per_class`).

    Each model gets the same total, spread over the alphas it allows: attm and ctrw over alpha <= 1,
    fbm over alpha < 2, sbm over all; lw over alpha > 1 at 0.8 weight, divided as the challenge did
    by (number of superdiffusive values + 1).
    """
    sub, sup = alphas <= 1, alphas > 1
    fbm_ok = alphas < 2
    weights = np.stack(
        [
            sub / sub.sum(),
            sub / sub.sum(),
            fbm_ok / fbm_ok.sum(),
            0.8 * sup / (sup.sum() + 1),
            np.ones_like(alphas) / len(alphas),
        ]
    )
    return weights / weights.sum(axis=0, keepdims=True)


def simulate(n: int, length: int, dim: int, seed: int, recipe: Recipe) -> Trajectories:
    """n trajectories of exactly `length` points in `dim` dimensions, all drawn from `seed`."""
    return _simulate(n, length + 1, dim, seed, recipe, lengths=np.full(n, length))[0]


def simulate_challenge(n: int, min_length: int, max_length: int, dim: int, seed: int, recipe: Recipe):
    """Challenge-style set: lengths uniform in [min_length, max_length], generated at max_length + 1
    and cut, as the 2020 challenge did. Returns (Trajectories with positions [n, dim, max_length],
    lengths); row i is valid up to lengths[i]."""
    rng = np.random.default_rng([seed, 1])
    lengths = rng.integers(min_length, max_length + 1, size=n)
    return _simulate(n, max_length + 1, dim, seed, recipe, lengths)


def training_shard(length: int, rows: int, seed: int, recipe: Recipe, dim: int = 1) -> dict:
    """The arrays of one training shard: positions z-scored per trajectory and axis, as training reads
    them; [rows, length] in 1D (HNU's data), [rows, dim, length] in 2D and 3D."""
    t = simulate(rows, length, dim, seed, recipe)
    positions = t.positions[:, 0] if dim == 1 else t.positions
    return dict(positions=zscore(positions), alpha=t.alpha, model=t.model, sigma=t.sigma)


def challenge_set(
    n_per_dim: int, dims, min_length: int, max_length: int, base_seed: int, purpose: str, recipe: Recipe
) -> tuple[list[np.ndarray], list[int], list[float], list[str]]:
    """A challenge-style set (test, calibration or interval set, one seed per purpose and dimension):
    (trajectories [dim, T], dimension, alpha and model name of each)."""
    trajectories, ref_dims, alphas, models = [], [], [], []
    for dim in dims:
        t, lengths = simulate_challenge(
            n_per_dim, min_length, max_length, dim, derive_seed(base_seed, purpose, dim), recipe
        )
        trajectories += [p[:, :T] for p, T in zip(t.positions, lengths)]
        ref_dims += [dim] * n_per_dim
        alphas += t.alpha.tolist()
        models += [MODELS[m] for m in t.model]
    return trajectories, ref_dims, alphas, models


SEED_STAGES = {"calibration": "calibration", "intervals": "intervals", "test": "testset"}  # as they have been


def held_out_set(config, name: str) -> tuple[list[np.ndarray], list[int], list[float], list[str]]:
    """A held-out set of a configuration (sets.<name>: calibration, intervals, test), with its long
    tracks where it has them (long_tracks): trajectories, dimension, alpha, model name."""
    section, stage = config["sets"][name], SEED_STAGES[name]
    spans = [(section["n_per_dim"], section["min_length"], section["max_length"], stage)]
    if section.get("long_tracks"):  # absent or null: none
        long = section["long_tracks"]
        spans.append((long["n_per_dim"], section["max_length"] + 1, long["max_length"], f"{stage}-long"))
    recipe = Recipe.from_settings(config["data"])
    columns = [[], [], [], []]  # trajectories, dimensions, alphas, models
    for count, low, high, seed_stage in spans:
        part = challenge_set(count, section["dims"], low, high, config["seed"], seed_stage, recipe)
        for column, values in zip(columns, part):
            column += values
    return tuple(columns)


@contextlib.contextmanager
def seeded_globals(seed: int):
    """andi-datasets draws from numpy's global state and fbm from `stochastic`'s: both seeded here, and
    given back as they were, so that a caller's own random numbers are not changed by a simulation."""
    numpy_state, stochastic_generator = np.random.get_state(), stochastic.random.generator
    np.random.seed(seed)
    stochastic.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(numpy_state)
        stochastic.random.generator = stochastic_generator


def _simulate(n, gen_length, dim, seed, recipe, lengths):
    with seeded_globals(seed):
        return _simulate_seeded(n, gen_length, dim, seed, recipe, lengths)


def _simulate_seeded(n, gen_length, dim, seed, recipe, lengths):
    rng = np.random.default_rng(seed)
    alpha_idx = rng.integers(len(recipe.alphas), size=n)
    cumulative = model_probabilities(recipe.alphas).cumsum(axis=0)[:, alpha_idx]
    model = (rng.random(n) > cumulative).sum(axis=0).clip(max=len(MODELS) - 1).astype(np.int8)
    sigma = rng.choice(recipe.noise_sigmas, size=n)
    diffusion = rng.standard_normal(n)
    alpha = recipe.alphas[alpha_idx]

    out = np.empty((n, dim, gen_length - 1), dtype=np.float32)
    generator = (models_theory._oneD, models_theory._twoD, models_theory._threeD)[dim - 1]()
    for start in progress(range(0, n, CHUNK), f"simulate {dim}D", unit="chunk"):
        rows = slice(start, min(start + CHUNK, n))
        with np.errstate(over="ignore"):  # lw at alpha=2 overflows harmlessly (flights are capped)
            raw = np.stack(
                [
                    np.reshape(getattr(generator, MODELS[m])(gen_length, a), (dim, gen_length))
                    for m, a in zip(model[rows], alpha[rows])
                ]
            )
        noisy = _andi_normalize(raw) + sigma[rows, None, None] * rng.standard_normal(raw.shape)
        steps = np.diff(noisy, axis=-1) * diffusion[rows, None, None]
        out[rows] = _from_zero(steps)[..., : gen_length - 1]
    trajectories = Trajectories(out, alpha.astype(np.float32), model, sigma.astype(np.float32))
    return trajectories, lengths


def _andi_normalize(x: np.ndarray) -> np.ndarray:
    """andi-datasets' `normalize`: displacements over their std, summed from 0 (its mean removal
    before differencing has no effect on the result)."""
    steps = np.diff(x, axis=-1)
    std = steps.std(axis=-1, keepdims=True)
    std[std == 0] = 1
    return _from_zero(steps / std)


def _from_zero(steps: np.ndarray) -> np.ndarray:
    zero = np.zeros(steps.shape[:-1] + (1,))
    return np.concatenate([zero, np.cumsum(steps, axis=-1)], axis=-1)
