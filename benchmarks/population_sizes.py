"""The population network by the size and spread of a population, on populations drawn as its training
draws them (population_train.Populations) from a held-out pool made as the workflow makes it (the
workflow's held-out seed, which no training population is drawn from): does the answer sharpen with the
number of tracks, for narrow populations (true sd below 0.08) as for wide ones? Also the share of draws
that fell back to repeated tracks (a band too small for the population), which says less than its size.

    python benchmarks/population_sizes.py                        # the default ensemble, 2D
    python benchmarks/population_sizes.py --models convlstm-cpu --dim 3 --draws 600

The held-out pool is 15,000 tracks a model (population.pool.held_out_per_model), about 1.5 minutes to
simulate and read on one thread in 2D.
"""

import argparse

import numpy as np

from andiflow import seeds, settings
from andiflow.api import load_ensemble
from andiflow.population_net import PopulationNetwork
from andiflow.population_train import Populations, read_pool, simulate_pool
from andiflow.tasks import MODELS

SIZES = (50, 200, 1000)
NARROW = 0.08  # a population's true sd below this is narrow


def draws(pool: dict, read, size: int, n: int, seed: int) -> np.ndarray:
    """Rows (true mean, true sd, answer's mean, low, high, answer's sd, repeated, model) of the
    single-model populations among n drawn of `size` tracks; read: features [size, F] -> the six
    quantiles (population_net.QUANTILE_COLUMNS' order)."""
    populations, rows = Populations(pool, (size, size), seed=seed), []
    for _ in range(n):
        x, mean, sd, shares, k, _ = populations.draw(size)
        if shares.max() < 1:
            continue
        q = read(x.astype(np.float32))
        repeated = len(np.unique(x, axis=0)) < len(x)
        rows.append((mean, sd, q[1], q[0], q[2], q[4], repeated, k))
    return np.array(rows, float)


def summary(r: np.ndarray) -> str:
    """draws' rows as table cells: populations, repeated share, mean error, interval holds, sd error."""
    holds = (r[:, 3] <= r[:, 0]) & (r[:, 0] <= r[:, 4])
    mean_error, sd_error = np.abs(r[:, 2] - r[:, 0]).mean(), np.abs(r[:, 5] - r[:, 1]).mean()
    return f"{len(r)} | {r[:, 6].mean():.2f} | {mean_error:.3f} | {holds.mean():.2f} | {sd_error:.3f}"


def by_narrowness(r: np.ndarray) -> dict:
    """draws' rows of narrow (true sd below NARROW) and of wide populations."""
    return {"narrow": r[r[:, 1] < NARROW], "wide": r[r[:, 1] >= NARROW]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=None, help="an ensemble with a population network (default: the default)")
    parser.add_argument("--dim", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--draws", type=int, default=400, help="populations drawn of each size")
    args = parser.parse_args()
    config = settings.resolve()
    pool_settings = config["population"]["pool"]
    ens = load_ensemble(args.models, threads=1)
    network = PopulationNetwork.of(ens)
    seed = seeds.derive_seed(config["seed"], "population_held_out", args.dim)  # as steps.population_pool
    found, truth = simulate_pool(pool_settings["held_out_per_model"], args.dim, seed, pool_settings)
    pool = read_pool(ens, found, truth, network.level, network.description["max_length"])
    print(
        f"# benchmarks/population_sizes.py --dim {args.dim} --draws {args.draws}: {ens.describe()}; held-out pool of "
        f"{len(pool['x'])} tracks; single-model populations; narrow: true sd < {NARROW}"
    )
    print("| populations | tracks | drawn | repeated tracks | mean error | 90% interval holds the mean | sd error |")
    print("|---|---|---|---|---|---|---|")
    read = lambda x: network.session.run(None, {"tracks": x[None]})[0][0]  # noqa: E731
    rows = {size: by_narrowness(draws(pool, read, size, args.draws, seed=size)) for size in SIZES}
    for narrowness in ("narrow", "wide"):
        for size in SIZES:
            r = rows[size][narrowness]
            print(f"| {narrowness} | {size} | {summary(r)} |")
            by_model = {
                m: f"{np.abs(r[r[:, 7] == k, 2] - r[r[:, 7] == k, 0]).mean():.3f}"
                for k, m in enumerate(MODELS)
                if (r[:, 7] == k).sum() >= 5
            }
            print(f"|  | mean error by model: {', '.join(f'{m} {e}' for m, e in by_model.items())} |||||")


if __name__ == "__main__":
    main()
