"""HNU's inference rule over an ensemble of trained networks, numpy only.

Members are grouped by (task, dimension), each group by trained length, each length's members in fold
order. A series of T points is z-scored as a whole; if T is a trained length it is used as it is,
otherwise Tn = the nearest smaller trained length and the head [0:Tn] and tail [T-Tn:T] windows are both
used (`windows: head_tail`, HNU's rule); an encoder that reads any length may instead read the whole
series with the networks of Tn (`windows: whole`, beyond HNU). A trajectory of dimension d is read by
its task's networks of d, all axes at once; where a task has none of d and may read axis by axis
(alpha, HNU's rule), by its 1D networks, axis by axis. The task combines the outputs (tasks/): alpha
the mean over windows, folds and axes, then the scale and the clip (`finish`); the diffusion model the
softmax of the mean log-probability divided by the temperature of the dimension.

    ens = Ensemble.load("results/ensemble")
    ens.predict(trajectories)               # alpha, finished: scaled and clipped
    ens.predict_interval(trajectories, 0.9) # (low, high), calibrated
    ens.predict_proba(trajectories)         # [n, 5] probabilities of the diffusion models
    ens.subset(folds=[0], windows="head_tail")
"""

import warnings

import numpy as np

from andiflow.errors import InputFileError, ModelFileError
from andiflow.manifest import MANIFEST, read_manifest, sha256
from andiflow.members import OnnxMember, TorchMember
from andiflow.normalize import zscore
from andiflow.settings import default
from andiflow.tasks import MODELS, TASKS
from andiflow.workers import Workers

WINDOWS = ("head_tail", "whole")


