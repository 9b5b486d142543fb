"""Prediction throughput of a shipped ensemble through ONNX Runtime and through PyTorch, on the same
challenge-style file (1D/2D/3D mixed, lengths 10-999), in one run: `andiflow predict` end to end
(read, infer, write), the member evaluations alone, and how far the two backends' alphas differ.

    python benchmarks/predict_throughput.py                          # every shipped ensemble, 1 thread
    python benchmarks/predict_throughput.py --models hnu-lstm-cpu --n 10000 --threads 2
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime
import torch

from andiflow import andi_io, settings
from andiflow.api import SHIPPED, shipped_ensembles
from andiflow.cli import main as andiflow
from andiflow.ensemble import Ensemble
from andiflow.manifest import read_manifest
from andiflow.simulate import Recipe, simulate_challenge

REPO = Path(__file__).resolve().parents[1]


def write_trajectories(path: Path, n: int) -> list:
    recipe = Recipe.from_settings(settings.resolve()["data"])
    trajectories = []
    for dim, count in zip((1, 2, 3), np.diff(np.linspace(0, n, 4).astype(int))):
        t, lengths = simulate_challenge(count, 10, 999, dim, seed=100 + dim, recipe=recipe)
        trajectories += [p[:, :T] for p, T in zip(t.positions, lengths)]
    andi_io.write_trajectories(path, trajectories)
    return andi_io.read_trajectories(path)


def torch_folder(name: str) -> Path:
    """The workflow folder holding the PyTorch files of a shipped ensemble (config `workdir`)."""
    manifest, _ = read_manifest(SHIPPED / name)
    return REPO / manifest["settings"]["workdir"] / "results" / "models" / "manifest.json"


def members_alone(ens: Ensemble, trajectories) -> tuple[float, int, np.ndarray]:
    """Seconds of the evaluations of the 1D alpha members alone on every axis, the time steps they read,
    and the raw estimates (the members' mean, before scale and clip)."""
    alpha_1d = ens.groups[("alpha", 1)]
    windows = ens.windows([axis for t in trajectories for axis in t])
    start = time.perf_counter()
    for (Tn, _), (_, x) in windows.items():
        for member in alpha_1d[Tn]:
            member(x)
    seconds = time.perf_counter() - start
    steps = sum(x.size * len(alpha_1d[Tn]) for (Tn, _), (_, x) in windows.items())
    return seconds, steps, ens.raw_alpha(trajectories)["alpha"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=shipped_ensembles())
    parser.add_argument("--n", type=int, default=3000, help="trajectories")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"# benchmarks/predict_throughput.py: {platform.machine()}, {args.threads} thread(s), "
        f"onnxruntime {onnxruntime.__version__}, torch {torch.__version__}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trajectories = write_trajectories(tmp / "task1.txt", args.n)
        print(f"# {args.n} challenge-style trajectories (1D/2D/3D, lengths 10-999)")
        for name in args.models:
            folders = {"onnx": name, "torch": str(torch_folder(name))}
            scale = str(read_manifest(SHIPPED / name)[0]["scale"])  # the PyTorch folder's manifest has none
            alphas = {}
            for backend, folder in folders.items():
                out = tmp / f"{name}.{backend}.txt"
                command = ["predict", str(tmp / "task1.txt"), "-o", str(out), "--models", folder]
                command += ["--backend", backend, "--threads", str(args.threads), "--scale", scale]
                start = time.perf_counter()
                assert andiflow(command) == 0
                whole = time.perf_counter() - start
                ens = Ensemble.load(folder if backend == "torch" else SHIPPED / name, backend=backend)
                alone, steps, alphas[backend] = members_alone(ens, trajectories)
                print(
                    f"{name:<16} {backend:<6} andiflow predict {whole:7.2f} s {args.n / whole:7,.0f} traj/s | "
                    f"members alone {alone:7.2f} s {steps / alone / 1e3:7,.0f} k time steps/s"
                )
            diff = np.max(np.abs(alphas["onnx"] - alphas["torch"]))
            print(f"{name:<16} largest |raw alpha(onnx) - raw alpha(torch)| = {diff:.1e}")


if __name__ == "__main__":
    main()
