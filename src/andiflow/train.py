"""One model for one (length, fold): the seed's loss, optimiser, learning-rate rule and early stop.

MSE loss, Adam, batch 512, lr 1e-3; lr x1/5 after `patience` epochs without a lower validation
loss; stop when that would happen more than `max_lr_cuts` times; keep the epoch of lowest
per-sample validation MAE.
"""

import copy
import csv
import itertools
import math
import time

import numpy as np
import torch

from andiflow import settings as settings_mod
from andiflow.atomic import atomic_path
from andiflow.model import AnDiLSTM, predict_in_batches
from andiflow.seeds import derive_seed

HISTORY_COLUMNS = ("epoch", "lr", "valid_loss", "valid_mae", "seconds")


class PlateauRule:
    """Decides after each epoch, from the validation loss: 'keep', 'cut' the lr, or 'stop'."""

    def __init__(self, patience: int, max_cuts: int):
        self.patience, self.max_cuts = patience, max_cuts
        self.best, self.bad_epochs, self.cuts = math.inf, 0, 0

    def step(self, valid_loss: float) -> str:
        if valid_loss < self.best:
            self.best, self.bad_epochs = valid_loss, 0
            return "keep"
        self.bad_epochs += 1
        if self.bad_epochs < self.patience:
            return "keep"
        self.bad_epochs = 0
        if self.cuts == self.max_cuts:
            return "stop"
        self.cuts += 1
        return "cut"


def fold_rows(n: int, n_folds: int, fold: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows): one seeded permutation of the length's rows in n_folds parts."""
    if not 0 <= fold < n_folds:
        raise ValueError(f"fold {fold} is outside 0..{n_folds - 1}")
    parts = np.array_split(np.random.default_rng(seed).permutation(n), n_folds)
    return np.concatenate(parts[:fold] + parts[fold + 1 :]), parts[fold]


def train_fold(positions: np.ndarray, alpha: np.ndarray, fold: int, config: dict,
               device: str = "cpu", log=print) -> tuple[dict, list[dict]]:
    """Train on normalised positions [n, L]; return (checkpoint dict of the best epoch, epoch history)."""
    length = positions.shape[1]
    tr = config["train"]
    train_rows, valid_rows = fold_rows(len(alpha), tr["n_folds"], fold,
                                       derive_seed(config["seed"], "folds", length))
    seed = derive_seed(config["seed"], "train", length, fold)
    torch.manual_seed(seed)
    shuffle = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(positions)
    y = torch.from_numpy(alpha.astype(np.float32))
    x_train, y_train = x[train_rows].to(device), y[train_rows].to(device)
    x_valid, y_valid = x[valid_rows].to(device), y[valid_rows].to(device)

    model = AnDiLSTM(**config["model"]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=tr["learning_rate"])
    rule = PlateauRule(tr["patience"], tr["max_lr_cuts"])
    loss_fn = torch.nn.MSELoss()
    history, best = [], None
    epochs = range(tr["max_epochs"]) if tr["max_epochs"] else itertools.count()
    for epoch in epochs:
        start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        model.train()
        order = torch.randperm(len(y_train), generator=shuffle).to(device)
        for i in range(0, len(order), tr["batch_size"]):
            rows = order[i : i + tr["batch_size"]]
            loss = loss_fn(model(x_train[rows]), y_train[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        pred = predict_in_batches(model, x_valid, config["infer"]["batch_values"])
        valid_loss = torch.mean((pred - y_valid) ** 2).item()
        valid_mae = torch.mean(torch.abs(pred - y_valid)).item()
        row = dict(epoch=epoch, lr=lr, valid_loss=valid_loss, valid_mae=valid_mae,
                   seconds=round(time.perf_counter() - start, 3))
        history.append(row)
        log(f"Epoch: {epoch} LR: {lr:.6f} Valid Loss: {valid_loss:.4f} Valid MAE: {valid_mae:.4f}")
        if best is None or valid_mae < best["valid_mae"]:
            best = dict(epoch=epoch, valid_mae=valid_mae, valid_loss=valid_loss,
                        state_dict=copy.deepcopy({k: v.cpu() for k, v in model.state_dict().items()}))
        action = rule.step(valid_loss)
        if action == "stop":
            break
        if action == "cut":
            for group in optimizer.param_groups:
                group["lr"] *= tr["lr_factor"]
    checkpoint = dict(best, length=length, fold=fold, model=config["model"],
                      config_digest=settings_mod.digest({k: config[k] for k in ("seed", "model", "train")}),
                      n_train=len(train_rows), n_valid=len(valid_rows))
    return checkpoint, history


def save(checkpoint: dict, history: list[dict], model_path, history_path) -> None:
    with atomic_path(history_path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS)
        writer.writeheader()
        writer.writerows(history)
    with atomic_path(model_path) as tmp:
        torch.save(checkpoint, tmp)
