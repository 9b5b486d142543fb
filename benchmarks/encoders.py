"""Encoders compared at equal CPU cost: validation MAE against training samples seen and CPU seconds.

    python benchmarks/encoders.py                         # every run below, 2 workers of 1 thread
    python benchmarks/encoders.py --cpu-seconds 60 --runs fixed200-convlstm mixed1d-one

Every candidate trains from random weights on the same freshly simulated data (the 2020 recipe,
seeded), one thread, batch 128, Adam at lr 1e-3, bf16 autocast, for `--cpu-seconds` of its own process
CPU time (evaluation excluded); the validation MAE (raw output clipped to [0.05, 2], no scale) is
taken at `--evals` points along the way. The runs:

- fixed{50,200,500}-{lstm,wavenet,convlstm,convlstm-dist}: one length, 1D; the encoders of
  andiflow.model, and convlstm with alpha as a distribution over the grid read out by its median.
- mixed1d-one: one convlstm for all lengths, each batch cut to a length drawn uniformly in 10..999
  (the challenge's), validated on a challenge-style 1D set; mixed1d-one-dist the same with the
  distribution head; mixed1d-per-length: one convlstm per length (10, 25, 60, 150, 400), the budget
  split evenly, combined by HNU's rule (nearest smaller length, head and tail windows).
- mixed2d-channels: one convlstm reading x and y as two channels, trained on 2D trajectories,
  validated on a challenge-style 2D set; mixed1d-one's model, validated on the same 2D set by HNU's
  per-axis mean, is its comparison (column `2d_per_axis`).
"""

import argparse
import datetime
import multiprocessing
import platform
import time
from pathlib import Path

import numpy as np
import torch

from andiflow import settings
from andiflow.ensemble import Ensemble
from andiflow.members import TorchMember
from andiflow.model import build
from andiflow.seeds import derive_seed
from andiflow.simulate import Recipe, simulate, simulate_challenge

CONFIG = settings.resolve()
RECIPE = Recipe.from_settings(CONFIG["data"])
CACHE = Path("/tmp/andiflow-bench-encoders")
MAX_T = 999
PER_LENGTH = (10, 25, 60, 150, 400)
CONVLSTM = dict(kind="convlstm", num_layers=2, dropout=0.1)  # and the schema's convlstm section
ENCODERS = {  # `model` sections; keys not given take the schema's (paper) values
    "lstm": dict(kind="lstm"),
    "wavenet": dict(kind="wavenet", dropout=0.1),  # WADNet's dropout
    "convlstm": CONVLSTM,
    "convlstm-dist": dict(CONVLSTM, output="distribution"),
}
DATASETS = {  # name: (train rows, validation rows, length or None for challenge-style, dimension)
    "fixed50": (200_000, 3_000, 50, 1),
    "fixed200": (120_000, 3_000, 200, 1),
    "fixed500": (80_000, 3_000, 500, 1),
    "mixed1d": (80_000, 3_000, None, 1),
    "mixed2d": (40_000, 2_000, None, 2),
}


def dataset(name: str) -> dict:
    """Training pool and validation set of one dataset, simulated once and cached as .npz."""
    path = CACHE / f"{name}.npz"
    if not path.exists():
        n_train, n_valid, length, dim = DATASETS[name]
        seed = derive_seed(2026, "bench-encoders", len(name), sum(map(ord, name)))
        train = simulate(n_train, length or MAX_T, dim, seed, RECIPE)
        if length:
            valid = simulate(n_valid, length, dim, seed + 1, RECIPE)
            valid_len = np.full(n_valid, length)
        else:
            valid, valid_len = simulate_challenge(n_valid, 10, MAX_T, dim, seed + 1, RECIPE)
        CACHE.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            x=train.positions,
            y=train.alpha,
            vx=valid.positions,
            vy=valid.alpha,
            vlen=valid_len,
            vmodel=valid.model,
        )
        tmp.rename(path)
    return dict(np.load(path))


def zscore(x: torch.Tensor) -> torch.Tensor:
    centred = x - x.mean(dim=-1, keepdim=True)
    return centred / centred.std(dim=-1, unbiased=False, keepdim=True).clamp_min(1e-12)


def model_for(encoder: str, channels: int = 1):
    model_settings = settings.model_settings(settings.resolve({"model": ENCODERS[encoder]}))
    return build(dict(model_settings, axes=channels) if channels > 1 else model_settings)


def validate(model, data, per_axis: bool = False) -> float:
    """MAE on the validation set: fixed length in one batch per 1,000; challenge-style per length."""
    model.eval()
    x, y, lengths = torch.from_numpy(data["vx"]), data["vy"], data["vlen"]
    pred = np.empty(len(y))
    with torch.inference_mode():
        for T in np.unique(lengths):
            rows = np.flatnonzero(lengths == T)
            for i in range(0, len(rows), 1000):
                r = rows[i : i + 1000]
                xs = zscore(x[r, :, :T])
                if per_axis:
                    pred[r] = model(xs.reshape(-1, T)).reshape(len(r), -1).mean(dim=1).numpy()
                else:
                    pred[r] = model(xs[:, 0] if xs.shape[1] == 1 else xs).numpy()
    model.train()
    return float(np.mean(np.abs(np.clip(pred, 0.05, 2.0) - y)))


