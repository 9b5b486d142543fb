"""The seed's inference rule over the trained (length, fold) models, batched by window length.

A series of T points is z-scored as a whole; if T is a trained length it is used as it is, otherwise
Tn = the nearest smaller trained length and the head [0:Tn] and tail [T-Tn:T] windows are both used.
The estimate of a series is the mean over its windows and the folds; that of a 2D/3D trajectory the
mean over its axes. Scaling and clipping come after (`finish`).
"""

import re
from pathlib import Path

import numpy as np
import torch

from andiflow.model import AnDiLSTM, predict_in_batches
from andiflow.normalize import zscore
from andiflow.progress import progress

MODEL_FILE = re.compile(r"L(\d+)/fold(\d+)\.pt$")


class ModelFileError(RuntimeError):
    pass


def load_model(path) -> tuple[AnDiLSTM, dict]:
    """A trained model and its metadata; never executes code from the file (weights_only)."""
    path = Path(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for unreadable or unsafe files
        raise ModelFileError(f"{path}: not a readable andiflow model ({err})") from None
    match = MODEL_FILE.search(path.as_posix())
    if match and (int(match[1]), int(match[2])) != (checkpoint.get("length"), checkpoint.get("fold")):
        raise ModelFileError(f"{path}: holds length {checkpoint.get('length')} fold {checkpoint.get('fold')}, "
                             "which does not match its path")
    model = AnDiLSTM(**checkpoint["model"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), checkpoint


class Ensemble:
    def __init__(self, members: dict[int, list[AnDiLSTM]], device: str = "cpu", batch_values: int = 4194304):
        self.members_of = {L: [m.to(device) for m in models] for L, models in sorted(members.items())}
        self.lengths = np.array(sorted(members))
        self.device, self.batch_values = device, batch_values

    @classmethod
    def load(cls, models_dir, folds=None, device="cpu", batch_values=4194304) -> "Ensemble":
        """Every L*/fold*.pt under models_dir (restricted to `folds` if given); each length must have
        the same folds, so that every trajectory is averaged over the same members."""
        found: dict[int, dict[int, Path]] = {}
        for path in sorted(Path(models_dir).glob("L*/fold*.pt")):
            match = MODEL_FILE.search(path.as_posix())
            if match and (folds is None or int(match[2]) in folds):
                found.setdefault(int(match[1]), {})[int(match[2])] = path
        if not found:
            raise ModelFileError(f"{models_dir}: no trained models (L<length>/fold<k>.pt) found"
                                 + (f" for folds {list(folds)}" if folds is not None else ""))
        fold_sets = {L: sorted(paths) for L, paths in found.items()}
        expected = sorted(set(folds)) if folds is not None else max(fold_sets.values(), key=len)
        for L, have in fold_sets.items():
            if have != expected:
                raise ModelFileError(f"{models_dir}/L{L}: has folds {have}, expected {expected}")
        members = {L: [load_model(p)[0] for _, p in sorted(paths.items())] for L, paths in found.items()}
        return cls(members, device, batch_values)

    @property
    def min_length(self) -> int:
        return int(self.lengths[0])

    def windows(self, series: list[np.ndarray]) -> dict[int, tuple[np.ndarray, torch.Tensor]]:
        """The windows of each 1D series (at least min_length points), grouped by trained length:
        Tn -> (index of the series of each window, windows [m, Tn])."""
        groups = {}
        for i, s in enumerate(series):
            T = len(s)
            Tn = int(self.lengths[np.searchsorted(self.lengths, T, side="right") - 1])
            z = zscore(s)
            groups.setdefault(Tn, []).extend((i, w) for w in ([z] if Tn == T else [z[:Tn], z[T - Tn :]]))
        return {Tn: (np.array([i for i, _ in items]), torch.from_numpy(np.stack([w for _, w in items])))
                for Tn, items in groups.items()}

    def members(self, series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Every member estimate (window x fold) of each 1D series, and the index of its series;
        each trained length's windows go through its models in batches, never one at a time."""
        windows = self.windows(series)
        values, owners = [], []
        for Tn, (owner, x) in progress(windows.items(), "predict", total=len(windows), unit="length"):
            for model in self.members_of[Tn]:
                values.append(predict_in_batches(model, x, self.batch_values, self.device).cpu().numpy())
                owners.append(owner)
        return np.concatenate(values).astype(np.float64), np.concatenate(owners)

    def predict(self, trajectories: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(raw alpha, spread) of each trajectory [dim, T]. Alpha is the seed's estimate: the mean over
        windows and folds of each axis, then over axes (all axes have the same windows, so this is the
        mean of all members); the spread is the standard deviation of those members."""
        axes = [axis for t in trajectories for axis in t]
        axis_owner = np.repeat(np.arange(len(trajectories)), [len(t) for t in trajectories])
        values, series = self.members(axes)
        owner, n = axis_owner[series], len(trajectories)
        count = np.bincount(owner, minlength=n)
        mean = np.bincount(owner, values, n) / count
        spread = np.sqrt(np.bincount(owner, (values - mean[owner]) ** 2, n) / count)
        return mean, spread


def finish(raw: np.ndarray, scale: float, clip) -> np.ndarray:
    """The seed's last step: multiply by the calibrated scale, clip to the alpha range."""
    return np.clip(raw * scale, clip[0], clip[1])
