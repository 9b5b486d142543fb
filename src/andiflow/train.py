"""One network for one (task, length, fold): HNU's loss, optimiser, learning-rate rule and early stop.

MSE loss, Adam, batch 512, lr 1e-3; lr x1/5 after `patience` epochs without a lower validation
loss; stop when that would happen more than `max_lr_cuts` times; keep the epoch of lowest
per-sample validation MAE. Beyond HNU: a warm start from another length's trained model, the
`cosine` schedule (the rate falls from its start to 0 over `max_epochs`, batch by batch), and the
other tasks (tasks/), whose epochs are compared by their own metric (the diffusion_model task's
validation error rate).
"""

import csv
import itertools
import math
import time
from pathlib import Path

import numpy as np
import torch

from andiflow import TRAINER_VERSION
from andiflow import settings as settings_mod
from andiflow.atomic import atomic_path
from andiflow.errors import SettingsError
from andiflow.model import build, load_checkpoint, predict_in_batches, save_checkpoint, weights
from andiflow.progress import progress
from andiflow.seeds import derive_seed
from andiflow.tasks import TASKS


def history_columns(task: str) -> tuple[str, ...]:
    return ("epoch", "lr", "samples", "valid_loss", TASKS[task].metric, "seconds")


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
        raise SettingsError(f"fold {fold} is outside 0..{n_folds - 1} (train.n_folds is {n_folds})")
    parts = np.array_split(np.random.default_rng(seed).permutation(n), n_folds)
    return np.concatenate(parts[:fold] + parts[fold + 1 :]), parts[fold]


def train_fold(
    positions: np.ndarray,
    target: np.ndarray,
    fold: int,
    config: dict,
    device: str = "cpu",
    log=print,
    resume_path=None,
    init=None,
    task: str = "alpha",
    recipe: dict | None = None,
) -> tuple[dict, list[dict]]:
    """Train on normalised positions [n, L] (or [n, axes, L]: a model reading all axes) for `task`,
    whose targets (its shard column) are `target`; return (checkpoint dict of the best epoch, epoch
    history).

    With `init`, a model file of the same kind and settings (another length's, in practice), training
    starts from its weights instead of random ones: the warm start. With `resume_path`, the whole
    training state is written there atomically after every epoch, and a run that finds it there (same
    length, fold, data size and settings) continues after its last finished epoch, ending with the
    weights an uninterrupted run would have. `recipe` (shards.recipe_of: the data recipe and the
    generator's version) and the trainer's version are part of that identity, so a snapshot is never
    continued on data made otherwise or by other code.
    """
    length, axes = positions.shape[-1], positions.shape[1] if positions.ndim == 3 else 1
    tr = config["train"]
    train_rows, valid_rows = fold_rows(len(target), tr["n_folds"], fold, derive_seed(config["seed"], "folds", length))
    seed = derive_seed(config["seed"], "train", length, fold)
    torch.manual_seed(seed)
    shuffle = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(positions)
    metric = TASKS[task].metric
    y = torch.from_numpy(TASKS[task].target_values(target))
    x_train, y_train = place(x[train_rows], device), place(y[train_rows], device)
    x_valid, y_valid = place(x[valid_rows], device), y[valid_rows].to(device)

    model_settings = settings_mod.model_settings(config, task, axes)
    model = build(model_settings)
    source = warm_start(model, init, model_settings)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=tr["learning_rate"])
    rule = PlateauRule(tr["patience"], tr["max_lr_cuts"])
    identity = dict(
        length=length,
        fold=fold,
        axes=axes,
        n_train=len(train_rows),
        n_valid=len(valid_rows),
        warm_start=source,
        task=task,
        config_digest=settings_mod.digest(
            dict(seed=config["seed"], model=model_settings, train=settings_mod.plain(tr), recipe=recipe)
        ),
        trainer_version=TRAINER_VERSION,
    )
    state = dict(history=[], best=None, done=False)
    if resume_path is not None:
        state = _resume(resume_path, identity, state, model, optimizer, rule, shuffle, device, log)
    history = state["history"]
    epochs = itertools.count(len(history))
    if tr["max_epochs"]:
        epochs = range(len(history), tr["max_epochs"])
    schedule = cosine_schedule(tr, len(train_rows)) if tr["schedule"] == "cosine" else None
    for epoch in [] if state["done"] else epochs:
        start = time.perf_counter()
        lr = schedule(epoch, 0) if schedule else optimizer.param_groups[0]["lr"]
        train_epoch(
            model, optimizer, x_train, y_train, tr["batch_size"], shuffle, device, tr["precision"], schedule, epoch
        )
        model.eval()
        pred = predict_in_batches(model, x_valid, valid_batch_values(config, length, device), device)
        valid_loss, valid_metric = model.scores(pred, y_valid)
        history.append(
            {
                "epoch": epoch,
                "lr": lr,
                "samples": (epoch + 1) * len(train_rows),
                "valid_loss": valid_loss,
                metric: valid_metric,
                "seconds": round(time.perf_counter() - start, 3),
            }
        )
        log(epoch_line(history[-1]))
        if state["best"] is None or valid_metric < state["best"][metric]:
            state["best"] = {
                "epoch": epoch,
                metric: valid_metric,
                "valid_loss": valid_loss,
                "state_dict": weights(model),
            }
        action = rule.step(valid_loss) if schedule is None else "keep"
        if action == "cut":
            for group in optimizer.param_groups:
                group["lr"] *= tr["lr_factor"]
        state["done"] = action == "stop"
        if resume_path is not None:
            _save_resume(resume_path, identity, state, model, optimizer, rule, shuffle, device)
        if state["done"]:
            break
    return dict(state["best"], **identity), history


