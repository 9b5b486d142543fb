"""Population networks on held-out populations that mix several diffusion models: the same draws (the
workflow's held-out pools, populations drawn as the networks are trained but with mixtures of up to four
models, population.mix_models 4) read by each network folder given, grouped by how many models a
population holds: the error of the mean, how often the mean's 90% interval holds it, the shares' error
(half the L1 distance), how often the shares' 90% intervals hold the true share (all five models; the
largest). Held-out pools only: no test population chooses anything here.

    python benchmarks/population_mixtures.py OLD_FOLDER NEW_FOLDER [--precision] [--n 3000]
    e.g. convlstm-cpu/results/population/network; the held-out pools (temporary in the workflow) first:
    snakemake results/population/pools/held_out_{1,2,3}D.npz --notemp --cores 2 --configfile config/convlstm-cpu.yaml

Results: benchmarks/results/population_mixtures*.txt.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from andiflow import settings
from andiflow.population_net import PopulationNetwork
from andiflow.population_train import drawn_as_in_training, precision_settings, with_precision
from andiflow.tasks import MODELS

POOLS = Path("convlstm-cpu/results/population/pools")


def held_out_pool(precision: bool) -> dict:
    parts = [dict(np.load(POOLS / f"held_out_{d}D.npz")) for d in (1, 2, 3)]
    pool = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return with_precision(pool) if precision else pool


def network(folder: Path, precision: bool) -> PopulationNetwork:
    description = json.loads((folder / ("population_precision.json" if precision else "population.json")).read_text())
    return PopulationNetwork(folder, description["ensemble_sha256"], precision)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--precision", action="store_true", help="the networks that read a precision")
    parser.add_argument("--n", type=int, default=3000, help="populations drawn")
    parser.add_argument("--seed", type=int, default=26)
    args = parser.parse_args()
    cfg = settings.resolve(yaml.safe_load(Path("config/convlstm-cpu.yaml").read_text()))["population"]
    if args.precision:
        cfg = precision_settings(cfg)
    populations = drawn_as_in_training(held_out_pool(args.precision), cfg | {"mix_models": 4}, args.seed)
    draws = [populations.draw() for _ in range(args.n)]
    print(f"# {args.n} held-out populations (seed {args.seed}), {'precision' * args.precision or 'first'} networks")
    for folder in args.folders:
        net, rows = network(folder, args.precision), []
        for x, mean, _, shares, _, _ in draws:
            answer = net.answer(x)
            given, low, high = (np.array([answer[f"share_{m}{end}"] for m in MODELS]) for end in ("", "_low", "_high"))
            holds = (low - 1e-9 <= shares) & (shares <= high + 1e-9)
            rows.append(
                dict(
                    models=min(int(np.count_nonzero(shares)), 3), mean_error=abs(answer["alpha_mean"] - mean),
                    mean_holds=float(answer["alpha_mean_low"] <= mean <= answer["alpha_mean_high"]),
                    share_error=float(np.abs(given - shares).sum() / 2), share_holds=holds.mean(),
                    largest_holds=float(holds[np.argmax(shares)]),
                )
            )  # fmt: skip
        table = (
            pd.DataFrame(rows)
            .groupby("models")
            .agg(populations=("mean_error", "size"), **{c: (c, "mean") for c in rows[0] if c != "models"})
        )
        table.index = [{1: "1 model", 2: "2 models", 3: "3-4 models"}[i] for i in table.index]
        print(f"\n{folder}\n{table.round(3).to_string()}", flush=True)


if __name__ == "__main__":
    main()
