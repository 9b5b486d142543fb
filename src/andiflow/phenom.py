"""Tracks whose motion changes, as the 2nd AnDi challenge (2024) made them, with per-frame labels: the
training data of the segments task. andi-datasets' phenomenological models (`models_phenom`: single
state, multi-state, immobile traps, dimerization, confinement), 2D, in a 230.4 px box, localisation
noise added; each frame labelled with alpha, K (the generalised diffusion coefficient, px^2/frame^alpha),
the state (0 immobile, 1 confined, 2 free, 3 directed) and whether a new segment starts there. The labels
are filtered as the challenge filters them (`label_filter`: a majority vote over 5 frames, then no
segment shorter than 3 frames), by a vectorised equivalent with identical output.

The recipes:
- "defaults": the challenge's default parameters of each model (andi-datasets' `_get_dic_andi2`);
- "varied": a wider variety around them, so that networks do not learn one parameter set: K over three
  decades (0.003 to 3), alpha from 0.05 to 1.99 (directed motion among them), two or three states,
  other trap, particle and compartment sizes, binding and switching rates, and localisation noise;
- "wide": what "varied" leaves out and the challenge's experiments hold: states whose K differ by as
  little as 1.5x, one alpha shared by all states, particles that differ from one another (K and alpha
  drawn per particle with a spread up to several times the mean), dwells of a few frames, dimers faster
  than free particles, short traps, dense boxes;
- "mixed": each experiment "defaults" or "varied", in the shares MIXED;
- "broad": each experiment "defaults", "varied" or "wide", in the shares BROAD;
- "benchmark": the nine experiments of the challenge's public benchmark (andi-datasets' tutorial
  `challenge_two_benchmark.ipynb`: three-state switching, slow dimers, traps, small confinement, broad
  single-state alpha and K, short traps between directed motion), each as many particles in the box as
  it says (dimerization depends on their density), a test recipe: never trained on.

An experiment is one model with one parameter set, simulated for `frames` frames; its tracks are cut to
the length asked for at a random start. Every random draw comes from the seed, so the same seed gives
the same tracks and labels, bit for bit (andi-datasets draws from numpy's global generator and fbm from
`stochastic`'s, both seeded per experiment).
"""

from dataclasses import dataclass

import numpy as np

from andiflow.simulate import seeded_globals
from andiflow.tasks.segments import RECIPES

MODELS = ("single_state", "multi_state", "immobile_traps", "dimerization", "confinement")
STATES = ("immobile", "confined", "free", "directed")
MIXED = {"defaults": 0.25, "varied": 0.75}  # the shares of the recipes a "mixed" experiment is drawn in
BROAD = {"defaults": 0.25, "varied": 0.375, "wide": 0.375}
BOX = 1.8 * 128  # px: the challenge's simulated environment around its 128 px field of view
FRAMES = 200  # frames simulated per experiment, as the challenge


@dataclass(frozen=True)
class PhenomRecipe:
    name: str = "defaults"  # RECIPES
    tracks_per_experiment: int = 20
    particles: int = 50  # in the box of the defaults' experiments: the challenge's N (dimers need density)
    noise: float = 0.12  # px, the challenge's localisation noise ("defaults")

    def __post_init__(self):
        if self.name not in RECIPES:
            raise ValueError(f"unknown recipe {self.name!r}; one of {', '.join(RECIPES)}")

    def experiment(self, rng: np.random.Generator) -> tuple[str, dict, float]:
        """(the model, the keyword arguments of models_phenom's function, the localisation noise in px)
        of one experiment; the arguments name N, the particles in the box, where the recipe sets it."""
        if self.name == "benchmark":
            model, args = BENCHMARK[int(rng.integers(len(BENCHMARK)))]
            return model, dict(args), self.noise
        model = MODELS[int(rng.integers(len(MODELS)))]
        shares = {"mixed": MIXED, "broad": BROAD}.get(self.name)
        name = _drawn(rng, shares) if shares else self.name
        if name == "defaults":
            return model, _defaults(model, rng) | {"N": self.particles}, self.noise
        return model, (_varied if name == "varied" else _wide)(model, rng), float(rng.uniform(0.0, 0.3))


def _drawn(rng, shares: dict) -> str:
    """One of the recipes, in their shares."""
    u, total = rng.random(), 0.0
    for name, share in shares.items():
        total += share
        if u < total:
            return name
    return name


