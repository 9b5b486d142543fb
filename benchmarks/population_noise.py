"""How the population answer and the naive one (the mean of the per-track estimates) move with the
localisation noise, at one noise level per population: where benchmarks/population.py's errors of the
mean come from (its populations mix every level from 0 to 1.5 steps).

    python benchmarks/population_noise.py            # the default ensemble, 2D, 1,000 tracks of 10-50 points
    python benchmarks/population_noise.py --precision  # each population's noise told: its precision network
    python benchmarks/population_noise.py --precision --told 0.5 0.8 1 1.25 2  # misjudged: told the noise times each

fbm and sbm populations (benchmarks/population.tracks: steps scaled to unit std, Gaussian localisation
noise of sigma `--noise` steps for every track), alpha ~ N(mean, 0.1), seeds of their own.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from andiflow import population, predict
from andiflow.api import load_ensemble
from andiflow.errors import SettingsError

sys.path.insert(0, str(Path(__file__).parent))
import population as made_apart  # noqa: E402  (benchmarks/population.py)

NOISE = (0.0, 0.5, 1.0, 1.5)


def noise_populations(dim: int, n: int, noise=NOISE):
    """(process, mean, noise, tracks, their alphas) of each population: fbm and sbm at each of
    benchmarks/population.py's means, alpha ~ N(mean, 0.1), every track with the same noise."""
    for k, (process, mean) in enumerate((p, m) for p in ("fbm", "sbm") for m in made_apart.SETTINGS[p]):
        for j, sigma in enumerate(noise):
            seed = 9100 + 10 * k + j
            found, alphas, _ = made_apart.tracks(process, mean, 0.1, n, dim, seed, None, (sigma, sigma))
            yield process, mean, sigma, found, alphas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=None)
    parser.add_argument("--network", help="the population networks' folder (default: the ensemble's)")
    parser.add_argument("--dim", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--noise", type=float, nargs="+", default=list(NOISE))
    parser.add_argument("--precision", action="store_true", help="tell population() the noise (its sigma)")
    parser.add_argument(
        "--told", type=float, nargs="+", default=[1.0], help="with --precision: tell it the noise times each of these"
    )
    args = parser.parse_args()
    ens = load_ensemble(args.models, threads=1)
    populations = list(noise_populations(args.dim, args.tracks, args.noise))
    naive = [predict(found, ens, warn=lambda message: None)["alpha"].mean() for _, _, _, found, _ in populations]
    for factor in args.told if args.precision else [None]:
        told = f" --precision --told {factor:g}" if args.precision else ""
        network = f" --network {args.network}" if args.network else ""
        print(
            f"# benchmarks/population_noise.py --dim {args.dim} --tracks {args.tracks}{told}{network}: {ens.describe()}"
        )
        print("| process | mean | noise (steps) | true mean | naive mean | answer's mean | its 90% interval | holds |")
        print("|---|---|---|---|---|---|---|---|")
        errors, holds, refused = [], 0, 0
        for (process, mean, sigma, found, alphas), naive_mean in zip(populations, naive):
            truth, said = alphas.mean(), f"| {process} | {mean} | {sigma:g} | {alphas.mean():.3f} | {naive_mean:.3f} |"
            try:
                precision = sigma * factor if args.precision else None
                a = population(found, ens, network=args.network, precision=precision).iloc[0]
            except SettingsError as error:  # a precision told larger than the steps allow
                print(f"{said} refused: {error} | | |")
                refused += 1
                continue
            low, high = a["alpha_mean_low"], a["alpha_mean_high"]
            errors.append(abs(a["alpha_mean"] - truth))
            holds += low <= truth <= high
            print(
                f"{said} {a['alpha_mean']:.3f} | [{low:.3f}, {high:.3f}] | {'yes' if low <= truth <= high else 'no'} |"
            )
        print(
            f"\nmean error {np.mean(errors):.3f}, largest {np.max(errors):.3f}; the interval holds in {holds} of "
            f"{len(errors)}; refused {refused}\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
