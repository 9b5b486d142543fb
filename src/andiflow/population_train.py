"""How the population network (population_net.py) is made: a pool of simulated tracks read by the alpha
ensemble, populations drawn from it, and a network over sets trained on them (beyond HNU). Needs
andi-datasets and PyTorch; prediction needs neither.

1. A pool per dimension: tracks of each of the 2020 challenge's five models (alpha uniform over the
   model's range, lengths log-uniform, half of them cut from the start of a longer track, steps scaled
   to unit std per axis, Gaussian localisation noise of sigma ~ U(0, max_noise) steps), read by the
   ensemble as `andiflow.predict` reads a user's tracks.
2. Populations drawn from a pool: one dimension, one model (a quarter of them a mix of two, or up
   to `mix_models`, that allow the mean), a mean uniform over the model's range, a spread U(0, 0.3)
   (a fifth U(0, 0.06)), a band of noise and of lengths, a number of tracks log-uniform over
   `tracks`; different tracks drawn with weights N(mean, sd) of their alpha (Populations._near). The
   truth is their alphas' mean and sd and their models' shares.
3. The network (SetNetwork): each track's answers through an MLP, pooled by mean and spread, with the
   number of tracks, into quantiles of the population's mean and sd (pinball loss) and the models'
   shares (cross-entropy).
4. The shares' intervals (share_bounds): on populations drawn as in training from a held-out pool, the
   quantiles of each model's true share minus the exported network's, by bins of the share it gives
   and of the population's size.
"""

import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from andiflow.errors import SettingsError
from andiflow.population_net import QUANTILES, SHARE_BINS, SIZE_BINS, features, step_rms
from andiflow.seeds import derive_seed
from andiflow.simulate import seeded_globals
from andiflow.tasks import MODELS

RANGES = {"attm": (0.05, 1.0), "ctrw": (0.05, 1.0), "fbm": (0.05, 1.95), "lw": (1.05, 2.0), "sbm": (0.05, 2.0)}
MIN_BAND = 200  # tracks a model's noise and length band must hold for a population to be drawn from it
# (a fifth of the model's tracks in a pool smaller than 1,000 a model, as tests make)
NOISE_WIDTHS = (0.1, 1.1)  # a population's band of noise (of the pool's largest) is drawn this wide
DRAWS = 10000  # tries at a population before the pool is called too small for its bands
SHARE_WEIGHT = 0.1  # of the shares' cross-entropy beside the quantiles' pinball loss


def simulate_pool(per_model: int, dim: int, seed: int, pool: dict) -> tuple[list[np.ndarray], pd.DataFrame]:
    """`per_model` tracks [T, dim] of each model, and their truth (model, alpha, noise, length)."""
    generator = theory_generator(dim)
    found, truth = [], []
    for k, model in enumerate(MODELS):
        model_seed = derive_seed(seed, model, dim)
        rng = np.random.default_rng(model_seed)
        alpha = rng.uniform(*RANGES[model], per_model)
        length = np.round(np.exp(rng.uniform(*np.log([pool["min_length"], pool["max_length"]]), per_model)))
        noise, longer = rng.uniform(0, pool["max_noise"], per_model), rng.uniform(1, 4, per_model)
        cut = rng.random(per_model) < 0.5
        with seeded_globals(model_seed), np.errstate(all="ignore"):
            for a, T, sigma, factor, is_cut in zip(alpha, length.astype(int), noise, longer, cut):
                made = int(T * factor) + 1 if is_cut else T + 1
                found.append(theory_track(generator, dim, model, a, T, made, sigma, rng))
        truth.append(pd.DataFrame(dict(model=k, alpha=alpha, noise=noise, length=length.astype(int), dim=dim)))
    return found, pd.concat(truth, ignore_index=True)


def theory_generator(dim: int):
    """andi-datasets' models of the 2020 challenge in `dim` dimensions."""
    from andi_datasets.models_theory import models_theory

    return {1: models_theory._oneD, 2: models_theory._twoD, 3: models_theory._threeD}[dim]()


