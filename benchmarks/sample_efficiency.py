"""Sample efficiency of training on the CPU: validation MAE against training samples seen and CPU
seconds, for HNU's setting (random weights) against a warm start (the weights of a trained model of a
shorter length), at several lengths; then fp32 against bf16, both warm-started, at one length.

    python benchmarks/sample_efficiency.py                     # L = 50, 200, 500: hours on one thread
    python benchmarks/sample_efficiency.py --lengths 200 --samples 100000 --sources L200=model.pt

Each run is one pass over freshly simulated trajectories (`--samples` of them, z-scored as training
reads them) in a seeded random order, with HNU's loss, optimiser and learning rate, through
train.train_epoch; the validation MAE (per sample, `--n-valid` trajectories of the same length) is
taken at 0 and after every `--eval-every` samples. Only training is timed. Both runs of a length see
the same data in the same order. The warm start comes by default from the nearest shorter length in
pretrained/results/models/alpha/1D/L<k>/fold0.pt.
"""

import argparse
import datetime
import itertools
import platform
import subprocess
import time
from pathlib import Path

import torch

from andiflow import settings
from andiflow.atomic import atomic_path
from andiflow.manifest import member_path
from andiflow.model import build, predict_in_batches
from andiflow.seeds import derive_seed
from andiflow.simulate import Recipe, training_shard
from andiflow.train import train_epoch, warm_start

CONFIG = settings.resolve()
PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained" / "results" / "models"