VALID_BATCH_VALUES = 16384  # numbers per validation pass on a CPU: bounds memory, and faster than more


def valid_batch_values(config, length: int, device: str) -> int:
    """Numbers per validation pass: VALID_BATCH_VALUES on a CPU; on a GPU, 4 training batches, which
    fit since training holds one batch with its gradients (16,384 values would be 16 trajectories
    per pass at L=999: thousands of passes per epoch)."""
    if torch.device(device).type != "cuda":
        return VALID_BATCH_VALUES
    return max(VALID_BATCH_VALUES, 4 * config["train"]["batch_size"] * length)


def warm_start(model, init, settings: dict) -> dict | None:
    """Load the weights of the model file `init` into `model`; say where they came from."""
    if init is None:
        return None
    source, meta = load_checkpoint(init)
    if {"output": "regression", **meta["model"]} != settings:  # files from before `output` regress
        raise SettingsError(
            f"{init}: warm start from a model with settings {meta['model']}, "
            f"but this training's model section is {settings}"
        )
    model.load_state_dict(source.state_dict())
    scores = {k: meta[k] for k in ("valid_mae", "valid_error") if k in meta}
    return dict(length=meta["length"], fold=meta["fold"], epoch=meta["epoch"], **scores)


def epoch_line(row: dict) -> str:
    """HNU's log line for one epoch (other tasks log their metric where alpha logs MAE)."""
    names = {"valid_mae": "Valid MAE", "valid_error": "Valid Error", "valid_frame_error": "Valid Frame Error"}
    metric = next(f"{names[k]}: {row[k]:.4f}" for k in names if k in row)
    return f"Epoch: {row['epoch']} LR: {row['lr']:.6f} Valid Loss: {row['valid_loss']:.4f} {metric}"


def cosine_schedule(tr: dict, n_train: int):
    """lr(epoch, batch): from learning_rate down to 0 along half a cosine over max_epochs."""
    if not tr["max_epochs"]:
        raise SettingsError("train.schedule cosine needs train.max_epochs (the length of the schedule)")
    per_epoch = math.ceil(n_train / tr["batch_size"])
    total = tr["max_epochs"] * per_epoch

    def lr(epoch: int, batch: int) -> float:
        return tr["learning_rate"] * 0.5 * (1 + math.cos(math.pi * (epoch * per_epoch + batch) / total))

    return lr