def theory_track(generator, dim: int, model: str, alpha: float, T: int, made: int, sigma: float, rng) -> np.ndarray:
    """[T, dim]: the first T steps of a track of `made` points of the model (theory_generator(dim)'s),
    each axis's steps scaled to unit std, with Gaussian localisation noise of sigma steps (from rng)."""
    steps = np.diff(np.reshape(getattr(generator, model)(made, alpha), (dim, made)), axis=1)[:, :T]
    scale = steps.std(axis=1, keepdims=True)
    positions = np.cumsum(steps / np.where(scale > 0, scale, 1), axis=1)
    return (positions + sigma * rng.standard_normal((dim, T))).T


def read_pool(ens, found: list[np.ndarray], truth: pd.DataFrame, level: float, max_length: int) -> dict:
    """The pool as the network sees it: each track's features (population_net.features of predict's row
    and its steps), beside its truth; tracks predict could not read (none moving) are left out."""
    from andiflow.api import predict

    table = predict(found, models=ens, interval=level, warn=lambda message: None)
    kept = table["alpha"].notna().to_numpy()
    moving = [t.T for t, k in zip(found, kept) if k]
    x = features(table[kept], moving, max_length)
    truths = {c: truth[c].to_numpy()[kept] for c in truth.columns}
    return dict(x=x, step_rms=np.array([step_rms(t) for t in moving]), **truths)


def with_precision(pool: dict) -> dict:
    """The pool as the precision network sees it: each track's noise over its observed steps' root mean square
    (population_net.precision_ratios) after its features."""
    return pool | {"x": np.column_stack([pool["x"], pool["noise"] / pool["step_rms"]]).astype(np.float32)}


