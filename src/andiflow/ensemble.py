"""HNU's inference rule over an ensemble of trained (length, fold) models, batched by window length;
and the ensemble's one format: a folder of model files with a manifest.

A series of T points is z-scored as a whole; if T is a trained length it is used as it is, otherwise
Tn = the nearest smaller trained length and the head [0:Tn] and tail [T-Tn:T] windows are both used.
The estimate of a series is the mean over its windows and the folds; that of a 2D/3D trajectory the
mean over its axes. Scaling and clipping come after (`finish`).

manifest.json names every member (file, length, fold, sha256) and holds the scale, the interval
table, the settings that made the ensemble and the command that rebuilds it. Only the members it
names are used, and a member whose checksum differs is refused.
"""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import torch

from andiflow.atomic import atomic_path
from andiflow.errors import InputFileError, ModelFileError
from andiflow.model import load_checkpoint, predict_in_batches
from andiflow.normalize import zscore
from andiflow.progress import progress

MANIFEST = "manifest.json"
FORMAT = "andiflow-ensemble/1"


class Ensemble:
    def __init__(self, members: dict, device: str = "cpu", batch_values: int = 4194304, manifest=None):
        self.members_of = {L: [m.to(device) for m in models] for L, models in sorted(members.items())}
        self.lengths = np.array(sorted(members))
        self.device, self.batch_values = device, batch_values
        self.manifest = manifest or {}

    @classmethod
    def load(cls, path, device="cpu", batch_values=4194304) -> "Ensemble":
        """The ensemble of a folder (or its manifest.json): exactly the members the manifest names,
        each checked against its checksum, length and fold."""
        manifest, folder = read_manifest(path)
        members = {}
        for entry in manifest["members"]:
            file = folder / entry["file"]
            if not file.is_file():
                raise ModelFileError(f"{file}: named by {folder / MANIFEST} but missing")
            if sha256(file) != entry["sha256"]:
                raise ModelFileError(
                    f"{file}: checksum differs from {folder / MANIFEST}; the file was changed "
                    "after the ensemble was made (rebuild it with the command in the manifest)"
                )
            model, meta = load_checkpoint(file)
            if (meta.get("length"), meta.get("fold")) != (entry["length"], entry["fold"]):
                raise ModelFileError(
                    f"{file}: holds length {meta.get('length')} fold {meta.get('fold')}, "
                    f"the manifest says length {entry['length']} fold {entry['fold']}"
                )
            members.setdefault(entry["length"], {})[entry["fold"]] = model
        folds = {L: sorted(by_fold) for L, by_fold in members.items()}
        if len({tuple(f) for f in folds.values()}) > 1:
            raise ModelFileError(
                f"{folder / MANIFEST}: lengths have different folds ({folds}); every trajectory "
                "must be averaged over the same members"
            )
        members = {L: [by_fold[k] for k in sorted(by_fold)] for L, by_fold in members.items()}
        return cls(members, device, batch_values, manifest)

    @property
    def min_length(self) -> int:
        return int(self.lengths[0])

    def describe(self) -> str:
        folds = sorted({e["fold"] for e in self.manifest.get("members", [])})
        return (
            f"{self.manifest.get('name', 'ensemble')}: lengths {', '.join(map(str, self.lengths))}; "
            f"folds {', '.join(map(str, folds))}"
        )

    def windows(self, series: list[np.ndarray]) -> dict[int, tuple[np.ndarray, torch.Tensor]]:
        """The windows of each 1D series, grouped by trained length: Tn -> (index of the series of
        each window, windows [m, Tn]). A series shorter than the shortest trained length is refused."""
        groups = {}
        for i, s in enumerate(series):
            T = len(s)
            if T < self.min_length:
                raise InputFileError(
                    f"series {i} has {T} points, fewer than the shortest trained length ({self.min_length})"
                )
            Tn = int(self.lengths[np.searchsorted(self.lengths, T, side="right") - 1])
            z = zscore(s)
            groups.setdefault(Tn, []).extend((i, w) for w in ([z] if Tn == T else [z[:Tn], z[T - Tn :]]))
        return {
            Tn: (np.array([i for i, _ in items]), torch.from_numpy(np.stack([w for _, w in items])))
            for Tn, items in groups.items()
        }

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

    def predict(self, trajectories: list[np.ndarray], where=str) -> tuple[np.ndarray, np.ndarray]:
        """(raw alpha, spread) of each trajectory [dim, T]. Alpha is HNU's estimate: the mean over
        windows and folds of each axis, then over axes (all axes have the same windows, so this is the
        mean of all members); the spread is the standard deviation of those members. A trajectory
        shorter than the shortest trained length is refused; `where(i)` names trajectory i."""
        for i, t in enumerate(trajectories):
            if t.shape[1] < self.min_length:
                raise InputFileError(
                    f"{where(i)}: trajectory of length {t.shape[1]} is shorter than the shortest "
                    f"trained length ({self.min_length})"
                )
        axes = [axis for t in trajectories for axis in t]
        axis_owner = np.repeat(np.arange(len(trajectories)), [len(t) for t in trajectories])
        values, series = self.members(axes)
        owner, n = axis_owner[series], len(trajectories)
        count = np.bincount(owner, minlength=n)
        mean = np.bincount(owner, values, n) / count
        spread = np.sqrt(np.bincount(owner, (values - mean[owner]) ** 2, n) / count)
        return mean, spread

    def estimate(self, trajectories: list[np.ndarray], scale=None, level=None, where=str) -> dict:
        """What is reported for each trajectory [dim, T]: alpha (scaled, clipped), alpha_std (the spread
        after scaling) and, at level P, the calibrated interval (low, high). The scale is the
        manifest's unless given; `where(i)` names trajectory i in errors (e.g. file:line)."""
        scale = self.manifest.get("scale") if scale is None else scale
        if scale is None:
            raise ModelFileError(f"{self.describe()}: has no calibrated scale; give one (--scale)")
        clip = self.manifest.get("clip", (0.05, 2.0))
        table = self.manifest.get("intervals")
        if level is not None and table is None:
            raise ModelFileError(f"{self.describe()}: has no interval table; intervals cannot be given")
        raw, spread = self.predict(trajectories, where)
        alpha, std = finish(raw, scale, clip), spread * scale
        low = high = None
        if level is not None:
            from andiflow.intervals import interval

            dims, lengths = [len(t) for t in trajectories], [t.shape[1] for t in trajectories]
            low, high = interval(table, alpha, dims, lengths, std, level, clip)
        return dict(alpha=alpha, std=std, low=low, high=high)