def length_data(length: int, n_train: int, n_valid: int, seed: int) -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_valid, y_valid) of one length; the first n_valid trajectories validate."""
    shard = training_shard(length, n_train + n_valid, seed, Recipe.from_settings(CONFIG["data"]))
    x, y = torch.from_numpy(shard["positions"]), torch.from_numpy(shard["alpha"])
    return x[n_valid:], y[n_valid:], x[:n_valid], y[:n_valid]


def validation_mae(model, x_valid, y_valid) -> float:
    model.eval()
    mae = torch.mean(torch.abs(predict_in_batches(model, x_valid, CONFIG["batch_values"]) - y_valid)).item()
    model.train()
    return mae


def learning_curve(data, init, precision: str, seed: int, args) -> list[dict]:
    """Train from random weights (init None) or from the model file `init`; return the validation MAE
    at 0 and after every --eval-every samples, with the training time spent to that point."""
    x_train, y_train, x_valid, y_valid = data
    torch.manual_seed(seed)
    model = build(settings.model_settings(CONFIG))
    warm_start(model, init, settings.model_settings(CONFIG))
    optimizer = torch.optim.Adam(model.parameters(), lr=CONFIG["train"]["learning_rate"])
    shuffle = torch.Generator().manual_seed(seed)
    curve = [dict(samples=0, cpu_s=0.0, wall_s=0.0, mae=validation_mae(model, x_valid, y_valid))]
    for start in range(0, len(y_train), args.eval_every):
        piece = slice(start, start + args.eval_every)
        cpu, wall = time.process_time(), time.perf_counter()
        train_epoch(model, optimizer, x_train[piece], y_train[piece], args.batch_size, shuffle, "cpu", precision)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        curve.append(
            dict(
                samples=start + len(y_train[piece]),
                cpu_s=curve[-1]["cpu_s"] + cpu,
                wall_s=curve[-1]["wall_s"] + wall,
                mae=validation_mae(model, x_valid, y_valid),
            )
        )
    return curve


def reached(curve: list[dict], target: float) -> dict | None:
    """(samples, cpu_s) where the curve first comes down to MAE `target`, linearly interpolated."""
    if curve[0]["mae"] <= target:
        return dict(samples=0, cpu_s=0.0)
    for before, after in itertools.pairwise(curve):
        if after["mae"] <= target:
            t = (before["mae"] - target) / (before["mae"] - after["mae"])
            return {k: before[k] + t * (after[k] - before[k]) for k in ("samples", "cpu_s")}
    return None


def warm_start_report(length: int, scratch: list[dict], warm: list[dict]) -> list[str]:
    lines = [f"{'samples':>9} {'cpu_s':>9} {'wall_s':>9} {'mae_scratch':>12} {'mae_warm':>9}"]
    lines += [
        f"{s['samples']:>9,} {s['cpu_s']:>9.1f} {s['wall_s']:>9.1f} {s['mae']:>12.4f} {w['mae']:>9.4f}"
        for s, w in zip(scratch, warm)
    ]
    end_s, end_w = scratch[-1], warm[-1]
    lines.append(f"L{length} summary (cpu_s, wall_s above: the scratch run's)")
    lines.append(
        f"  final MAE after {end_s['samples']:,} samples: scratch {end_s['mae']:.4f} "
        f"({end_s['cpu_s']:.1f} cpu s), warm {end_w['mae']:.4f} ({end_w['cpu_s']:.1f} cpu s)"
    )
    point = reached(warm, end_s["mae"])
    if point is None:
        lines.append("  warm start reaches scratch's final MAE: not reached")
    else:
        lines.append(
            f"  warm start reaches scratch's final MAE after {point['samples']:,.0f} samples "
            f"({100 * point['samples'] / end_s['samples']:.1f}% of them) and {point['cpu_s']:.1f} cpu s "
            f"({100 * point['cpu_s'] / end_s['cpu_s']:.1f}% of scratch's)"
        )
    return lines


def precision_report(length: int, curves: dict[str, list[dict]]) -> list[str]:
    fp32, bf16 = curves["fp32"], curves["bf16"]
    lines = [
        f"fp32 against bf16 at L{length}, both warm-started",
        f"{'samples':>9} {'cpu_fp32':>9} {'mae_fp32':>9} {'cpu_bf16':>9} {'mae_bf16':>9}",
    ]
    lines += [
        f"{a['samples']:>9,} {a['cpu_s']:>9.1f} {a['mae']:>9.4f} {b['cpu_s']:>9.1f} {b['mae']:>9.4f}"
        for a, b in zip(fp32, bf16)
    ]
    rates = {p: c[-1]["samples"] / c[-1]["wall_s"] for p, c in curves.items()}
    lines.append(f"  final MAE: fp32 {fp32[-1]['mae']:.4f}, bf16 {bf16[-1]['mae']:.4f}")
    lines.append(
        f"  samples/s (training wall time): fp32 {rates['fp32']:,.0f}, bf16 {rates['bf16']:,.0f} "
        f"(bf16/fp32 {rates['bf16'] / rates['fp32']:.2f})"
    )
    return lines


def default_source(length: int) -> Path | None:
    """The fold-0 1D alpha network of the nearest shorter length that pretrained/results/models holds
    (alpha/1D/L<k>/fold0.pt)."""
    trained = [int(p.parent.name[1:]) for p in PRETRAINED.glob(member_path("alpha", 1, "*", 0, "pt"))]
    shorter = [k for k in trained if k < length]
    return PRETRAINED / member_path("alpha", 1, max(shorter), 0, "pt") if shorter else None


def processor() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        lscpu = ""
    names = [line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")]
    return names[0] if names else platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument(
        "--sources",
        nargs="+",
        default=[],
        metavar="L<length>=PATH",
        help="model file to warm-start each length from (default: nearest shorter pretrained)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        nargs="+",
        default=[204800, 102400, 51200],
        help="training samples per run, one per length",
    )
    parser.add_argument(
        "--eval-every", type=int, default=10240, help="training samples between evaluations (a multiple of the batch)"
    )
    parser.add_argument("--n-valid", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16", help="of the scratch and warm runs")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads")
    parser.add_argument("--seed", type=int, default=7, help="the benchmark's seed (not the workflow's)")
    parser.add_argument("--bf16-length", type=int, default=200, help="one of --lengths; 0 skips fp32 against bf16")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/sample_efficiency_cpu.txt"))
    args = parser.parse_args()
    if len(args.samples) != len(args.lengths):
        parser.error("--samples needs one number per length")
    if args.bf16_length and args.bf16_length not in args.lengths:
        parser.error("--bf16-length must be one of --lengths (or 0)")
    sources = {int(key.removeprefix("L")): Path(path) for key, path in (s.split("=", 1) for s in args.sources)}
    for length in args.lengths:
        sources.setdefault(length, default_source(length))
        if sources[length] is None:
            parser.error(f"no model of a length below {length} in {PRETRAINED}: give --sources L{length}=PATH")
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as andiflow's commands do

    report = []

    def say(lines: list[str]) -> None:
        print("\n".join(lines), flush=True)
        report.extend(lines)

    say(
        [
            "sample efficiency of training, from scratch against a warm start, CPU",
            f"{datetime.datetime.now().isoformat(timespec='seconds')}, {processor()}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, batch {args.batch_size}, {args.precision}, seed {args.seed}",
            "",
        ]
    )
    precision_lines = []
    for length, n_train in zip(args.lengths, args.samples):
        seed = derive_seed(args.seed, "benchmark", length)
        data = length_data(length, n_train, args.n_valid, seed)
        say(
            [
                f"L{length}: {n_train:,} training and {args.n_valid:,} validation trajectories, "
                f"warm start from {sources[length]}"
            ]
        )
        scratch = learning_curve(data, None, args.precision, seed, args)
        warm = {args.precision: learning_curve(data, sources[length], args.precision, seed, args)}
        say(warm_start_report(length, scratch, warm[args.precision]) + [""])
        if length == args.bf16_length:
            other = "fp32" if args.precision == "bf16" else "bf16"
            warm[other] = learning_curve(data, sources[length], other, seed, args)
            precision_lines = precision_report(length, warm)
    if precision_lines:
        say(precision_lines)
    with atomic_path(args.out) as tmp:
        tmp.write_text("\n".join(report) + "\n")


if __name__ == "__main__":
    main()