class Populations:
    """Populations drawn from a pool (read_pool's arrays, several dimensions concatenated): each is
    (features [n, F], true mean, true sd, true shares [5], its first model, its dimension)."""

    whole_pool = True  # _near's large narrow populations (benchmarks/population_draws.py compares without)

    def __init__(
        self, pool: dict, tracks: tuple[int, int], seed: int, noise_widths=NOISE_WIDTHS, misjudged=0.0, mix_models=2
    ):
        """noise_widths: the range of a population's band of noise, of the pool's largest noise;
        misjudged: the sd of the log of the factor by which a population's precision (the last feature,
        with_precision) is told, one per population (0: exactly); mix_models: the most models a
        mixture holds."""
        self.p, self.tracks, self.rng = pool, tracks, np.random.default_rng(seed)
        self.noise_widths, self.misjudged, self.mix_models = noise_widths, misjudged, mix_models
        self.dims = sorted(set(pool["dim"].tolist()))
        by_alpha = np.argsort(pool["alpha"], kind="stable")
        self.of = {}  # each model's tracks of each dimension by increasing alpha: rows, alpha, noise, length
        for d in self.dims:
            for k in range(len(MODELS)):
                rows = by_alpha[(pool["dim"][by_alpha] == d) & (pool["model"][by_alpha] == k)]
                self.of[(d, k)] = (rows, *(pool[c][rows] for c in ("alpha", "noise", "length")))
        self.min_band = min(MIN_BAND, min(len(of[0]) for of in self.of.values()) // 5)
        self.lengths = (pool["length"].min(), pool["length"].max())
        self.max_noise = pool["noise"].max()

    def size(self) -> int:
        return int(np.exp(self.rng.uniform(*np.log(self.tracks))))

    def draw(self, n: int | None = None):
        """A population of n tracks (None: a size drawn log-uniformly from `tracks`)."""
        r, n = self.rng, n or self.size()
        for _ in range(DRAWS):  # until the bands hold enough tracks
            d, k = int(r.choice(self.dims)), int(r.integers(len(MODELS)))
            mean = r.uniform(*RANGES[MODELS[k]])
            sd = r.uniform(0, 0.3) if r.random() < 0.8 else r.uniform(0, 0.06)
            others = [j for j, m in enumerate(MODELS) if j != k and RANGES[m][0] <= mean <= RANGES[m][1]]
            parts = self._mixture(k, n, others) if others and r.random() < 0.25 else [(k, n)]
            width = r.uniform(*self.noise_widths) * self.max_noise
            centre = r.uniform(0, self.max_noise)
            shortest, longest = np.sort(np.exp(r.uniform(*np.log(self.lengths), 2)))
            bands = (centre, width, shortest, max(longest, 1.5 * shortest))
            chosen = [self._near(d, j, count, mean, sd, *bands) for j, count in parts if count > 0]
            if all(c is not None for c in chosen):
                chosen = np.concatenate(chosen)
                alphas = self.p["alpha"][chosen]
                shares = np.bincount(self.p["model"][chosen], minlength=len(MODELS)) / len(chosen)
                return self._told(self.p["x"][chosen]), alphas.mean(), alphas.std(), shares, k, d
        raise SettingsError(
            f"no population of {n} tracks in {DRAWS:,} draws: the pool holds too few tracks in bands of noise "
            f"{self.noise_widths[0]}-{self.noise_widths[1]} of its largest wide; widen them or the pool"
        )

    def _mixture(self, k: int, n: int, others: list[int]) -> list[tuple[int, int]]:
        """(model, tracks) of a mixture of model k and 1 to mix_models - 1 of the others."""
        r = self.rng
        m = 2 if self.mix_models == 2 else int(r.integers(2, min(self.mix_models, len(others) + 1) + 1))
        if m == 2:
            share = round(n * r.uniform(0.2, 0.8))
            return [(k, share), (int(r.choice(others)), n - share)]
        models = [k, *(int(j) for j in r.choice(others, m - 1, replace=False))]
        counts = np.floor(r.dirichlet(np.ones(m)) * n).astype(int)
        counts[0] += n - counts.sum()
        return list(zip(models, counts.tolist()))

    def _told(self, x: np.ndarray) -> np.ndarray:
        """The features with the precision misjudged by one factor, where `misjudged`."""
        if not self.misjudged:
            return x
        return np.column_stack([x[:, :-1], x[:, -1] * np.exp(self.rng.normal(0, self.misjudged))])

    def _near(self, d, k, count, mean, sd, centre, width, shortest, longest):
        """`count` different tracks of model k in the bands, drawn with weights N(mean, sd) of their
        alpha (the sd widened until twice `count` tracks weigh at least 1% of the most): a population
        of repeated tracks says less than its size, and a network trained on such learns to trust
        size too little. Where the bands hold fewer than twice `count` near the mean but the model's
        whole pool holds enough, the whole pool (a large narrow population; benchmarks/population_draws.py);
        where the bands hold fewer than twice `count` in all, the tracks whose alphas are nearest draws
        of N(mean, sd), repeats allowed."""
        rows, alpha, noise, length = self.of[(d, k)]
        band = (np.abs(noise - centre) <= width / 2) & (length >= shortest) & (length <= longest)
        near = np.exp(-0.5 * ((alpha - mean) / max(sd, 0.005)) ** 2) >= 0.01
        if self.whole_pool and np.count_nonzero(near & band) < 2 * count <= np.count_nonzero(near):
            band = np.ones_like(band)
        if band.sum() < self.min_band:
            return None
        rows, alpha = rows[band], alpha[band]
        if len(rows) < 2 * count:
            wanted = np.clip(self.rng.normal(mean, sd, count), *RANGES[MODELS[k]])
            nearest = np.searchsorted(alpha, wanted) + self.rng.integers(-2, 3, count)
            return rows[np.clip(nearest, 0, len(rows) - 1)]
        sd = max(sd, 0.005)
        while True:
            weight = np.exp(-0.5 * ((alpha - mean) / sd) ** 2)
            if np.count_nonzero(weight >= 0.01) >= 2 * count:
                break
            sd *= 1.5
        keys = np.log(self.rng.random(len(rows))) / np.maximum(weight, 1e-300)  # weighted, without repeats
        return rows[np.sort(np.argpartition(keys, -count)[-count:])]


class SetNetwork(nn.Module):
    """A set of tracks' features [b, n, F] (mask [b, n]: 1 for a track, 0 for padding) -> quantiles
    [b, 6] (QUANTILES of the population's mean, then of its sd) and model shares [b, 5]."""

    def __init__(self, inputs: int, hidden: int, max_tracks: int):
        super().__init__()
        self.log_max = math.log(max_tracks)
        self.phi = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.rho = nn.Sequential(
            nn.Linear(2 * hidden + 1, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 6 + len(MODELS)),
        )

    def forward(self, x, mask):
        e = self.phi(x) * mask[..., None]
        return self.head(torch.cat(self.pooled(e, mask), 1))

    def head(self, pooled):
        """The pooled set [b, rho's inputs] -> quantiles [b, 6], shares [b, 5]."""
        o = self.rho(pooled)
        soft = nn.functional.softplus
        mid, sd = 1 + o[:, 0], soft(o[:, 3])
        quantiles = torch.stack(
            [mid - soft(o[:, 1]), mid, mid + soft(o[:, 2]), sd - soft(o[:, 4]), sd, sd + soft(o[:, 5])], 1
        )
        return quantiles, torch.softmax(o[:, 6:], 1)

    def pooled(self, e, mask) -> list:
        """The tracks' features e [b, n, hidden] pooled: their mean, their spread, the set's size."""
        count = mask.sum(1, keepdim=True)
        mean = e.sum(1) / count
        spread = torch.sqrt(torch.clamp((e * e).sum(1) / count - mean**2, min=0) + 1e-6)
        # a larger set than any trained on is read as the largest: its interval no narrower
        size = torch.clamp(torch.log(count), max=self.log_max) / self.log_max
        return [mean, spread, size]


class Unmasked(nn.Module):
    """What is exported: one population's tracks [1, n, F], all of them tracks."""

    def __init__(self, net: SetNetwork):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x, torch.ones_like(x[..., 0]))


