"""What limits the population network (population_train.py): the same network trained at the same number
of steps on the same populations, with more than the ensemble's answers as each track's input, or
pooled otherwise; scored on populations of held-out pools, on populations of 50, 200 and 1,000
tracks of 10-50 points, and on benchmarks/population_noise.py's populations (one localisation noise
level each, which the answers alone cannot tell).

    python benchmarks/population_inputs.py              # 2D, 15,000 steps each, one thread

Inputs and poolings compared:
- answers: the ensemble's answers alone (population_net.FEATURES up to POPULATION_VERSION 2);
- statistics: with six scale-free statistics of each track's steps beside them
  (population_net.step_statistics; shipped since POPULATION_VERSION 3: the lag-1 and lag-2
  autocorrelations, which fbm's alpha sets; the log ratio of the second half's squared steps to the
  first's, which sbm's sets; the kurtosis and the largest squared step, heavy for ctrw, lw, attm; the
  log2 ratio of the MSD at lag 2 to lag 1);
- lags: statistics, and three more of the steps: their lag-3 and lag-4 autocorrelations and the log2
  ratio of the MSD at lag 4 to lag 2 (localisation noise touches lag 1 alone, fbm's alpha every lag);
- means: statistics, and the second MLP reads the tracks' inputs' mean itself beside the pooled
  embeddings (a population's mean lag-2 autocorrelation, exact rather than through the first MLP);
- one_noise: statistics, trained on populations whose tracks' noise lies in a narrow band (0.03-0.15
  steps wide instead of 0.15-1.65), nearly one level each, as one microscope's tracks have (where
  such a band holds too few tracks near the mean, Populations._near's whole pool, as in training);
- attention: statistics, and the tracks also pooled by 4 attention heads (softmax weights over tracks);
- process: the answers and each track's true process (one-hot): what knowing the process would give;
- noise: statistics, and each track's true localisation noise (in steps): what a user's known
  localisation precision could give at best.
- precision: statistics, and the localisation noise divided by the root mean square of the track's
  observed steps (pooled over its axes; population_net.precision_ratios, as the shipped network reads
  it; the committed results of 2026-12-03/04 divided by their std): what a user's known precision (in
  px or µm) gives beside their track, the same ratio from a file as from these pools.
- precision_one_noise: precision, trained on one_noise's narrow bands.
- precision_bands: precision, trained on bands 0.03-1.65 steps wide (one_noise's and the shipped ones').

The pools: 20,000 tracks of each model (held out: 5,000) made and read as the workflow's pools are
(population_train.simulate_pool, read by the default ensemble), seeds of their own.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

import andiflow.population_train as pt
from andiflow.api import load_ensemble, predict
from andiflow.population_net import FEATURES, STATISTICS, features, step_rms
from andiflow.tasks import MODELS

sys.path.insert(0, str(Path(__file__).parent))
import population_noise  # noqa: E402

POOL = dict(min_length=10, max_length=200, max_noise=1.5)
VARIANTS = (
    "answers", "statistics", "lags", "means", "one_noise", "attention", "process", "noise", "precision",
    "precision_one_noise", "precision_bands",
)  # fmt: skip
NOISE_WIDTHS = {"one_noise": (0.02, 0.1), "precision_one_noise": (0.02, 0.1), "precision_bands": (0.02, 1.1)}


def more_lags(track: np.ndarray) -> np.ndarray:
    """The lags variant's three statistics of a track [axes, T] (the axes it moves on)."""
    track = track[np.diff(track, axis=1).any(1)]
    steps = np.diff(track, axis=1)
    total = (steps * steps).sum()
    msd = [
        ((track[:, lag:] - track[:, :-lag]) ** 2).mean(1).sum() if track.shape[1] > lag else np.nan for lag in (2, 4)
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        found = [(steps[:, k:] * steps[:, :-k]).sum() / total for k in (3, 4)] + [np.log2(msd[1] / msd[0])]
    return np.clip(np.nan_to_num(found), -8, 8).astype(np.float32)


def read(ens, found: list, processes: np.ndarray) -> tuple[dict, np.ndarray]:
    """The inputs of the tracks predict answers, as the variants read them (x: population_net.features,
    lags, the true process one-hot), and which tracks those are."""
    table = predict(found, models=ens, interval=0.9, warn=lambda message: None)
    kept = table["alpha"].notna().to_numpy()
    moving = [t.T for t, k in zip(found, kept) if k]
    made = dict(
        x=features(table[kept], moving, POOL["max_length"]),
        lags=np.array([more_lags(t) for t in moving]),
        process=np.eye(len(MODELS), dtype=np.float32)[processes[kept]],
        step_rms=np.array([step_rms(t) for t in moving]),
    )
    return made, kept


def pool(ens, per_model: int, dim: int, seed: int) -> dict:
    """A pool as population_train.read_pool makes it, with each track's lags and true process."""
    found, truth = pt.simulate_pool(per_model, dim, seed, POOL)
    made, kept = read(ens, found, truth["model"].to_numpy())
    return made | {c: truth[c].to_numpy()[kept] for c in truth.columns}


def inputs(made: dict, variant: str) -> dict:
    """The pool with the variant's inputs as x (made["x"]: population_net.FEATURES, the statistics last)."""
    answers = made["x"][:, : len(FEATURES) - len(STATISTICS)]
    x = {
        "answers": answers,
        "process": np.concatenate([answers, made["process"]], 1),
        "lags": np.concatenate([made["x"], made["lags"]], 1),
        "noise": np.concatenate([made["x"], made["noise"][:, None]], 1),
        "precision": pt.with_precision(made)["x"],
    }.get(variant.removesuffix("_one_noise").removesuffix("_bands"), made["x"])
    return made | {"x": x.astype(np.float32)}


class AttentionSet(pt.SetNetwork):
    """SetNetwork with 4 attention-weighted means of the tracks' features beside their mean and spread."""

    def __init__(self, inputs: int, hidden: int, max_tracks: int, heads: int = 4):
        super().__init__(inputs, hidden, max_tracks)
        self.score = nn.Linear(hidden, heads)
        self.rho[0] = nn.Linear(2 * hidden + 1 + heads * hidden, hidden)

    def pooled(self, e, mask) -> list:
        weights = torch.softmax(self.score(e).masked_fill(mask[..., None] == 0, -1e9), 1)
        return [*super().pooled(e, mask), torch.einsum("bnh,bnf->bhf", weights, e).flatten(1)]


class MeansSet(pt.SetNetwork):
    """SetNetwork whose second MLP also reads the mean of the tracks' inputs."""

    def __init__(self, inputs: int, hidden: int, max_tracks: int):
        super().__init__(inputs, hidden, max_tracks)
        self.rho[0] = nn.Linear(2 * hidden + 1 + inputs, hidden)

    def forward(self, x, mask):
        e = self.phi(x) * mask[..., None]
        means = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.head(torch.cat([*self.pooled(e, mask), means], 1))


def noise_levels(ens, dim: int, n: int = 1000) -> list[dict]:
    """benchmarks/population_noise.py's populations (fbm and sbm, one noise level each), read as pool()
    reads its tracks: (process, mean, noise, true mean, each track's inputs)."""
    populations = []
    for process, mean, sigma, found, alphas in population_noise.noise_populations(dim, n):
        made, kept = read(ens, found, np.full(len(found), MODELS.index(process)))
        made["noise"] = np.full(kept.sum(), sigma, np.float32)
        populations.append(dict(process=process, mean=mean, noise=sigma, truth=alphas[kept].mean(), made=made))
    return populations


def by_noise(net, populations: list[dict], variant: str) -> pd.DataFrame:
    """The network's error of the mean on noise_levels' populations, and whether its interval holds it."""
    rows = []
    with torch.no_grad():
        for p in populations:
            x = inputs(p["made"], variant)["x"]
            q, _ = (o[0].numpy() for o in net(torch.from_numpy(x[None]), torch.ones(1, len(x))))
            rows.append(dict(process=p["process"], mean=p["mean"], noise=p["noise"], answer=round(float(q[1]), 3),
                             error=abs(q[1] - p["truth"]), holds=float(q[0] <= p["truth"] <= q[2])))  # fmt: skip
    return pd.DataFrame(rows)


def fixed_sizes(net, held: dict, dim: int, seed: int) -> pd.DataFrame:
    """Errors on populations of 50, 200 and 1,000 tracks of 10-50 points, all noise levels: each model,
    3 means inside its range, spreads 0.05 and 0.15, 3 of each."""
    populations, rows = pt.Populations(held, (10, 2000), seed), []
    with torch.no_grad():
        for n in (50, 200, 1000):
            for k, model in enumerate(MODELS):
                for mean in np.linspace(*pt.RANGES[model], 5)[1:-1]:
                    for sd in (0.05, 0.15):
                        for _ in range(3):
                            chosen = populations._near(dim, k, n, mean, sd, 0.75, 1.5, 10, 50)
                            x, alphas = held["x"][chosen], held["alpha"][chosen]
                            q, _ = (o[0].numpy() for o in net(torch.from_numpy(x[None]), torch.ones(1, len(x))))
                            truth = alphas.mean()
                            rows.append(dict(tracks=n, process=model, mean_error=abs(q[1] - truth),
                                             holds=float(q[0] <= truth <= q[2]), width=q[2] - q[0]))  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dim", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--steps", type=int, default=15000)
    parser.add_argument("--per-model", type=int, default=20000)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ens = load_ensemble(threads=1)
    print(f"# benchmarks/population_inputs.py --dim {args.dim} --steps {args.steps} --per-model {args.per_model}")
    made = pool(ens, args.per_model, args.dim, 101), pool(ens, args.per_model // 4, args.dim, 202)
    noisy = noise_levels(ens, args.dim)
    summary = []
    for variant in args.variants:
        train, held = (inputs(m, variant) for m in made)
        make = pt.SetNetwork
        pt.SetNetwork = {"attention": AttentionSet, "means": MeansSet}.get(variant, make)
        cfg = dict(steps=args.steps, batch=16, hidden=96, learning_rate=0.002, tracks=[10, 2000])
        start = time.perf_counter()
        net = pt.train(train, cfg | {"noise_widths": NOISE_WIDTHS.get(variant, pt.NOISE_WIDTHS)}, 7)
        pt.SetNetwork = make
        seconds = time.perf_counter() - start
        scores = pd.DataFrame(pt.held_out_scores(net, held, (10, 2000), 1500, 8))
        sizes = fixed_sizes(net, held, args.dim, 9)
        print(f"\n## {variant} ({seconds:.0f} s of training)")
        print(scores.round(3).to_string(index=False))
        print(sizes.groupby(["process", "tracks"]).mean().round(3).to_string())
        levels = by_noise(net, noisy, variant)
        print("\nOne noise level per population (benchmarks/population_noise.py's), 1,000 tracks:")
        print(levels.to_string(index=False))
        print(levels.groupby(["process", "noise"])[["error", "holds"]].mean().round(3).to_string())
        summary.append(
            dict(variant=variant, **scores[["mean_error", "sd_error", "holds", "width", "share_error"]].mean())
            | {f"mean_error_{n}": e for n, e in sizes.groupby("tracks")["mean_error"].mean().items()}
            | {"noise_levels_error": levels["error"].mean(), "noise_levels_holds": levels["holds"].mean()}
        )
    print("\n## held-out populations (10-2,000 tracks of 10-200 points), mean over processes; and fixed sizes")
    print(pd.DataFrame(summary).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
