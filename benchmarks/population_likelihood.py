"""A population read by likelihood instead of the network over sets: each track's answers give, through a
per-track classifier over (model, alpha bin) trained on the pool, a likelihood of every model and alpha
(its posterior divided by the pool's prior); a single-model population of normally spread alphas has
log-likelihood sum_i log sum_b L_i(model, b) w_b(mean, sd), maximised and integrated over a grid of
(model, mean, sd). Scored on the same held-out populations as benchmarks/population_draws.py.

    python benchmarks/population_likelihood.py             # 2D, one thread
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import norm
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
import population_draws as pd_bench  # noqa: E402
import population_sizes as sizes  # noqa: E402

import andiflow.population_train as pt  # noqa: E402
from andiflow.api import load_ensemble  # noqa: E402
from andiflow.population_net import FEATURES, PopulationNetwork  # noqa: E402
from andiflow.tasks import MODELS  # noqa: E402

BINS = np.linspace(0, 2, 41)  # alpha bins of 0.05
MEANS = np.linspace(0.05, 2, 79)  # 0.025 apart
SDS = np.linspace(0.0, 0.3, 16)  # 0.02 apart


def classifier(pool: dict, epochs: int, seed: int) -> nn.Module:
    """MLP: a track's features -> logits over (model, alpha bin), trained by cross-entropy on the pool."""
    torch.manual_seed(seed)
    x = torch.from_numpy(pool["x"])
    mu, sigma = x.mean(0), x.std(0) + 1e-6
    label = torch.from_numpy(pool["model"] * (len(BINS) - 1) + np.clip(np.digitize(pool["alpha"], BINS) - 1, 0, 39))
    net = nn.Sequential(
        nn.Linear(len(FEATURES), 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, len(MODELS) * (len(BINS) - 1)),
    )  # fmt: skip
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    steps = epochs * (len(x) // 512)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for rows in np.array_split(rng.permutation(len(x)), len(x) // 512):
            loss = nn.functional.cross_entropy(net((x[rows] - mu) / sigma), label[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
    net.eval()
    prior = np.bincount(label.numpy(), minlength=len(MODELS) * 40).reshape(len(MODELS), 40) / len(x)
    return lambda features: _likelihood(net, (torch.from_numpy(features) - mu) / sigma, prior)


def _likelihood(net, x, prior) -> np.ndarray:
    with torch.no_grad():
        post = torch.softmax(net(x), 1).numpy().reshape(len(x), len(MODELS), 40)
    return np.where(prior > 0, post / np.where(prior > 0, prior, 1), 0)


def bin_weights() -> np.ndarray:
    """w [mean, sd, bin]: the share of N(mean, sd) in each bin (sd 0: the bin holding the mean)."""
    sd = np.maximum(SDS, 1e-3)[None, :, None]
    cdf = norm.cdf((BINS[None, None, :] - MEANS[:, None, None]) / sd)
    return np.diff(cdf, axis=2)


def read(likelihood: np.ndarray, weights: np.ndarray, temper: float) -> tuple:
    """Posterior mean of the mean, its 5% and 95% quantiles, posterior mean of the sd; flat priors over
    the model, the mean within the model's range, and the sd."""
    logl = np.zeros((len(MODELS), len(MEANS), len(SDS)))
    for k, (lo, hi) in enumerate(pt.RANGES[m] for m in MODELS):
        w = weights * (BINS[None, None, 1:] > lo) * (BINS[None, None, :-1] < hi)
        w = w / np.maximum(w.sum(2, keepdims=True), 1e-12)
        mixed = np.einsum("nb,msb->nms", likelihood[:, k], w, optimize=True)
        logl[k] = temper * np.log(np.maximum(mixed, 1e-300)).sum(0)
        logl[k][(MEANS < lo - 1e-9) | (MEANS > hi + 1e-9)] = -np.inf
    post = np.exp(logl - logl.max())
    post /= post.sum()
    over_mean = post.sum((0, 2))
    cdf = np.cumsum(over_mean)
    low, high = MEANS[np.searchsorted(cdf, 0.05)], MEANS[min(np.searchsorted(cdf, 0.95), len(MEANS) - 1)]
    return (over_mean * MEANS).sum(), low, high, (post.sum((0, 1)) * SDS).sum()


def scores(likelihood_of, held_out: dict, draws: int, temper: float) -> list[str]:
    weights, lines = bin_weights(), []

    def answer(x):
        mean, low, high, sd = read(likelihood_of(x), weights, temper)
        return (low, mean, high, np.nan, sd, np.nan)

    for size in sizes.SIZES:
        rows = sizes.by_narrowness(sizes.draws(held_out, answer, size, draws, seed=size))
        lines += [f"{narrowness} | {size} | {sizes.summary(r)}" for narrowness, r in rows.items()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--temper", type=float, nargs="+", default=[1.0])
    parser.add_argument("--per-model", type=int, default=20000, help="tracks of each model in each pool")
    parser.add_argument("--cache", default=None, help="folder keeping the two pools between runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ens = load_ensemble(None, threads=1)
    network = PopulationNetwork.of(ens)
    level, max_length = network.level, network.description["max_length"]
    pools = []
    for seed in (909, 919):
        file = Path(args.cache or "/nonexistent") / f"pool{seed}_{args.per_model}.npz"
        if file.is_file():
            pools.append(dict(np.load(file)))
            continue
        pools.append(pd_bench.pool(ens, level, max_length, args.per_model, 2, seed=seed))
        if args.cache:
            np.savez(file, **pools[-1])
    start = time.process_time()
    likelihood_of = classifier(pools[0], args.epochs, seed=1)
    print(
        f"# benchmarks/population_likelihood.py --epochs {args.epochs} --draws {args.draws} --temper "
        f"{' '.join(map(str, args.temper))}: pools of {len(pools[0]['x'])} and {len(pools[1]['x'])} 2D tracks read by "
        f"{ens.describe()}; classifier {time.process_time() - start:.0f} CPU s; scored on the held-out populations of "
        f"benchmarks/population_draws.py; narrow: true sd < {sizes.NARROW}"
    )
    print("| temper | populations | tracks | scored | repeated tracks | mean error | holds the mean | sd error |")
    print("|---|---|---|---|---|---|---|---|")
    for temper in args.temper:
        for line in scores(likelihood_of, pools[1], args.draws, temper):
            print(f"| {temper} | {line} |", flush=True)


if __name__ == "__main__":
    main()
