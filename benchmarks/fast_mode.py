"""Faster training at HNU's accuracy? At one length (HNU's L=300), train fold 0 with
variants of HNU's settings and print, for each, samples/s, the wall time to the best epoch and
the best validation MAE:
  hnu         batch 512, lr 1e-3, fp32 (HNU's settings)
  bf16        the same under bf16 autocast
  b2048       batch 2048, lr 2e-3 (lr scaled by the square root of the batch ratio)
  b2048-bf16  both
  shared-4    HNU's settings, 4 folds training at once on the one GPU (as --resources gpu=4 would run
              them); samples/s is their sum
samples/s counts training samples per second of epoch time (validation included). Reads the
shards the workflow made, e.g. after `bash benchmarks/reproduce_l300.sh`:
    python benchmarks/fast_mode.py results/shards/1D/L300/shard*.h5 --device cuda
Each fold trains as the workflow's train step does (`andiflow-step train --task alpha`), with HNU's
settings (the schema's defaults) but for the variant's.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from andiflow import settings

VARIANTS = {
    "hnu": {},
    "bf16": {"precision": "bf16"},
    "b2048": {"batch_size": 2048, "learning_rate": 0.002},
    "b2048-bf16": {"batch_size": 2048, "learning_rate": 0.002, "precision": "bf16"},
}


def step_settings(train_settings: dict) -> str:
    """The --settings of the train step: every key training reads, HNU's values but for `train_settings`."""
    config = settings.resolve({"train": train_settings})
    sections = dict(seed=config["seed"], data={"alphas": config["data"]["alphas"]}, model=config["model"])
    return json.dumps(dict(sections, train=config["train"]))


def train(shards, fold, train_settings, device, folder: Path) -> subprocess.Popen:
    output = folder / f"fold{fold}.pt"
    command = [
        sys.executable,
        "-m",
        "andiflow.steps",
        "train",
        *map(str, shards),
        "--task",
        "alpha",
        "--fold",
        str(fold),
        "-o",
        str(output),
        "--history",
        str(output.with_suffix(".csv")),
        "--device",
        device,
        "--settings",
        step_settings(train_settings),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def summary(name, histories, n_train) -> str:
    seconds = sum(h["seconds"].mean() for h in histories) / len(histories)
    rate = n_train * len(histories) / seconds
    h = histories[0]
    best = int(h["valid_mae"].idxmin())
    to_best = h["seconds"].iloc[: best + 1].sum()
    return f"{name:<11} {rate:>12,.0f} {len(h):>7} {best:>5} {to_best:>13,.0f} {h['valid_mae'].iloc[best]:>9.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shards", nargs="+")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--variants", nargs="+", default=[*VARIANTS, "shared-4"])
    parser.add_argument("--max-epochs", type=int, help="cap (default: none, HNU's stopping rule)")
    args = parser.parse_args()
    from andiflow import shards as shard_io

    n_train = round(len(shard_io.open_length(args.shards)["alpha"]) * 0.8)
    print(f"{'variant':<11} {'samples/s':>12} {'epochs':>7} {'best':>5} {'s to best':>13} {'best MAE':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants:
            folder = Path(tmp) / name
            folds = range(4) if name == "shared-4" else [0]
            train_settings = {**VARIANTS.get(name, {}), "max_epochs": args.max_epochs}
            processes = [train(args.shards, f, train_settings, args.device, folder) for f in folds]
            if any(p.wait() for p in processes):
                sys.exit(f"{name}: a training process failed")
            histories = [pd.read_csv(folder / f"fold{f}.csv") for f in folds]
            print(summary(name, histories, n_train), flush=True)


if __name__ == "__main__":
    main()
