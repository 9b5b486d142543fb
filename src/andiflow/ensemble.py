"""HNU's inference rule over an ensemble of trained (length, fold) models, batched by window length;
and the ensemble's one format: a folder of model files with a manifest.

A series of T points is z-scored as a whole; if T is a trained length it is used as it is, otherwise
Tn = the nearest smaller trained length and the head [0:Tn] and tail [T-Tn:T] windows are both used
(`windows: head_tail`, HNU's rule); an encoder that reads any length may instead read the whole series
with the model of Tn (`windows: whole`, beyond HNU). The estimate of a series is the mean over its
windows and the folds; that of a 2D/3D trajectory the mean over its axes. Scaling and clipping come
after (`finish`). An ensemble that also has members of the `model` task (tasks.py), classifiers of
one dimension each, reads the same windows of a trajectory, all its axes at once, with those of its
dimension, and gives a probability per diffusion model: the softmax of the mean member
log-probability (over windows and folds), divided by the manifest's temperature for the dimension
(1 until one is calibrated).

manifest.json names every member (its PyTorch file and its ONNX export, each with a checksum, its
task, length and fold, and a classifier's dimension, `axes`) and holds the scale, the interval
table, the inference rule, the settings that made the ensemble and the command that rebuilds it.
Only the members it names are used, and a member whose checksum differs is refused. Members run in
ONNX Runtime (no PyTorch needed) or in PyTorch (on a GPU).
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from andiflow.atomic import atomic_path
from andiflow.errors import InputFileError, ModelFileError
from andiflow.normalize import zscore
from andiflow.progress import progress
from andiflow.tasks import MODELS, TASKS

MANIFEST = "manifest.json"
FORMAT = "andiflow-ensemble/1"
WINDOWS = ("head_tail", "whole")
BATCH_VALUES = 16384  # numbers (batch x length) in one forward pass: bounds memory, and faster than more


class OnnxMember:
    """One member in ONNX Runtime: z-scored windows [n, Tn] -> raw alpha [n], in bounded batches."""

    def __init__(self, path, threads: int = 1, batch_values: int = BATCH_VALUES):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        options.log_severity_level = 3  # its warnings are about graph details, not the user's data
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.batch_values = batch_values

    def __call__(self, x: np.ndarray) -> np.ndarray:
        batch = max(1, self.batch_values // x[0].size)
        return np.concatenate(
            [self.session.run(None, {"positions": x[i : i + batch]})[0] for i in range(0, len(x), batch)]
        )


class Ensemble:
    """members: trained length -> its members (one per fold), each a callable from z-scored windows
    [n, length] (float32) to raw alpha [n] (OnnxMember, model.TorchMember): HNU's 1D networks, which
    read any trajectory axis by axis. alpha_of_dims, if any: alpha's networks of 2D or 3D (d -> length
    -> members, from windows [n, d, length]), which read the trajectories of their dimension instead.
    classifiers, if any, the same for the model task by dimension d (d -> length -> members), from
    windows [n, length] (1D) or [n, d, length] to log-probabilities [n, 5]."""

    def __init__(self, members: dict, manifest=None, windows: str = "head_tail", classifiers=None, alpha_of_dims=None):
        self.members_of = dict(sorted(members.items()))
        self.alpha_of_dims = _by_dim(alpha_of_dims)
        self.classifiers_of = _by_dim(classifiers)
        self.lengths = np.array(sorted(members))
        self.manifest = manifest or {}
        self.rule = self.manifest.get("windows", windows)
        for what, groups in (("alpha networks", self.alpha_of_dims), ("classifiers", self.classifiers_of)):
            for d, of_dim in groups.items():
                if sorted(of_dim) != sorted(members):
                    raise ModelFileError(
                        f"{self.describe()}: the {d}D {what}' lengths {sorted(of_dim)} differ from "
                        f"alpha's {sorted(members)}"
                    )

    @classmethod
    def load(cls, path, backend="onnx", device="cpu", threads=1, batch_values=BATCH_VALUES) -> "Ensemble":
        """The ensemble of a folder (or its manifest.json): exactly the members the manifest names,
        each checked against its checksum, run in ONNX Runtime (`onnx`) or PyTorch (`torch`)."""
        manifest, folder = read_manifest(path)
        members, alpha_of_dims, classifiers = {}, {}, {}
        for entry in manifest["members"]:
            key = "onnx" if backend == "onnx" else "file"
            if key not in entry:
                raise ModelFileError(
                    f"{folder / MANIFEST}: member L{entry['length']} fold {entry['fold']} has no ONNX file; "
                    "run it with PyTorch (--backend torch) or rebuild the ensemble"
                )
            file = folder / entry[key]
            if not file.is_file():
                raise ModelFileError(f"{file}: named by {folder / MANIFEST} but missing")
            if sha256(file) != entry[f"{key}_sha256" if key == "onnx" else "sha256"]:
                raise ModelFileError(
                    f"{file}: checksum differs from {folder / MANIFEST}; the file was changed "
                    "after the ensemble was made (rebuild it with the command in the manifest)"
                )
            if backend == "onnx":
                member = OnnxMember(file, threads, batch_values)
            else:
                from andiflow.model import TorchMember

                member = TorchMember.load(file, entry, device, batch_values)
            d = entry.get("axes", 1)
            if entry.get("task", "alpha") == "model":
                of = classifiers.setdefault(d, {})
            else:
                of = members if d == 1 else alpha_of_dims.setdefault(d, {})
            of.setdefault(entry["length"], {})[entry["fold"]] = member
        for of in [members, *alpha_of_dims.values(), *classifiers.values()]:
            folds = {tuple(sorted(by_fold)) for by_fold in of.values()}
            if len(folds) > 1:
                raise ModelFileError(
                    f"{folder / MANIFEST}: the lengths of one group of members have different folds "
                    f"({sorted(folds)}); every trajectory must be averaged over the same members"
                )
        return cls(
            _fold_order(members),
            manifest,
            classifiers={d: _fold_order(of) for d, of in classifiers.items()},
            alpha_of_dims={d: _fold_order(of) for d, of in alpha_of_dims.items()},
        )

    @property
    def min_length(self) -> int:
        return int(self.lengths[0])

    def describe(self) -> str:
        folds = sorted({e["fold"] for e in self.manifest.get("members", [])})
        return (
            f"{self.manifest.get('name', 'ensemble')}: lengths {', '.join(map(str, self.lengths))}; "
            f"folds {', '.join(map(str, folds))}"
        )

    def windows(self, series: list[np.ndarray]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The windows of each series (one axis [T], or all axes [d, T]), grouped by the trained length
        whose models read them: Tn -> (index of the series of each window, windows [m, T'] or
        [m, d, T']). A series shorter than the shortest trained length is refused."""
        groups = {}
        for i, s in enumerate(series):
            T = s.shape[-1]
            if T < self.min_length:
                raise InputFileError(
                    f"series {i} has {T} points, fewer than the shortest trained length ({self.min_length})"
                )
            Tn = int(self.lengths[np.searchsorted(self.lengths, T, side="right") - 1])
            z = zscore(s)
            whole = Tn == T or self.rule == "whole"
            groups.setdefault((Tn, T if whole else Tn), []).extend(
                (i, w) for w in ([z] if whole else [z[..., :Tn], z[..., T - Tn :]])
            )
        return {
            key: (np.array([i for i, _ in items]), np.stack([w for _, w in items])) for key, items in groups.items()
        }

    def members(self, series: list[np.ndarray], members_of: dict) -> tuple[np.ndarray, np.ndarray]:
        """Every output of the members (window x fold; length -> members) of each series, and the index
        of its series; each trained length's windows go through its models in batches, never one at a
        time."""
        windows = self.windows(series)
        values, owners = [], []
        for (Tn, _), (owner, x) in progress(windows.items(), "predict", total=len(windows), unit="length"):
            for member in members_of[Tn]:
                values.append(member(x))
                owners.append(owner)
        return np.concatenate(values).astype(np.float64), np.concatenate(owners)

    def trajectory_members(self, trajectories: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Every alpha member output of each trajectory [dim, T], and the index of its trajectory: window
        x fold of the networks of its dimension where the ensemble has them, else axis x window x fold
        of the 1D networks (HNU)."""
        dims = np.array([len(t) for t in trajectories])
        values, owners = self.dimension_members(trajectories, self.alpha_of_dims, dims)
        by_axis = np.flatnonzero(~np.isin(dims, list(self.alpha_of_dims)))
        if len(by_axis):
            out, series = self.members([axis for i in by_axis for axis in trajectories[i]], self.members_of)
            values.append(out)
            owners.append(np.repeat(by_axis, dims[by_axis])[series])
        return np.concatenate(values), np.concatenate(owners)

    def dimension_members(self, trajectories, groups: dict, dims: np.ndarray) -> tuple[list, list]:
        """The outputs of the members of each dimension d (d -> length -> members), which read the
        trajectories of dimension d all axes at once, and the index of each output's trajectory."""
        values, owners = [], []
        for d, members_of in groups.items():
            index = np.flatnonzero(dims == d)
            if len(index):
                out, owner = self.members(
                    [trajectories[i][0] if d == 1 else trajectories[i] for i in index], members_of
                )
                values.append(out)
                owners.append(index[owner])
        return values, owners

    def classifier_members(self, trajectories: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Every classifier output (window x fold, [m, 5]) of each trajectory [dim, T], read by the
        classifiers of its dimension, and the index of its trajectory."""
        dims = np.array([len(t) for t in trajectories])
        missing = sorted(set(dims.tolist()) - set(self.classifiers_of))
        if missing:
            raise ModelFileError(f"{self.describe()}: has no classifiers of {missing[0]}D trajectories")
        values, owners = self.dimension_members(trajectories, self.classifiers_of, dims)
        return np.concatenate(values), np.concatenate(owners)

    def mean_log_probabilities(self, trajectories: list[np.ndarray]) -> np.ndarray:
        """[n, 5]: the mean member log-probability of each diffusion model (tasks.MODELS) over the
        windows and folds of each trajectory [dim, T]. Needs the model task's members."""
        if not self.classifiers_of:
            raise ModelFileError(f"{self.describe()}: has no members of the model task; it gives alpha only")
        values, owner = self.classifier_members(trajectories)
        n = len(trajectories)
        total = np.stack([np.bincount(owner, values[:, k], n) for k in range(len(MODELS))], axis=1)
        return total / np.bincount(owner, minlength=n)[:, None]

    def classify(self, trajectories: list[np.ndarray]) -> np.ndarray:
        """Probabilities [n, 5] of the diffusion models for each trajectory [dim, T]: the softmax of
        its mean log-probabilities divided by the calibrated temperature of its dimension."""
        temperature = self.manifest.get("temperature") or {}
        dims = [len(t) for t in trajectories]
        return softmax(self.mean_log_probabilities(trajectories), [temperature.get(str(d), 1.0) for d in dims])

    def predict(self, trajectories: list[np.ndarray], where=str) -> tuple[np.ndarray, np.ndarray]:
        """(raw alpha, spread) of each trajectory [dim, T]. Alpha is HNU's estimate: the mean over
        windows and folds of each axis, then over axes (all axes have the same windows, so this is the
        mean of all members), or the mean over windows and folds of the networks of its dimension where
        the ensemble has them; the spread is the standard deviation of those members. A trajectory
        shorter than the shortest trained length is refused; `where(i)` names trajectory i."""
        for i, t in enumerate(trajectories):
            if t.shape[1] < self.min_length:
                raise InputFileError(
                    f"{where(i)}: trajectory of length {t.shape[1]} is shorter than the shortest "
                    f"trained length ({self.min_length})"
                )
        values, owner = self.trajectory_members(trajectories)
        n = len(trajectories)
        count = np.bincount(owner, minlength=n)
        mean = np.bincount(owner, values, n) / count
        spread = np.sqrt(np.bincount(owner, (values - mean[owner]) ** 2, n) / count)
        return mean, spread

    def estimate(self, trajectories: list[np.ndarray], scale=None, level=None, where=str, with_model=True) -> dict:
        """What is reported for each trajectory [dim, T]: alpha (scaled, clipped), alpha_std (the spread
        after scaling) and, at level P, the calibrated interval (low, high); with the model task's
        members (unless not `with_model`), the most probable model and each model's probability. The
        scale is the manifest's unless given; `where(i)` names trajectory i in errors (e.g. file:line)."""
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
        result = dict(alpha=alpha, std=std, low=low, high=high)
        if self.classifiers_of and with_model:
            p = self.classify(trajectories)
            result["model"] = np.array(MODELS)[p.argmax(axis=1)]
            result.update({f"p_{name}": p[:, k] for k, name in enumerate(MODELS)})
        return result


def _fold_order(by_length: dict) -> dict:
    """length -> {fold: member} as length -> members in fold order."""
    return {L: [by_fold[k] for k in sorted(by_fold)] for L, by_fold in by_length.items()}


def _by_dim(groups) -> dict:
    """d -> length -> members, both sorted."""
    return {d: dict(sorted(of_dim.items())) for d, of_dim in sorted((groups or {}).items())}


def softmax(logits: np.ndarray, temperature) -> np.ndarray:
    """Rows of softmax(logits / temperature), temperature a number or one per row."""
    z = logits / np.reshape(np.asarray(temperature, dtype=float), (-1, 1))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


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
    model_files,
    folder,
    *,
    name: str,
    settings: dict,
    command: str,
    scale=None,
    intervals=None,
    clip=(0.05, 2.0),
    windows="head_tail",
    temperature=None,
    onnx_weights="float16",
    median="grid",
) -> dict:
    """Write an ensemble folder: the model files (copied into it unless they are already there) and
    their ONNX exports (weights stored as `onnx_weights` says: model.round_weights; a distribution
    over the alpha grid read out by its `median`, model.MEDIANS), each with its checksum and training
    record, and the manifest."""
    from andiflow.model import export_onnx, load_checkpoint

    folder = Path(folder)
    members = []
    for file in map(Path, model_files):
        model, meta = load_checkpoint(file)
        task = TASKS[meta.get("task", "alpha")]
        d = meta["model"].get("axes", 1)
        axes = {"axes": d} if task.name == "model" or d > 1 else {}  # HNU's 1D alpha entries as before
        by_dim = f"{axes['axes']}D" if axes else ""
        target = folder / task.folder / by_dim / f"L{meta['length']}" / f"fold{meta['fold']}.pt"
        if file.resolve() != target.resolve():
            with atomic_path(target) as tmp:
                tmp.write_bytes(file.read_bytes())
        onnx = target.with_suffix(".onnx")
        model.median = median  # read by a distribution output only
        readout = {"median": median} if model.output == "distribution" else {}
        export_onnx(model, meta["length"], onnx, onnx_weights)
        members.append(
            dict(
                file=target.relative_to(folder).as_posix(),
                length=meta["length"],
                fold=meta["fold"],
                task=task.name,
                **axes,
                sha256=sha256(target),
                onnx=onnx.relative_to(folder).as_posix(),
                onnx_sha256=sha256(onnx),
                onnx_weights=onnx_weights,
                **readout,
                training=_training_record(file, meta),
            )
        )
    members.sort(key=lambda e: (e["task"] != "alpha", e.get("axes", 1), e["length"], e["fold"]))
    manifest = dict(
        format=FORMAT,
        name=name,
        members=members,
        scale=scale,
        clip=list(clip),
        windows=windows,
        intervals=intervals,
        temperature=temperature,
        settings=settings,
        command=command,
    )
    with atomic_path(folder / MANIFEST) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _training_record(file: Path, meta: dict) -> dict:
    """What the member's training saw: epochs, samples, seconds, best validation MAE, warm start, and
    what it was trained on (cpu or the GPU's name; recorded since the model task's GPU-trained members)."""
    metric = TASKS[meta.get("task", "alpha")].metric
    record = {
        "best_epoch": meta["epoch"],
        metric: round(meta[metric], 5),
        "n_train": meta["n_train"],
        "warm_start": meta.get("warm_start"),
        **({"trained_on": meta["trained_on"]} if "trained_on" in meta else {}),
    }
    history = file.with_suffix(".csv")
    if history.is_file():
        import pandas as pd

        table = pd.read_csv(history)
        record.update(
            epochs=len(table), samples=int(table["samples"].iloc[-1]), seconds=round(float(table["seconds"].sum()), 1)
        )
    return record