def _defaults(model: str, rng) -> dict:
    """The challenge's defaults (andi-datasets' _get_dic_andi2), drawn from rng."""
    if model in ("single_state", "immobile_traps"):
        args = dict(Ds=[1.0, 0.01], alphas=[rng.uniform(0.5, 1.5), 0.01])
    else:
        fast = 1.0 + rng.standard_normal() * 0.01
        slow = fast * rng.uniform(0.01, 0.1)
        alpha = rng.uniform(0.8, 1.2)
        args = dict(
            Ds=np.array([[fast, fast * 0.01], [slow, slow * 0.01]]),
            alphas=np.array([[alpha, 0.01], [alpha - rng.uniform(0.2, 0.6), 0.01]]),
        )
    args |= {
        "single_state": dict(dim=2),
        "multi_state": dict(M=np.array([[0.99, 0.01], [0.01, 0.99]])),
        "immobile_traps": dict(Pu=0.01, Pb=1, Nt=300, r=0.4),
        "dimerization": dict(Pu=0.01, Pb=1, r=0.6),
        "confinement": dict(r=5, Nc=30, trans=0.1),
    }[model]
    return args


def _benchmark() -> list[tuple[str, dict]]:
    """The public benchmark's nine experiments, in its order: (model, arguments); K and alpha as
    [mean, variance] per state, at least 100 particles each, as its notebook sets them."""
    g1 = dict(Ds=np.array([[1, 0.1], [0.01, 0.001]]), alphas=np.array([[1, 0.005], [0.2, 0.001]]))
    g2 = dict(Ds=np.array([[0.1, 0.1], [1.0, 0.01]]), alphas=np.array([[0.7, 0.1], [1.2, 0.01]]), N=100)
    free_to_dimer = 1 / (20 / 0.25 * 0.75)  # the second state dwells 20 frames and holds 25%, as EXP 6 dimers
    return [
        (
            "multi_state",
            dict(
                Ds=np.array([[0.15, 0.01], [0.33, 0.001], [0.95, 0.01]]),
                alphas=np.array([[1, 0.0001], [1, 0.01], [1, 0.01]]),
                M=np.array([[0.946, 0.024, 0.03], [0.016, 0.92, 0.064], [0.037, 0.14, 0.823]]),
                N=100,
            ),
        ),
        (
            "dimerization",
            dict(
                Ds=np.array([[0.28, 0.001], [0.0035, 0.0001]]),
                alphas=np.array([[1, 0.1], [1.1, 0.01]]),
                r=0.5,
                Pb=1,
                Pu=0.1,
                N=750,
            ),
        ),
        ("immobile_traps", dict(Ds=[1, 0.1], alphas=[1, 0.005], Pb=0.7, Pu=1 / 60, Nt=500, r=0.4, N=100)),
        ("confinement", dict(g1, r=2, trans=0.1, Nc=150, N=100)),
        ("dimerization", dict(g1, r=0.35, Pb=1, Pu=1 / 60, N=500)),
        ("dimerization", dict(g2, r=1, Pb=1, Pu=0.05)),
        ("multi_state", dict(g2, M=np.array([[1 - free_to_dimer, free_to_dimer], [0.05, 0.95]]))),
        ("single_state", dict(Ds=[1, 100], alphas=[1, 10], dim=2, N=100)),
        ("immobile_traps", dict(Ds=[1, 0.01], alphas=[1.99, 0.01], Pb=0.7, Pu=1 / 5, Nt=1000, r=1.5, N=100)),
    ]


BENCHMARK = _benchmark()


def _varied(model: str, rng) -> dict:
    """Parameters drawn around the defaults, wider: K log-uniform over 0.003-3, alpha 0.05-1.99."""
    states = (
        int(rng.integers(2, 4)) if model == "multi_state" else 1 if model in ("single_state", "immobile_traps") else 2
    )
    Ks = np.sort(10 ** rng.uniform(-2.5, 0.5, size=states))[::-1]  # the first state the fastest
    alphas = rng.uniform(0.05, 1.99, size=states)
    if states == 1:
        args = dict(Ds=[Ks[0], Ks[0] * 0.01], alphas=[alphas[0], 0.01])
    else:
        args = dict(Ds=np.array([[K, K * 0.01] for K in Ks]), alphas=np.array([[a, 0.01] for a in alphas]))
    if model == "single_state":
        args |= dict(dim=2)
    elif model == "multi_state":
        stay = rng.uniform(0.9, 0.995, size=states)
        M = np.array(
            [[stay[i] if i == j else (1 - stay[i]) / (states - 1) for j in range(states)] for i in range(states)]
        )
        args |= dict(M=M)
    elif model == "immobile_traps":
        args |= dict(
            Pu=rng.uniform(0.005, 0.1), Pb=rng.uniform(0.3, 1), Nt=int(rng.integers(100, 500)), r=rng.uniform(0.3, 1.5)
        )
    elif model == "dimerization":
        args |= dict(Pu=rng.uniform(0.005, 0.1), Pb=rng.uniform(0.3, 1), r=rng.uniform(0.4, 1.5))
    else:
        args |= dict(r=rng.uniform(2, 10), Nc=int(rng.integers(15, 60)), trans=rng.uniform(0.02, 0.5))
    return args


