"""Training throughput: (a) the bare model's training step on random tensors already on the device,
against (b) the project's own training loop (train.train_epoch over data placed by train.place) on
real shards (one made by the workflow's generate step, `andiflow-step generate`), at L = 10, 100, 300,
950, batch 512, fp32. Prints samples/s and the ratio b/a.

    python benchmarks/train_throughput.py                       # CPU, a few batches per length
    python benchmarks/train_throughput.py --device cuda --batches 200
"""

import argparse
import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

import torch

from andiflow import settings, shards
from andiflow.model import build
from andiflow.steps import main as andiflow_step
from andiflow.train import place, train_epoch


def timed(device, step) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def bare(length, n, batch, device) -> float:
    model = build(settings.model_settings(settings.resolve())).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, length, device=device), torch.rand(batch, device=device)

    def steps(count):
        for _ in range(count):
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    steps(3)  # warm-up: cuDNN plans, allocator
    return n / timed(device, lambda: steps(n // batch))


def project(length, n, batch, device, folder) -> float:
    shard = folder / f"L{length}" / "shard0.h5"
    config = settings.resolve()
    data_settings = {k: config["data"][k] for k in ("alphas", "noise_sigmas")}
    step_settings = json.dumps({"seed": config["seed"], "data": dict(data_settings, shard_size=n)})
    with contextlib.redirect_stdout(io.StringIO()):
        status = andiflow_step(
            ["generate", "--length", str(length), "--n", str(n), "--shard", "0", "-o", str(shard)]
            + ["--settings", step_settings]
        )
    if status:
        raise SystemExit(f"andiflow-step generate failed for L={length}")
    data = shards.open_length([shard])
    x, y = place(torch.from_numpy(data["positions"]), device), place(torch.from_numpy(data["alpha"]), device)
    model = build(settings.model_settings(settings.resolve())).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shuffle = torch.Generator().manual_seed(0)
    warm = slice(0, 3 * batch)
    train_epoch(model, optimizer, x[warm], y[warm], batch, shuffle, device)
    return n / timed(device, lambda: train_epoch(model, optimizer, x, y, batch, shuffle, device))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 100, 300, 950])
    parser.add_argument("--batches", type=int, default=4, help="timed batches per length and method")
    parser.add_argument("--batch-size", type=int, default=settings.default("train", "batch_size"))
    parser.add_argument("--threads", type=int, help="PyTorch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as andiflow's commands do
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"training throughput, batch {args.batch_size}, fp32, {device_name}, torch {torch.__version__}")
    print(f"{'L':>5} {'bare samples/s':>16} {'andiflow samples/s':>19} {'ratio':>6}")
    n = args.batches * args.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        for length in args.lengths:
            a = bare(length, n, args.batch_size, args.device)
            b = project(length, n, args.batch_size, args.device, Path(tmp))
            print(f"{length:>5} {a:>16,.0f} {b:>19,.0f} {b / a:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
