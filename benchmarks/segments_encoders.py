"""The segments task's per-frame encoders (framewise.py) compared at equal CPU seconds.

    python benchmarks/segments_encoders.py SHARD... --cpu-seconds 600 [--kinds dilated unet bilstm]

Each kind trains from random weights on the same shards (the workflow's, results/shards/segments/),
one thread, each in its own process (two side by side), batch 64, Adam, lr 2e-3 falling along half a
cosine over its budget of process CPU seconds (evaluation excluded), each batch cut to a random
window of 20-200 frames, as the workflow trains it. The last 4,000 tracks are held out: on them,
the frame-level errors (alpha MAE, log10 K MAE where K > 0, state error rate) and, after
segmentation with the peak threshold and gap tuned on their first half, on their second half: the
changepoint Jaccard index and RMSE of the challenge's scorer (threshold 10 frames). No test set is
touched. Results: benchmarks/results/segments_encoders_cpu.txt.
"""

import argparse
import datetime
import math
import multiprocessing
import platform
import time

import numpy as np
import torch
from andi_datasets.utils_challenge import ensemble_changepoint_error

from andiflow import segment, segments_score, settings, shards
from andiflow.model import build, predict_in_batches
from andiflow.tasks import TASKS

HELD_OUT = 4000


def run(kind: str, paths: list, cpu_seconds: float, seed: int) -> dict:
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    config = settings.resolve({"tasks": {"segments": {}}, "segments": {"model": {"kind": kind}}})
    data = shards.open_length(paths)
    x = torch.from_numpy(data["positions"])
    y = torch.from_numpy(TASKS["segments"].targets(data))
    x_train, y_train, x_valid = x[:-HELD_OUT], y[:-HELD_OUT], x[-HELD_OUT:]
    model = build(settings.model_settings(config, "segments", 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(seed)
    spent, samples, start = 0.0, 0, time.process_time()
    model.train()
    while spent < cpu_seconds:
        for group in optimizer.param_groups:
            group["lr"] = 2e-3 * 0.5 * (1 + math.cos(math.pi * min(spent / cpu_seconds, 1)))
        rows = torch.randint(0, len(x_train), (64,), generator=generator)
        loss = model.loss(x_train[rows], y_train[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        samples += 64
        spent = time.process_time() - start
    model.eval()
    frames = predict_in_batches(model, x_valid, 1 << 18).numpy()
    parameters = sum(p.numel() for p in model.parameters())
    found = scores(frames, data, slice(len(x) - HELD_OUT, len(x)))
    return dict(kind=kind, parameters=parameters, samples=samples, cpu_seconds=spent, **found)


def scores(frames: np.ndarray, data: dict, rows: slice) -> dict:
    alpha, k, state, change = (data[c][rows] for c in ("alpha", "K", "state", "changepoint"))
    moving = k > 0
    out = dict(
        alpha_mae=float(np.abs(frames[..., 1] - alpha).mean()),
        log10_k_mae=float(np.abs(frames[..., 2][moving] - np.log10(k[moving])).mean()),
        state_error=float((frames[..., 3:].argmax(-1) != state).mean()),
    )
    true = [np.flatnonzero(c).tolist() for c in change]
    half = len(frames) // 2
    tuned = segments_score.tune(list(frames[:half]), true[:half])
    found = [segment.changepoints(f[:, 0], tuned["threshold"], tuned["gap"]) for f in frames[half:]]
    rmse, jaccard = ensemble_changepoint_error(true[half:], found, threshold=10)
    out.update(threshold=tuned["threshold"], gap=tuned["gap"], jaccard=jaccard, cp_rmse=float(rmse))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("shards", nargs="+")
    p.add_argument("--cpu-seconds", type=float, default=600)
    p.add_argument("--kinds", nargs="+", default=["dilated", "unet", "bilstm"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    jobs = [(kind, args.shards, args.cpu_seconds, args.seed) for kind in args.kinds]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        rows = pool.starmap(run, jobs)
    print(f"# {datetime.date.today()} {platform.node()} torch {torch.__version__}, 1 thread per run")
    print(f"# shards: {len(args.shards)}, held out: the last {HELD_OUT} tracks; budget {args.cpu_seconds:g} CPU s")
    columns = ["kind", "parameters", "samples", "cpu_seconds", "alpha_mae", "log10_k_mae", "state_error"]
    columns += ["jaccard", "cp_rmse", "threshold", "gap"]
    print(" ".join(f"{c:>12s}" for c in columns))
    for row in rows:
        print(" ".join(f"{row[c]:>12.4f}" if isinstance(row[c], float) else f"{row[c]:>12}" for c in columns))


if __name__ == "__main__":
    main()