def _wide(model: str, rng) -> dict:
    """Parameters beyond "varied" (the module's docstring); K and alpha as [mean, variance] per state."""
    states = {"multi_state": int(rng.integers(2, 4)), "single_state": 1, "immobile_traps": 1}.get(model, 2)
    logK = [rng.uniform(-2.5, 0.7)]
    for _ in range(states - 1):  # each next state 1.5-100x slower or faster, inside 10^-2.7 ... 10^1
        step = rng.uniform(np.log10(1.5), 2.0) * rng.choice([-1, 1])
        logK.append(logK[-1] + (step if -2.7 <= logK[-1] + step <= 1.0 else -step))
    if model == "confinement":  # slower inside its compartments
        logK = sorted(logK, reverse=True)
    Ks = 10 ** np.array(logK)
    shared = rng.random() < 0.5
    alphas = np.full(states, rng.uniform(0.05, 1.99)) if shared else rng.uniform(0.05, 1.99, size=states)
    if model == "confinement":
        alphas = np.sort(alphas)[::-1]
    K_spread = 10 ** rng.uniform(np.log10(0.05), np.log10(3), size=states)  # std / mean
    alpha_spread = 10 ** rng.uniform(-2, 0, size=states)  # std
    Ds = np.array([[K, (K * c) ** 2] for K, c in zip(Ks, K_spread)])
    alphas = np.array([[a, s**2] for a, s in zip(alphas, alpha_spread)])
    if states == 1:
        args = dict(Ds=list(Ds[0]), alphas=list(alphas[0]))
    else:
        args = dict(Ds=Ds, alphas=alphas)
    if model == "single_state":
        return args | dict(dim=2)
    if model == "multi_state":
        stay = rng.uniform(0.8, 0.995, size=states)
        leave = rng.dirichlet(np.ones(states - 1), size=states)
        M = np.array([np.insert(leave[i] * (1 - stay[i]), i, stay[i]) for i in range(states)])
        return args | dict(M=M)
    if model == "immobile_traps":
        return args | dict(Pu=10 ** rng.uniform(-2, np.log10(0.25)), Pb=rng.uniform(0.3, 1),
                           Nt=int(rng.integers(100, 1000)), r=rng.uniform(0.3, 1.5))  # fmt: skip
    if model == "dimerization":
        return args | dict(Pu=10 ** rng.uniform(np.log10(0.005), np.log10(0.2)), Pb=rng.uniform(0.3, 1),
                           r=rng.uniform(0.3, 1.5), N=int(10 ** rng.uniform(np.log10(50), np.log10(400))))  # fmt: skip
    return args | dict(r=rng.uniform(1.5, 10), Nc=int(rng.integers(15, 150)), trans=rng.uniform(0.02, 0.5))