def finish(raw: np.ndarray, scale: float, clip) -> np.ndarray:
    """HNU's last step: multiply by the calibrated scale, clip to the alpha range."""
    return np.clip(raw * scale, clip[0], clip[1])


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_manifest(path) -> tuple[dict, Path]:
    """(manifest, folder) of an ensemble folder or of its manifest.json."""
    path = Path(path)
    file = path / MANIFEST if path.is_dir() else path
    if not file.is_file():
        raise ModelFileError(
            f"{path}: no ensemble here (an ensemble is a folder with {MANIFEST}, "
            "as the workflow writes in results/ensemble)"
        )
    try:
        manifest = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{file}: not a readable manifest ({err})") from None
    if manifest.get("format") != FORMAT:
        raise ModelFileError(f"{file}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    return manifest, file.parent


def assemble(
    model_files, folder, *, name: str, settings: dict, command: str, scale=None, intervals=None, clip=(0.05, 2.0)
) -> dict:
    """Write an ensemble folder: the model files (copied into it unless they are already there), each
    with its checksum and training record, and the manifest."""
    folder = Path(folder)
    members = []
    for file in map(Path, model_files):
        _, meta = load_checkpoint(file)
        target = folder / f"L{meta['length']}" / f"fold{meta['fold']}.pt"
        if file.resolve() != target.resolve():
            with atomic_path(target) as tmp:
                shutil.copyfile(file, tmp)
        members.append(
            dict(
                file=target.relative_to(folder).as_posix(),
                length=meta["length"],
                fold=meta["fold"],
                sha256=sha256(target),
                training=_training_record(file, meta),
            )
        )
    members.sort(key=lambda e: (e["length"], e["fold"]))
    manifest = dict(
        format=FORMAT,
        name=name,
        members=members,
        scale=scale,
        clip=list(clip),
        intervals=intervals,
        settings=settings,
        command=command,
    )
    with atomic_path(folder / MANIFEST) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _training_record(file: Path, meta: dict) -> dict:
    """What the member's training saw: epochs, samples, seconds, best validation MAE, warm start."""
    record = dict(
        best_epoch=meta["epoch"],
        valid_mae=round(meta["valid_mae"], 5),
        n_train=meta["n_train"],
        warm_start=meta.get("warm_start"),
    )
    history = file.with_suffix(".csv")
    if history.is_file():
        import pandas as pd

        table = pd.read_csv(history)
        record.update(
            epochs=len(table), samples=int(table["samples"].iloc[-1]), seconds=round(float(table["seconds"].sum()), 1)
        )
    return record