class Ensemble:
    """groups: (task, dim) -> trained length -> members in fold order, each a callable from z-scored
    windows ([n, length] for 1D, [n, dim, length]) to raw outputs (members.OnnxMember, TorchMember)."""

    def __init__(self, groups: dict, manifest: dict | None = None, windows: str | None = None, workers=1):
        self.groups = {key: dict(sorted(of.items())) for key, of in sorted(groups.items())}
        self.workers = Workers(self, self.groups, workers)
        self.manifest = manifest or {}
        self.rule = windows or self.manifest.get("windows", "head_tail")
        self.folder = None
        if ("alpha", 1) not in self.groups:
            raise ModelFileError(f"{self.manifest.get('name', 'ensemble')}: has no 1D alpha networks")
        self.lengths = np.array(sorted(self.groups[("alpha", 1)]))
        for (task, dim), of in self.groups.items():
            if not all(of.values()):
                raise ModelFileError(f"{self.describe()}: some lengths of the {dim}D {task} networks have no members")
            if sorted(of) != self.lengths.tolist():
                raise ModelFileError(
                    f"{self.describe()}: the {dim}D {task} networks' lengths {sorted(of)} differ from "
                    f"1D alpha's {self.lengths.tolist()}"
                )

    @classmethod
    def load(cls, path, backend="onnx", device="cpu", threads=1, batch_values=None, median=None) -> "Ensemble":
        """The ensemble of a folder (or its manifest.json): exactly the members the manifest names,
        each checked against its checksum, run in ONNX Runtime (`onnx`, over `threads` worker
        processes of one thread each, workers.py) or PyTorch (`torch`, its threads set by the caller),
        at most `batch_values` numbers a pass (default: the configuration's). In
        PyTorch, `median` reads distribution members out otherwise than their manifest says (heads.MEDIANS);
        an ONNX file holds its readout."""
        if median is not None and backend == "onnx":
            raise ModelFileError("an ONNX member's readout is in its file: choose another median with backend='torch'")
        manifest, folder = read_manifest(path)
        batch_values = batch_values or default("batch_values")
        key = "onnx" if backend == "onnx" else "file"
        groups = {}
        for entry in manifest["members"]:
            file = folder / entry[key]
            if not file.is_file():
                raise ModelFileError(f"{file}: named by {folder / MANIFEST} but missing")
            if sha256(file) != entry[f"{key}_sha256" if key == "onnx" else "sha256"]:
                raise ModelFileError(
                    f"{file}: checksum differs from {folder / MANIFEST}; the file was changed "
                    "after the ensemble was made (rebuild it with the command in the manifest)"
                )
            if backend == "onnx":
                member = OnnxMember(file, batch_values)
            else:
                member = TorchMember.load(file, entry, device, batch_values, median)
            groups.setdefault((entry["task"], entry["dim"]), {}).setdefault(entry["length"], {})[entry["fold"]] = member
        for (task, dim), of in groups.items():
            if len({tuple(sorted(by_fold)) for by_fold in of.values()}) > 1:
                raise ModelFileError(
                    f"{folder / MANIFEST}: the {dim}D {task} networks have different folds at different lengths; "
                    "every trajectory must be averaged over the same members"
                )
        by_fold_order = {key: {L: [f[k] for k in sorted(f)] for L, f in of.items()} for key, of in groups.items()}
        ensemble = cls(by_fold_order, manifest, workers=threads if backend == "onnx" else 1)
        ensemble.folder = folder  # where its population network lies, if it has one (population_net.py)
        return ensemble

    @property
    def min_length(self) -> int:
        return int(self.lengths[0])

    def describe(self) -> str:
        folds = sorted({e["fold"] for e in self.manifest.get("members", [])})
        return (
            f"{self.manifest.get('name', 'ensemble')}: lengths {', '.join(map(str, self.lengths))}; "
            f"folds {', '.join(map(str, folds))}"
        )

    def has(self, task: str) -> bool:
        return any(t == task for t, _ in self.groups)

    def subset(self, folds=None, lengths=None, windows=None) -> "Ensemble":
        """The same ensemble with only the members of these fold positions (0: each group's first fold)
        and trained lengths, or read with another windows rule (WINDOWS). A group left without members
        (a task or dimension with fewer folds) is left out."""
        groups = {
            key: {L: [m for k, m in enumerate(ms) if folds is None or k in folds] for L, ms in of.items()}
            for key, of in self.groups.items()
        }
        if lengths is not None:
            groups = {key: {L: ms for L, ms in of.items() if L in lengths} for key, of in groups.items()}
        kept = {key: of for key, of in groups.items() if of and all(of.values())}
        if ("alpha", 1) not in kept:
            raise ModelFileError(f"{self.describe()}: no 1D alpha networks of folds {folds} and lengths {lengths}")
        return Ensemble(kept, self.manifest, windows or self.rule, self.workers.n)

    # the scikit-learn-shaped face
    def predict(self, trajectories: list[np.ndarray], scale=None) -> np.ndarray:
        """alpha of each trajectory [dim, T]: the members' mean, scaled (the manifest's scale unless
        given) and clipped."""
        return finish(self.raw_alpha(trajectories)["alpha"], self._scale(scale), self._clip())

    def predict_interval(self, trajectories: list[np.ndarray], level: float) -> tuple[np.ndarray, np.ndarray]:
        est = self.estimate(trajectories, level=level, classify=False)
        return est["low"], est["high"]

    def predict_proba(self, trajectories: list[np.ndarray]) -> np.ndarray:
        """Probabilities [n, 5] of the diffusion models (tasks.MODELS) for each trajectory [dim, T]:
        the softmax of its mean log-probabilities divided by the calibrated temperature of its dimension."""
        answer = self.answer(trajectories, "diffusion_model")
        return np.stack([answer[f"p_{m}"] for m in MODELS], axis=1)

    def estimate(self, trajectories: list[np.ndarray], scale=None, level=None, where=str, classify=True) -> dict:
        """What is reported for each trajectory [dim, T]: alpha (scaled, clipped), std (the spread of
        the members after scaling) and, at level P, the calibrated interval (low, high); unless not
        `classify`, the columns of every other task the ensemble has (the diffusion model's: the most
        probable model and each model's probability). `where(i)` names trajectory i in errors."""
        scale, clip = self._scale(scale), self._clip()
        table = self.manifest.get("intervals")
        if level is not None and table is None:
            raise ModelFileError(f"{self.describe()}: has no interval table; intervals cannot be given")
        cut = {}  # the windows of each group of trajectories, cut once for every task
        others = [t for t in TASKS if t != "alpha" and self.has(t)] if classify else []
        raw = self.raw_alpha(trajectories, where, cut, others)
        alpha, std = finish(raw["alpha"], scale, clip), raw["spread"] * scale
        low = high = None
        if level is not None:
            from andiflow.intervals import interval

            if scale != self._scale(None):
                warnings.warn(
                    f"the intervals of {self.manifest.get('name', 'this ensemble')} were calibrated at its scale "
                    f"{self._scale(None)}; at scale {scale} they no longer hold their level {level}",
                    stacklevel=2,
                )
            dims, lengths = [len(t) for t in trajectories], [t.shape[1] for t in trajectories]
            low, high = interval(table, alpha, dims, lengths, std, level, clip)
        result = dict(alpha=alpha, std=std, low=low, high=high)
        for task in others:
            result.update(self.answer(trajectories, task, cut))
        return result

    def answer(self, trajectories: list[np.ndarray], task: str, cut=None) -> dict:
        """A task's columns for each trajectory [dim, T] (alpha's are `estimate`'s)."""
        combined = self.combined(trajectories, task, cut)
        return TASKS[task].answer(combined, [len(t) for t in trajectories], self.manifest)

    # what calibration reads
    def raw_alpha(self, trajectories: list[np.ndarray], where=str, cut=None, also=()) -> dict:
        """{alpha: the members' mean, before scale and clip; spread: their standard deviation} of each
        trajectory [dim, T]; a trajectory shorter than the shortest trained length is refused, named
        by `where(i)`. `cut` (outputs) keeps the windows, and the outputs of the tasks `also` run
        beside alpha's, for those tasks."""
        for i, t in enumerate(trajectories):
            if t.shape[1] < self.min_length:
                raise InputFileError(
                    f"{where(i)}: trajectory of length {t.shape[1]} is shorter than the shortest "
                    f"trained length ({self.min_length})"
                )
        cut = {} if cut is None else cut
        self.outputs(trajectories, [TASKS["alpha"], *(TASKS[t] for t in also)], cut)
        return self.combined(trajectories, "alpha", cut)

    def mean_log_probabilities(self, trajectories: list[np.ndarray]) -> np.ndarray:
        """[n, 5]: the mean member log-probability of each diffusion model over the windows and folds of
        each trajectory [dim, T]."""
        return self.combined(trajectories, "diffusion_model")["mean_log_p"]

    def combined(self, trajectories: list[np.ndarray], task: str, cut=None) -> dict:
        """What the task's members say of each trajectory [dim, T], from all their outputs."""
        cut = {} if cut is None else cut
        values, owner = self.outputs(trajectories, [TASKS[task]], cut)[task]
        return TASKS[task].combine(values, owner, len(trajectories))

    def outputs(self, trajectories: list[np.ndarray], tasks: list, cut: dict) -> dict:
        """task name -> every output of the task's members (window x fold, and axis where read axis by
        axis) for each trajectory [dim, T], and the index of its trajectory: each trained length's
        windows go through its networks in batches, never one at a time, every task's in one run of
        the workers. `cut` holds the windows of each group of series once cut, and each task's
        outputs once run, for the next that reads them."""
        todo = [task for task in tasks if ("outputs", task.name) not in cut]
        calls, owners, of_task = [], [], []
        for task in todo:
            for group, windows, trajectory_of in self._reads(trajectories, task, cut):
                for (Tn, _), (series, x) in windows.items():
                    for k in range(len(self.groups[group][Tn])):
                        calls.append((group, Tn, k, x))
                        owners.append(trajectory_of[series])
                        of_task.append(task.name)
        values = self.workers.run(calls)
        for task in todo:
            mine = [i for i, name in enumerate(of_task) if name == task.name]
            cut["outputs", task.name] = (
                np.concatenate([values[i] for i in mine]).astype(np.float64),
                np.concatenate([owners[i] for i in mine]),
            )
        return {task.name: cut["outputs", task.name] for task in tasks}

    def _reads(self, trajectories: list[np.ndarray], task, cut: dict) -> list[tuple]:
        """What the task's networks read: (group, its windows, the trajectory of each series)."""
        if not self.has(task.name):
            raise ModelFileError(f"{self.describe()}: has no networks of the {task.name} task")
        dims = np.array([len(t) for t in trajectories])
        reads, by_axis = [], np.zeros(len(dims), bool)
        for d in sorted(set(dims.tolist())):
            index = np.flatnonzero(dims == d)
            if (task.name, d) not in self.groups or (task.by_axis and d == 1):
                if not (task.by_axis and (task.name, 1) in self.groups):
                    raise ModelFileError(f"{self.describe()}: has no {task.name} networks of {d}D trajectories")
                by_axis[index] = True
                continue
            series = [trajectories[i][0] if d == 1 else trajectories[i] for i in index]
            key = ("axes" if d == 1 else "all", tuple(index))  # a 1D trajectory's one axis is all its axes
            reads.append(((task.name, d), self._cut(cut, key, series), index))
        index = np.flatnonzero(by_axis)
        if len(index):  # HNU's rule: every axis read by the 1D networks
            axes = [axis for i in index for axis in trajectories[i]]
            reads.append(((task.name, 1), self._cut(cut, ("axes", tuple(index)), axes), np.repeat(index, dims[index])))
        return reads

    def _cut(self, cut: dict, key: tuple, series: list[np.ndarray]) -> dict:
        if key not in cut:
            cut[key] = self.windows(series)
        return cut[key]

    def windows(self, series: list[np.ndarray]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The windows of each series (one axis [T], or all axes [d, T]), grouped by the trained length
        whose networks read them: (Tn, T') -> (index of the series of each window, windows [m, T'] or
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

    def _clip(self):
        if "clip" not in self.manifest:
            raise ModelFileError(f"{self.describe()}: its manifest names no clip")
        return self.manifest["clip"]

    def _scale(self, scale):
        scale = self.manifest.get("scale") if scale is None else scale
        if scale is None:
            raise ModelFileError(f"{self.describe()}: has no calibrated scale; give one (--scale)")
        return scale


def finish(raw: np.ndarray, scale: float, clip) -> np.ndarray:
    """HNU's last step: multiply by the calibrated scale, clip to the alpha range."""
    return np.clip(raw * scale, clip[0], clip[1])
