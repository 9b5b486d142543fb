"""A third road to the population of alpha: a network over sets (Deep Sets) that reads a population's
per-track answers and says its mean and spread, with quantiles, trained on simulated populations that
span the five processes of the 2020 challenge and localisation noise beyond the training recipe. Not a
user's answer yet: measured here (benchmarks/results/population_sets_convlstm-cpu.txt).

1. A pool: `--per-model` 2D tracks of each model (attm, ctrw, fbm, lw, sbm; alpha uniform over the
   model's range, 10-50 points, half cut from 51-point tracks, steps scaled to unit std per axis,
   Gaussian localisation noise of sigma ~ U(0, 1.5) steps), read by the ensemble: alpha, its 90%
   interval, the members' spread, the five model probabilities and log length per track.
2. Populations drawn from the pool: one model (a quarter: two), mean uniform over its range, spread
   U(0, 0.3) (a fifth U(0, 0.06)), 30-1,000 tracks (log-uniform), a band of noise and of lengths; the
   tracks whose alpha is nearest draws of N(mean, sd); the truth is their alphas' mean and sd.
3. The network: each track's answers through a small MLP, pooled by mean and spread over the tracks,
   with log N, into the 5%, 50% and 95% quantiles of the population's mean and of its sd (pinball
   loss), `--steps` batches of 16 populations, one thread.
4. Scored on populations of a pool of its own seed, and on the populations of benchmarks/population.py
   (fbm and sbm from andi-datasets' models, and the training recipe cut challenge-style).

    python benchmarks/population_sets.py --per-model 150000 --steps 20000
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from andi_datasets.models_theory import models_theory

from andiflow.api import load_ensemble
from andiflow.simulate import seeded_globals
from andiflow.tasks import MODELS

sys.path.insert(0, str(Path(__file__).parent))
from population import populations  # noqa: E402

RANGES = {"attm": (0.05, 1.0), "ctrw": (0.05, 1.0), "fbm": (0.05, 1.95), "lw": (1.05, 2.0), "sbm": (0.05, 2.0)}
QUANTILES = (0.05, 0.5, 0.95)


def answers(ens, found: list[np.ndarray]) -> np.ndarray:
    """[n, 10]: alpha, its 90% interval, the members' spread, the model probabilities, log length."""
    est = ens.estimate(found, level=0.9)
    columns = [est["alpha"], est["low"], est["high"], est["std"], *[est[f"p_{m}"] for m in MODELS]]
    return np.stack([*columns, np.log([t.shape[1] for t in found])], axis=1).astype(np.float32)


def pool(ens, per_model: int, seed: int) -> dict:
    generator, parts = models_theory._twoD(), []
    for k, model in enumerate(MODELS):
        rng = np.random.default_rng([seed, k])
        alpha, length = rng.uniform(*RANGES[model], per_model), rng.integers(10, 51, per_model)
        noise, cut = rng.uniform(0, 1.5, per_model), rng.random(per_model) < 0.5
        found = []
        with seeded_globals(seed * 10 + k), np.errstate(all="ignore"):
            for a, T, sigma, longer in zip(alpha, length, noise, cut):
                made = 51 if longer else T + 1  # half cut from a longer track, as the 2020 challenge cut them
                steps = np.diff(np.reshape(getattr(generator, model)(made, a), (2, made)), axis=1)
                scale = steps.std(axis=1, keepdims=True)
                positions = np.cumsum(steps / np.where(scale > 0, scale, 1), axis=1)[:, :T]
                found.append(positions + sigma * rng.standard_normal((2, T)))
        parts.append(dict(x=answers(ens, found), alpha=alpha, model=np.full(per_model, k), noise=noise, length=length))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


class Populations:
    """Populations drawn from a pool: (answers [n, 10], true mean, true sd, the first model); a quarter
    of them mix two models that allow the mean, in shares of 20-80%."""

    def __init__(self, tracks: dict, seed: int):
        self.t, self.rng = tracks, np.random.default_rng(seed)
        self.of_model = [np.flatnonzero(tracks["model"] == k) for k in range(len(MODELS))]

    def draw(self):
        r = self.rng
        while True:  # until the bands hold enough tracks
            k = int(r.integers(len(MODELS)))
            mean = r.uniform(*RANGES[MODELS[k]])
            sd = r.uniform(0, 0.3) if r.random() < 0.8 else r.uniform(0, 0.06)
            n = int(np.exp(r.uniform(np.log(30), np.log(1000))))
            others = [j for j, m in enumerate(MODELS) if j != k and RANGES[m][0] <= mean <= RANGES[m][1]]
            if others and r.random() < 0.25:
                share = r.uniform(0.2, 0.8)
                parts = [(k, round(n * share)), (int(r.choice(others)), n - round(n * share))]
            else:
                parts = [(k, n)]
            width, centre = r.uniform(0.1, 1.6), r.uniform(0, 1.5)
            shortest, longest = np.sort(r.integers(10, 51, 2))
            chosen = [
                self._near(j, count, mean, sd, centre, width, shortest, max(longest, shortest + 5))
                for j, count in parts
            ]
            if all(c is not None for c in chosen):
                chosen = np.concatenate(chosen)
                return self.t["x"][chosen], self.t["alpha"][chosen].mean(), self.t["alpha"][chosen].std(), k

    def _near(self, k, count, mean, sd, centre, width, shortest, longest):
        """`count` tracks of model k in the bands whose alphas are nearest draws of N(mean, sd)."""
        t, r = self.t, self.rng
        idx = self.of_model[k]
        idx = idx[
            (np.abs(t["noise"][idx] - centre) <= width / 2)
            & (t["length"][idx] >= shortest)
            & (t["length"][idx] <= longest)
        ]
        if len(idx) < 200:
            return None
        order = idx[np.argsort(t["alpha"][idx])]
        wanted = np.clip(r.normal(mean, sd, count), *RANGES[MODELS[k]])
        nearest = np.searchsorted(t["alpha"][order], wanted) + r.integers(-2, 3, count)
        return order[np.clip(nearest, 0, len(order) - 1)]


