"""How the population network's training populations are drawn, measured: the same network trained at the
same number of steps on populations drawn from the same pool by two rules, scored by the size and spread
of held-out populations of different tracks.

    python benchmarks/population_draws.py              # 2D, 6,000 steps each, one thread (~8 min)
    python benchmarks/population_draws.py --seed 1     # other pools, draws and initial weights

Rules compared (population_train.Populations._near):
- band (whole_pool False; shipped until POPULATION_VERSION 2): a population's tracks come from one band
  of noise and length; where the band holds too few tracks near the population's mean, its sd is
  widened, then tracks are repeated;
- wide (whole_pool True, shipped since): where the band holds too few near the mean, the model's whole
  pool (every noise and length) before that, so that a large narrow population is of different tracks.

Scored on populations drawn by the wide rule (of different tracks, as a file's are) from a held-out
pool, single-model ones, narrow (true sd below 0.08) or wide, of 50, 200 and 1,000 tracks. The pools:
20,000 tracks of each model (held out: as many), made and read as the workflow's pools are
(population_train.simulate_pool, read by the default ensemble), seeds of their own.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import population_sizes as sizes  # noqa: E402

import andiflow.population_train as pt  # noqa: E402
from andiflow import settings  # noqa: E402
from andiflow.api import load_ensemble  # noqa: E402
from andiflow.population_net import PopulationNetwork  # noqa: E402

RULES = {"band": False, "wide": True}  # Populations.whole_pool


def pool(ens, level: float, max_length: int, per_model: int, dim: int, seed: int) -> dict:
    found, truth = pt.simulate_pool(per_model, dim, seed, dict(min_length=10, max_length=200, max_noise=1.5))
    return pt.read_pool(ens, found, truth, level, max_length)


def scores(net, held_out: dict, draws: int, seed: int) -> list[str]:
    """Table rows: the network on single-model held-out populations drawn by the wide rule."""
    pt.Populations.whole_pool = True

    def read(x):
        with torch.no_grad():
            return net(torch.from_numpy(x[None]), torch.ones(1, len(x)))[0][0].numpy()

    lines = []
    for size in sizes.SIZES:
        rows = sizes.by_narrowness(sizes.draws(held_out, read, size, draws, seed=size + seed))
        lines += [f"{narrowness} | {size} | {sizes.summary(r)}" for narrowness, r in rows.items()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dim", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--draws", type=int, default=400, help="held-out populations drawn of each size")
    parser.add_argument("--seed", type=int, default=0, help="added to every seed")
    parser.add_argument("--rules", nargs="+", default=list(RULES), choices=list(RULES))
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
        f"--seed {args.seed} --rules {' '.join(args.rules)}: pools of {len(train_pool['x'])} and "
        f"{len(held_out['x'])} tracks read by {ens.describe()}; scored on held-out single-model populations of "
        f"different tracks where the pool allows; narrow: true sd < {sizes.NARROW}"
    )
    print("| trained on | populations | tracks | scored | repeated tracks | mean error | holds the mean | sd error |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.rules:
        pt.Populations.whole_pool = RULES[name]
        start = time.process_time()
        net = pt.train(train_pool, cfg, seed=1 + args.seed)
        seconds = time.process_time() - start
        for line in scores(net, held_out, args.draws, 100 * args.seed):
            print(f"| {name} ({seconds:.0f} CPU s) | {line} |", flush=True)


if __name__ == "__main__":
    main()