def train_epoch(
    model,
    optimizer,
    x,
    y,
    batch_size: int,
    shuffle: torch.Generator,
    device: str,
    precision: str = "fp32",
    schedule=None,
    epoch: int = 0,
) -> None:
    """One pass over (x, y) in a seeded random order; batches are index slices of tensors held on
    the device (or in pinned host memory, copied batch by batch, when they do not fit). With
    precision bf16 the forward pass runs under bf16 autocast; weights and optimiser stay fp32. With a
    schedule, each batch's learning rate is schedule(epoch, batch)."""
    model.train()
    order = torch.randperm(len(y), generator=shuffle).to(x.device)
    autocast = torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=precision == "bf16")
    for batch, i in enumerate(progress(range(0, len(order), batch_size), "epoch", unit="batch")):
        rows = order[i : i + batch_size]
        xb = x[rows].to(device, non_blocking=True)
        yb = y[rows].to(device, non_blocking=True)
        if schedule:
            for group in optimizer.param_groups:
                group["lr"] = schedule(epoch, batch)
        with autocast:
            loss = model.loss(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def device_name(device: str) -> str:
    """What a model was trained on, for its card: cpu, or the GPU's name."""
    if torch.device(device).type != "cuda":
        return "cpu"
    return torch.cuda.get_device_name(torch.device(device))


def place(t: torch.Tensor, device: str) -> torch.Tensor:
    """A length's data on the GPU when it fits in half its free memory, else in pinned host memory."""
    if torch.device(device).type != "cuda":
        return t
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    return t.to(device) if t.nbytes < free / 2 else t.pin_memory()


def _save_resume(path, identity, state, model, optimizer, rule, shuffle, device) -> None:
    snapshot = dict(
        identity,
        state=state,
        model_state=model.state_dict(),
        optimizer=optimizer.state_dict(),
        rule=vars(rule).copy(),
        torch_rng=torch.get_rng_state(),
        shuffle_rng=shuffle.get_state(),
    )
    if torch.device(device).type == "cuda":
        snapshot["cuda_rng"] = torch.cuda.get_rng_state(torch.device(device))
    with atomic_path(path) as tmp:
        torch.save(snapshot, tmp)


def _resume(path, identity, fresh, model, optimizer, rule, shuffle, device, log) -> dict:
    path = Path(path)
    if not path.exists():
        return fresh
    try:
        snapshot = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # an unreadable snapshot is no reason to fail: start again
        log(f"{path}: unreadable ({err}); starting from epoch 0")
        return fresh
    if any(snapshot.get(k) != v for k, v in identity.items()):
        log(f"{path}: made for other data or settings; starting from epoch 0")
        return fresh
    model.load_state_dict(snapshot["model_state"])
    optimizer.load_state_dict(snapshot["optimizer"])
    vars(rule).update(snapshot["rule"])
    torch.set_rng_state(snapshot["torch_rng"])
    shuffle.set_state(snapshot["shuffle_rng"])
    if "cuda_rng" in snapshot:
        torch.cuda.set_rng_state(snapshot["cuda_rng"], torch.device(device))
    state = snapshot["state"]
    log(f"resuming after epoch {len(state['history']) - 1} from {path}")
    for row in state["history"]:
        log(f"{epoch_line(row)} (before resume)")
    return state


def save(best: dict, history: list[dict], config: dict, model_path, history_path) -> None:
    """The epoch table and the model file of the best epoch, with the settings the model is built from."""
    model_settings = settings_mod.model_settings(config, best["task"], best["axes"])
    with atomic_path(history_path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=history_columns(best["task"]))
        writer.writeheader()
        writer.writerows(history)
    meta = {k: v for k, v in best.items() if k != "state_dict"}
    save_checkpoint(model_path, model_settings, best["state_dict"], **meta)