class SetNetwork(torch.nn.Module):
    def __init__(self, inputs=10, hidden=96):
        super().__init__()
        self.phi = torch.nn.Sequential(
            torch.nn.Linear(inputs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden), torch.nn.ReLU()
        )
        self.rho = torch.nn.Sequential(
            torch.nn.Linear(2 * hidden + 1, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, 6),
        )

    def forward(self, x, mask):
        """[b, 6]: the 5%, 50%, 95% quantiles of the mean, then of the sd."""
        e = self.phi(x) * mask[..., None]
        count = mask.sum(1, keepdim=True)
        mean = e.sum(1) / count
        spread = torch.sqrt(torch.clamp((e * e).sum(1) / count - mean**2, min=0) + 1e-6)
        o = self.rho(torch.cat([mean, spread, torch.log(count) / 7], 1))
        soft = torch.nn.functional.softplus
        mid, sd = 1 + o[:, 0], soft(o[:, 3])
        return torch.stack(
            [mid - soft(o[:, 1]), mid, mid + soft(o[:, 2]), sd - soft(o[:, 4]), sd, sd + soft(o[:, 5])], 1
        )


def batch(populations: Populations, size: int):
    drawn = [populations.draw() for _ in range(size)]
    n = max(len(d[0]) for d in drawn)
    x, mask = np.zeros((size, n, drawn[0][0].shape[1]), np.float32), np.zeros((size, n), np.float32)
    for i, d in enumerate(drawn):
        x[i, : len(d[0])], mask[i, : len(d[0])] = d[0], 1
    truth = np.array([[d[1], d[2]] for d in drawn], np.float32)
    return torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(truth)


def train(pool_tracks: dict, steps: int) -> SetNetwork:
    torch.manual_seed(0)
    populations, net = Populations(pool_tracks, 0), SetNetwork()
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        x, mask, truth = batch(populations, 16)
        q = net(x, mask)
        loss = sum(_pinball(q[:, 3 * j + i], truth[:, j], level) for j in range(2) for i, level in enumerate(QUANTILES))
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    return net.eval()


def _pinball(predicted, truth, level):
    d = truth - predicted
    return torch.maximum(level * d, (level - 1) * d).mean()


def read(net: SetNetwork, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(x[None]), torch.ones(1, len(x)))[0].numpy()


def score_line(name: str, rows: list) -> str:
    e = np.array(rows, dtype=float).mean(axis=0)
    return f"| {name} | {len(rows)} | {e[0]:.3f} | {e[1]:.3f} | {e[2]:.2f} | {e[3]:.3f} | {e[4]:.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-model", type=int, default=150000)
    parser.add_argument("--steps", type=int, default=20000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ens, start = load_ensemble(threads=1), time.time()
    net = train(pool(ens, args.per_model, seed=1), args.steps)
    print(
        f"# benchmarks/population_sets.py --per-model {args.per_model} --steps {args.steps}: {ens.describe()}; "
        f"pool and training {time.time() - start:.0f} s on one thread"
    )
    header = (
        "| populations | n | mean error | sd error | 90% interval holds the mean | naive mean error | interval width |"
    )
    print(header)
    print("|---|---|---|---|---|---|---|")
    held_out = Populations(pool(ens, args.per_model // 4, seed=2), 123)
    by_model = {}
    for _ in range(1000):
        x, mean, sd, k = held_out.draw()
        q = read(net, x)
        row = (abs(q[1] - mean), abs(q[4] - sd), q[0] <= mean <= q[2], abs(x[:, 0].mean() - mean), q[2] - q[0])
        by_model.setdefault(f"held-out pool, {MODELS[k]}", []).append(row)
    for process, found, alphas in populations(200, 2, base_seed=9000):
        x = answers(ens, found)
        q, m, s = read(net, x), alphas.mean(), alphas.std()
        row = (abs(q[1] - m), abs(q[4] - s), q[0] <= m <= q[2], abs(x[:, 0].mean() - m), q[2] - q[0])
        by_model.setdefault(f"population.py, {process}", []).append(row)
    for name, rows in by_model.items():
        print(score_line(name, rows))


if __name__ == "__main__":
    main()