def export(net: SetNetwork, path) -> None:
    """The network as an ONNX file: `tracks` [1, n, F] (any n) -> `quantiles` [1, 6], `shares` [1, 5]."""
    from andiflow.export import write_onnx

    outputs, axes = ["quantiles", "shares"], {"tracks": {1: "tracks"}}
    example = torch.randn(1, 40, net.phi[0].in_features)
    write_onnx(Unmasked(net), example, path, ["tracks"], outputs, axes, compact=False)


def batch(populations: Populations, size: int):
    """`size` populations of one number of tracks (no padding to compute through), and their truth."""
    n = populations.size()
    drawn = [populations.draw(n) for _ in range(size)]
    n = max(len(d[0]) for d in drawn)
    x, mask = np.zeros((size, n, drawn[0][0].shape[1]), np.float32), np.zeros((size, n), np.float32)
    for i, d in enumerate(drawn):
        x[i, : len(d[0])], mask[i, : len(d[0])] = d[0], 1
    truth = torch.tensor([[d[1], d[2]] for d in drawn], dtype=torch.float32)
    shares = torch.tensor(np.array([d[3] for d in drawn]), dtype=torch.float32)
    return torch.from_numpy(x), torch.from_numpy(mask), truth, shares


def train(pool: dict, cfg: dict, seed: int) -> SetNetwork:
    """The network trained on cfg["steps"] batches of cfg["batch"] populations drawn from the pool."""
    torch.manual_seed(seed)
    populations = drawn_as_in_training(pool, cfg, seed)
    net = SetNetwork(pool["x"].shape[1], cfg["hidden"], cfg["tracks"][1])
    opt = torch.optim.Adam(net.parameters(), cfg["learning_rate"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg["steps"])
    for _ in range(cfg["steps"]):
        x, mask, truth, shares = batch(populations, cfg["batch"])
        quantiles, predicted_shares = net(x, mask)
        pinballs = [pinball(quantiles[:, 3 * j + i], truth[:, j], q) for j in range(2) for i, q in enumerate(QUANTILES)]
        loss = sum(pinballs) - SHARE_WEIGHT * (shares * torch.log(predicted_shares + 1e-8)).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    return net.eval()


def precision_settings(cfg: dict) -> dict:
    """The population settings of the network that reads a precision: its bands of noise and how far
    its populations are told their precision from the truth, in place of the first network's."""
    told = cfg["precision"]
    return dict(cfg) | {"noise_widths": list(told["noise_widths"]), "misjudged": told["misjudged"]}


def drawn_as_in_training(pool: dict, cfg: dict, seed: int) -> Populations:
    """Populations of the pool drawn as cfg's network is trained on (its bands of noise, its told
    precision, its mixtures)."""
    widths, misjudged = tuple(cfg.get("noise_widths", NOISE_WIDTHS)), cfg.get("misjudged", 0.0)
    return Populations(pool, tuple(cfg["tracks"]), seed, widths, misjudged, cfg.get("mix_models", 2))


def pinball(predicted, truth, level):
    d = truth - predicted
    return torch.maximum(level * d, (level - 1) * d).mean()


def held_out_scores(net: SetNetwork, pool: dict, tracks: tuple[int, int], n: int, seed: int) -> list[dict]:
    """Per dimension and process, on n populations of a held-out pool: the errors of the mean and sd,
    how often the interval holds the true mean, its width, and the naive mean's error."""
    populations, rows = Populations(pool, tracks, seed), []
    with torch.no_grad():
        for _ in range(n):
            x, mean, sd, shares, k, d = populations.draw()
            q, s = (o[0].numpy() for o in net(torch.from_numpy(x[None]), torch.ones(1, len(x))))
            rows.append(
                dict(
                    dim=d, process=MODELS[k], mean_error=abs(q[1] - mean), sd_error=abs(q[4] - sd),
                    holds=float(q[0] <= mean <= q[2]), width=q[2] - q[0], naive_error=abs(x[:, 0].mean() - mean),
                    share_error=float(np.abs(s - shares).sum() / 2),
                )
            )  # fmt: skip
    table = pd.DataFrame(rows).groupby(["dim", "process"])
    scores = ("mean_error", "sd_error", "holds", "width", "naive_error", "share_error")
    return [
        dict(dim=int(d), process=p, populations=len(part), **{c: round(float(part[c].mean()), 4) for c in scores})
        for (d, p), part in table
    ]


def share_bounds(shares_of, pool: dict, cfg: dict, seed: int, level: float) -> dict:
    """Each model's share interval, as offsets from the share the network gives: on cfg's
    `share_populations` populations drawn as in training from a held-out pool, the (1 -+ level) / 2
    quantiles of the true share minus the given one, per model, bin of the population's size
    (SIZE_BINS) and bin of the given share (SHARE_BINS; a cell of fewer than 20 populations takes the
    model's offsets of that share bin over all sizes). shares_of: features [n, F] -> shares [5]."""
    n = cfg["share_populations"]
    populations = drawn_as_in_training(pool, cfg, seed)
    sizes, given, true = np.zeros(n), np.zeros((n, len(MODELS))), np.zeros((n, len(MODELS)))
    for i in range(n):
        x, _, _, true[i], _, _ = populations.draw()
        sizes[i], given[i] = len(x), shares_of(x)
    size_bin, share_bin = np.digitize(sizes, SIZE_BINS), np.digitize(given, SHARE_BINS)
    quantiles = ((1 - level) / 2, (1 + level) / 2)
    bounds = np.zeros((2, len(MODELS), len(SIZE_BINS) + 1, len(SHARE_BINS) + 1))
    for m, j in np.ndindex(len(MODELS), len(SHARE_BINS) + 1):
        in_bin = share_bin[:, m] == j
        for i in range(len(SIZE_BINS) + 1):
            cell = in_bin & (size_bin == i)
            errors = (true - given)[cell if cell.sum() >= 20 else in_bin, m]
            bounds[:, m, i, j] = np.quantile(errors, quantiles) if len(errors) else (-1.0, 1.0)
    return dict(
        populations=n, level=level, size_bins=list(SIZE_BINS), share_bins=list(SHARE_BINS),
        low=(np.round(bounds[0], 4) + 0.0).tolist(), high=(np.round(bounds[1], 4) + 0.0).tolist(),  # no -0.0
    )  # fmt: skip