def simulate_phenom(n: int, length: int, seed: int, recipe: PhenomRecipe) -> dict:
    """n tracks of `length` frames (at most FRAMES) and their per-frame labels: positions [n, 2, length]
    (px), alpha, K [n, length] (float32), state [n, length] (int8), changepoint [n, length] (bool: a
    segment starts at that frame; never at frame 0), and each track's model [n] (int8, into MODELS;
    its experiment is its row // tracks_per_experiment)."""
    from andi_datasets.models_phenom import models_phenom

    if not 1 <= length <= FRAMES:
        raise ValueError(f"length {length}: tracks of 1 to {FRAMES} frames")
    parts = []
    for experiment in range(-(-n // recipe.tracks_per_experiment)):
        rng = np.random.default_rng([seed, experiment])
        model, args, noise = recipe.experiment(rng)
        particles = max(args.pop("N", 0), recipe.tracks_per_experiment)
        with seeded_globals(int(rng.integers(2**32))):  # andi-datasets draws from numpy's and stochastic's
            trajs, labels = getattr(models_phenom(), model)(N=particles, T=FRAMES, L=BOX, **args)
        trajs, labels = trajs[:, : recipe.tracks_per_experiment], labels[:, : recipe.tracks_per_experiment]
        start = rng.integers(0, FRAMES - length + 1, size=trajs.shape[1])
        window = start[:, None] + np.arange(length)  # [tracks, length]
        tracks = np.arange(trajs.shape[1])[:, None]
        positions = trajs[window, tracks].transpose(0, 2, 1)  # [tracks, 2, length]
        positions = positions + rng.normal(0, noise, size=positions.shape)
        alpha, K, state = (label_filter(labels[window, tracks, i]) for i in range(3))
        parts.append((positions, alpha, K, state, np.full(len(positions), MODELS.index(model))))
    positions, alpha, K, state, models = (np.concatenate([p[i] for p in parts])[:n] for i in range(5))
    change = np.zeros(alpha.shape, bool)
    change[:, 1:] = (alpha[:, 1:] != alpha[:, :-1]) | (K[:, 1:] != K[:, :-1]) | (state[:, 1:] != state[:, :-1])
    return dict(
        positions=positions.astype(np.float32),
        alpha=alpha.astype(np.float32),
        K=K.astype(np.float32),
        state=state.astype(np.int8),
        changepoint=change,
        model=models.astype(np.int8),
    )


def label_filter(labels: np.ndarray, window: int = 5, min_segment: int = 3) -> np.ndarray:
    """andi-datasets' utils_challenge.label_filter of each row of labels [n, T], vectorised over the
    frames: each label replaced by the most frequent one in the window of frames around it (the window
    cut at the ends; a tie to the label seen first), then each run shorter than min_segment joined to the
    run before it (the first run: to the one after)."""
    out = labels.astype(np.float64)
    for i in np.flatnonzero((labels[:, 1:] != labels[:, :-1]).any(axis=1)):
        out[i] = _filter_row(labels[i], window, min_segment)
    return out


def _filter_row(row: np.ndarray, window: int, min_segment: int) -> np.ndarray:
    values, first = np.unique(row, return_index=True)
    order = values[np.argsort(first)]  # labels in the order first seen, as the library's tags
    tags = np.searchsorted(values, row)
    tags = np.argsort(np.argsort(first))[tags]
    half = window // 2
    padded = np.pad(tags, half, constant_values=-1)
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)
    counts = np.stack([(windows == k).sum(axis=1) for k in range(len(order))])
    voted = counts.argmax(axis=0)  # the smallest tag among the most frequent, as scipy's mode
    runs = _runs(voted)
    i = 0
    while i < len(runs):
        value, start, end = runs[i]
        if end - start + 1 < min_segment:
            if i > 0:
                runs[i - 1] = (runs[i - 1][0], runs[i - 1][1], end)
                runs.pop(i)
                continue
            if i < len(runs) - 1:
                runs[i] = (runs[i + 1][0], start, runs[i + 1][2])
                runs.pop(i + 1)
                continue
        i += 1
    result = np.empty(len(row))
    for value, start, end in runs:
        result[start : end + 1] = order[value]
    return result


def _runs(tags: np.ndarray) -> list[tuple[int, int, int]]:
    """(tag, first, last) of each run of equal tags."""
    starts = np.r_[0, np.flatnonzero(tags[1:] != tags[:-1]) + 1]
    ends = np.r_[starts[1:] - 1, len(tags) - 1]
    return [(int(tags[a]), int(a), int(b)) for a, b in zip(starts, ends)]


def held_out_tracks(n: int, seed: int, recipe: PhenomRecipe, min_length: int = 20) -> list[dict]:
    """n tracks cut from simulated experiments as a field of view cuts them: each a window of
    min_length to FRAMES frames (uniform) at a random start, with its labels; each a dict of positions
    [2, T], alpha, K, state, changepoint [T], model and experiment."""
    full = simulate_phenom(n, FRAMES, seed, recipe)
    rng = np.random.default_rng([seed, n])
    lengths = rng.integers(min_length, FRAMES + 1, size=n)
    starts = rng.integers(0, FRAMES - lengths + 1)
    tracks = []
    for i, (a, T) in enumerate(zip(starts, lengths)):
        window = slice(a, a + T)
        track = {k: full[k][i, ..., window] for k in ("positions", "alpha", "K", "state", "changepoint")}
        track["changepoint"] = track["changepoint"].copy()
        track["changepoint"][0] = False  # the window's first frame starts it
        track |= dict(model=MODELS[full["model"][i]], experiment=i // recipe.tracks_per_experiment)
        tracks.append(track)
    return tracks


def label_line(idx, track: dict) -> str:
    """The 2024 challenge's reference line of a track: idx, K1, alpha1, state1, CP1, ..., T."""
    starts = [0, *np.flatnonzero(track["changepoint"]).tolist()]
    ends = [*starts[1:], len(track["alpha"])]
    values = [str(idx)]
    for a, b in zip(starts, ends):
        values += [f"{track['K'][a]:.6g}", f"{track['alpha'][a]:.6g}", str(int(track["state"][a])), str(b)]
    return ",".join(values)
