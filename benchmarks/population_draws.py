"""How the population network's training populations are drawn, measured: the same network trained at the
same number of steps on populations drawn from the same pool by two rules, scored by the size and spread
of held-out populations of different tracks.

    python benchmarks/population_draws.py              # 2D, 6,000 steps each, one thread (~8 min)
    python benchmarks/population_draws.py --seed 1     # other pools, draws and initial weights

Rules compared (population_train.Populations._near):
- band: the shipped rule: a population's tracks come from one band of noise and length; where the band
  holds too few tracks near the population's mean, its sd is widened, then tracks are repeated;
- wide: where the band holds too few, the model's whole pool (every noise and length) before that, so
  that a large narrow population is of different tracks.

Scored on populations drawn by the wide rule (of different tracks, as a file's are) from a held-out
pool, single-model ones, narrow (true sd below 0.08) or wide, of 50, 200 and 1,000 tracks. The pools:
20,000 tracks of each model (held out: as many), made and read as the workflow's pools are
(population_train.simulate_pool, read by the default ensemble), seeds of their own.
"""

import argparse
import time

import numpy as np
import torch

import andiflow.population_train as pt
from andiflow import settings
from andiflow.api import load_ensemble
from andiflow.population_net import PopulationNetwork

SIZES = (50, 200, 1000)
NARROW = 0.08
BAND_NEAR = pt.Populations._near


def wide_near(self, d, k, count, mean, sd, centre, width, shortest, longest):
    """The band's tracks where it holds 2 x count near the mean, else the model's whole pool where that
    does, else the band rule."""
    rows, alpha, noise, length = self.of[(d, k)]
    near = np.exp(-0.5 * ((alpha - mean) / max(sd, 0.005)) ** 2) >= 0.01
    band = (np.abs(noise - centre) <= width / 2) & (length >= shortest) & (length <= longest)
    if np.count_nonzero(near & band) < 2 * count and np.count_nonzero(near) >= 2 * count:
        return BAND_NEAR(self, d, k, count, mean, sd, self.max_noise / 2, 2 * self.max_noise, 0, np.inf)
    return BAND_NEAR(self, d, k, count, mean, sd, centre, width, shortest, longest)


RULES = {"band": BAND_NEAR, "wide": wide_near}


def pool(ens, level: float, max_length: int, per_model: int, dim: int, seed: int) -> dict:
    found, truth = pt.simulate_pool(per_model, dim, seed, dict(min_length=10, max_length=200, max_noise=1.5))
    return pt.read_pool(ens, found, truth, level, max_length)


def scores(net, held_out: dict, draws: int, seed: int) -> list[str]:
    """Table rows: the network on single-model held-out populations drawn by the wide rule."""
    pt.Populations._near = wide_near
    lines = []
    for size in SIZES:
        populations, rows = pt.Populations(held_out, (size, size), seed=size + seed), []
        with torch.no_grad():
            for _ in range(draws):
                x, mean, sd, shares, _, _ = populations.draw(size)
                if shares.max() < 1:
                    continue
                q, _ = (o[0].numpy() for o in net(torch.from_numpy(x[None]), torch.ones(1, len(x))))
                repeated = len(np.unique(x, axis=0)) < len(x)
                rows.append((mean, sd, q[1], q[0] <= mean <= q[2], abs(q[4] - sd), repeated))
        r = np.array(rows, float)
        for narrow in (True, False):
            part = r[(r[:, 1] < NARROW) == narrow]
            lines.append(
                f"{'narrow' if narrow else 'wide'} | {size} | {len(part)} | {part[:, 5].mean():.2f} | "
                f"{np.abs(part[:, 2] - part[:, 0]).mean():.3f} | {part[:, 3].mean():.2f} | {part[:, 4].mean():.3f}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dim", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--draws", type=int, default=400, help="held-out populations drawn of each size")
    parser.add_argument("--seed", type=int, default=0, help="added to every seed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ens = load_ensemble(None, threads=1)
    network = PopulationNetwork.of(ens)
    level, max_length = network.level, network.description["max_length"]
    train_pool = pool(ens, level, max_length, 20000, args.dim, seed=909 + 100 * args.seed)
    held_out = pool(ens, level, max_length, 20000, args.dim, seed=919 + 100 * args.seed)
    cfg = dict(settings.resolve()["population"], steps=args.steps)
    print(
        f"# benchmarks/population_draws.py --dim {args.dim} --steps {args.steps} --draws {args.draws} "
        f"--seed {args.seed}: pools of {len(train_pool['x'])} and {len(held_out['x'])} tracks read by "
        f"{ens.describe()}; scored on held-out single-model populations of different tracks where the pool "
        f"allows; narrow: true sd < {NARROW}"
    )
    print("| trained on | populations | tracks | scored | repeated tracks | mean error | holds the mean | sd error |")
    print("|---|---|---|---|---|---|---|---|")
    for name, rule in RULES.items():
        pt.Populations._near = rule
        start = time.process_time()
        net = pt.train(train_pool, cfg, seed=1 + args.seed)
        seconds = time.process_time() - start
        for line in scores(net, held_out, args.draws, 100 * args.seed):
            print(f"| {name} ({seconds:.0f} CPU s) | {line} |", flush=True)


if __name__ == "__main__":
    main()
