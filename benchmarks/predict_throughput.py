"""Inference throughput: `andiflow predict` on challenge-style trajectories (1D/2D/3D mixed, lengths
10-999) with a 43-length x 3-fold ensemble of random weights (the timing does not depend on them),
against the bound: the same LSTM evaluations (every window through every fold) timed alone.

    python benchmarks/predict_throughput.py                    # CPU
    python benchmarks/predict_throughput.py --device cuda
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from andiflow import andi_io, settings
from andiflow.cli import main as andiflow
from andiflow.ensemble import Ensemble, assemble
from andiflow.model import build, predict_in_batches, save_checkpoint
from andiflow.simulate import Recipe, simulate_challenge


def write_models(folder: Path, lengths, folds) -> None:
    """An ensemble of untrained models: inference costs the same whatever the weights."""
    config = settings.complete()["model"]
    files = []
    for length in lengths:
        for fold in folds:
            files.append(folder / "trained" / f"L{length}" / f"fold{fold}.pt")
            save_checkpoint(
                files[-1],
                config,
                build(config).state_dict(),
                length=length,
                fold=fold,
                epoch=0,
                valid_mae=1.0,
                n_train=0,
            )
    assemble(files, folder, name="untrained", settings=config, command="benchmarks/predict_throughput.py", scale=1.011)


def write_trajectories(path: Path, n: int) -> list:
    recipe = Recipe.from_settings(settings.complete()["data"])
    trajectories = []
    for dim, count in zip((1, 2, 3), np.diff(np.linspace(0, n, 4).astype(int))):
        t, lengths = simulate_challenge(count, 10, 999, dim, seed=dim, recipe=recipe)
        trajectories += [p[:, :T] for p, T in zip(t.positions, lengths)]
    andi_io.write_trajectories(path, trajectories)
    return andi_io.read_trajectories(path)


def synchronize(device) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n", type=int, default=10000, help="trajectories")
    parser.add_argument("--threads", type=int, help="PyTorch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as andiflow's commands do
    config = settings.complete()
    lengths = [length for length, _ in config["data"]["lengths"]]
    folds = config["train"]["folds_used"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_models(tmp / "models", lengths, folds)
        trajectories = write_trajectories(tmp / "task1.txt", args.n)
        command = [
            "predict",
            str(tmp / "task1.txt"),
            "-o",
            str(tmp / "pred.txt"),
            "--models",
            str(tmp / "models"),
            "--device",
            args.device,
        ]
        if args.threads:
            command += ["--threads", str(args.threads)]
        start = time.perf_counter()
        assert andiflow(command) == 0
        whole = time.perf_counter() - start

        ensemble = Ensemble.load(tmp / "models", args.device, config["infer"]["batch_values"])
        windows = ensemble.windows([axis for t in trajectories for axis in t])
        x = {Tn: batch.to(args.device) for Tn, (_, batch) in windows.items()}
        synchronize(args.device)
        start = time.perf_counter()
        for Tn, batch in x.items():
            for model in ensemble.members_of[Tn]:
                predict_in_batches(model, batch, config["infer"]["batch_values"])
        synchronize(args.device)
        bound = time.perf_counter() - start

    device_name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    n_windows = sum(len(owner) for owner, _ in windows.values())
    print(f"inference, {len(lengths)} lengths x {len(folds)} folds, {device_name}, torch {torch.__version__}")
    print(f"{args.n} trajectories, {n_windows} windows, {n_windows * len(folds)} LSTM evaluations")
    print(f"andiflow predict (read, infer, write): {whole:8.2f} s  {args.n / whole:10,.0f} trajectories/s")
    print(f"LSTM evaluations alone (the bound):    {bound:8.2f} s  {args.n / bound:10,.0f} trajectories/s")
    print(f"andiflow predict / bound: {bound / whole:.2f}")


if __name__ == "__main__":
    main()