def ensemble_mae(models: dict, data) -> float:
    """HNU's rule over per-length models on a challenge-style set: an ensemble of one 1D alpha network
    per length, head and tail windows."""
    for m in models.values():
        m.eval()
    batch_values = CONFIG["batch_values"]
    members = {L: [TorchMember(m, "cpu", batch_values)] for L, m in models.items()}
    ens = Ensemble({("alpha", 1): members}, windows="head_tail")
    trajectories = [p[:, :T] for p, T in zip(data["vx"], data["vlen"])]
    raw = ens.raw_alpha(trajectories)["alpha"]
    for m in models.values():
        m.train()
    return float(np.mean(np.abs(np.clip(raw, 0.05, 2.0) - data["vy"])))


def batches(data, length, batch: int, rng):
    """Endless training batches: rows drawn without replacement epoch by epoch, cut to `length` points
    (or, for one network for all lengths, each batch to a length drawn in 10..999), z-scored."""
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
    while True:
        order = rng.permutation(len(y))
        for i in range(0, len(order) - batch + 1, batch):
            rows = torch.from_numpy(order[i : i + batch])
            T = length or int(rng.integers(10, MAX_T + 1))
            xb = zscore(x[rows, :, :T])
            yield (xb[:, 0] if xb.shape[1] == 1 else xb), y[rows]


def train(model, data, length, cpu_seconds: float, evaluate, seed: int, n_evals: int) -> list[dict]:
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    stream = batches(data, length, 128, np.random.default_rng(seed))
    curve, spent, samples = [dict(samples=0, cpu_s=0.0, **evaluate(model))], 0.0, 0
    for k in range(1, n_evals + 1):
        start = time.process_time()
        while spent + time.process_time() - start < cpu_seconds * k / n_evals:
            xb, yb = next(stream)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model.loss(xb, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            samples += len(yb)
        spent += time.process_time() - start
        curve.append(dict(samples=samples, cpu_s=round(spent, 1), **evaluate(model)))
    return curve


def run(name: str, cpu_seconds: float, n_evals: int) -> tuple[str, list[dict]]:
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    seed = derive_seed(2026, "bench-run", sum(map(ord, name)))
    torch.manual_seed(seed)
    if name.startswith("fixed"):
        set_name, encoder = name.split("-", 1)
        data = dataset(set_name)
        model = model_for(encoder)
        return name, train(
            model, data, DATASETS[set_name][2], cpu_seconds, lambda m: dict(mae=validate(m, data)), seed, n_evals
        )
    if name in ("mixed1d-one", "mixed1d-one-dist"):
        data, data2d = dataset("mixed1d"), dataset("mixed2d")
        model = model_for("convlstm-dist" if name.endswith("dist") else "convlstm")

        def evaluate(m):
            return dict(mae=validate(m, data), **{"2d_per_axis": validate(m, data2d, per_axis=True)})

        return name, train(model, data, None, cpu_seconds, evaluate, seed, n_evals)
    if name == "mixed2d-channels":
        data = dataset("mixed2d")
        model = model_for("convlstm", channels=2)
        return name, train(model, data, None, cpu_seconds, lambda m: dict(mae=validate(m, data)), seed, n_evals)
    if name == "mixed1d-per-length":
        data = dataset("mixed1d")
        models = {L: model_for("convlstm") for L in PER_LENGTH}
        curves = {
            L: train(m, data, L, cpu_seconds / len(models), lambda m: {}, seed + L, n_evals) for L, m in models.items()
        }
        # the ensemble is evaluated at the end only; the curve rows sum the members' budgets
        final = dict(
            samples=sum(c[-1]["samples"] for c in curves.values()),
            cpu_s=round(sum(c[-1]["cpu_s"] for c in curves.values()), 1),
            mae=ensemble_mae(models, data),
        )
        return name, [final]
    raise SystemExit(f"unknown run {name}")


def all_runs() -> list[str]:
    fixed = [f"{d}-{e}" for d in ("fixed50", "fixed200", "fixed500") for e in ENCODERS]
    return fixed + ["mixed1d-one", "mixed1d-one-dist", "mixed1d-per-length", "mixed2d-channels"]


def _dataset_worker(name):
    torch.set_num_threads(1)
    dataset(name)
    return name


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", default=all_runs())
    p.add_argument("--cpu-seconds", type=float, default=240)
    p.add_argument("--evals", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    print(f"# benchmarks/encoders.py {datetime.date.today()} {platform.processor() or platform.machine()}")
    print(f"# torch {torch.__version__}; 1 thread a run, {args.workers} side by side; {args.cpu_seconds} CPU s each")
    needed = sorted(
        {r.split("-")[0] for r in args.runs} | ({"mixed2d"} if any("mixed1d-one" in r for r in args.runs) else set())
    )
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(args.workers) as pool:
        for name in pool.imap_unordered(_dataset_worker, needed):
            print(f"# dataset {name}: {DATASETS[name][0]:,} training, {DATASETS[name][1]:,} validation", flush=True)
        results = pool.starmap(run, [(r, args.cpu_seconds, args.evals) for r in args.runs])
    for name, curve in results:
        print(f"\n## {name}")
        keys = list(curve[0])
        print(" ".join(f"{k:>12}" for k in keys))
        for row in curve:
            print(" ".join(f"{row[k]:>12.4f}" if isinstance(row[k], float) else f"{row[k]:>12}" for k in keys))
    print("\n## summary: final validation MAE (and at half the budget)")
    for name, curve in results:
        half = curve[len(curve) // 2]
        extra = f"  2D per-axis {curve[-1]['2d_per_axis']:.4f}" if "2d_per_axis" in curve[-1] else ""
        print(
            f"{name:<24} {curve[-1]['mae']:.4f} at {curve[-1]['samples']:>9,} samples, {curve[-1]['cpu_s']:>6.0f} CPU s"
            f"   (half: {half['mae']:.4f}){extra}"
        )


if __name__ == "__main__":
    main()
