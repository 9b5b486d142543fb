"""andiflow's Python face: alpha for your tracks, in a notebook or a script.

    import andiflow
    alphas = andiflow.predict(tracks_df)              # trackpy's particle, frame, x, y[, z]
    alphas = andiflow.predict("Tracks.xml")           # any file `andiflow predict` reads
    alphas = andiflow.predict([xy0, xy1], models="hnu-lstm-cpu")   # arrays [T, dim], time first

Prediction needs numpy, pandas and ONNX Runtime only; the command line's `predict` is a thin front
over `predict_file` here.
"""

from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from andiflow import results, tracks
from andiflow.ensemble import Ensemble
from andiflow.errors import InputFileError, ModelFileError, SettingsError
from andiflow.population_net import COLUMNS, PopulationNetwork
from andiflow.population_net import difference as population_difference  # noqa: F401 (andiflow's face)
from andiflow.segmenter import SegmentsEnsemble, is_segments
from andiflow.tasks import TASKS
from andiflow.workers import cores

SHIPPED = files("andiflow") / "ensembles"
DEFAULT = "convlstm-cpu"  # the ensemble used when none is named
SEGMENTS_DEFAULT = "segments-gpu"  # the segments task's, likewise


def shipped_ensembles() -> list[str]:
    """The names of the ensembles shipped in the package."""
    return sorted(p.name for p in SHIPPED.iterdir() if (p / "manifest.json").is_file())


def load_ensemble(name_or_path=None, *, backend="onnx", device="cpu", threads=None, batch_values=None):
    """A shipped ensemble by name (see `shipped_ensembles()`; None: the default), or the ensemble in
    any folder with a manifest.json. Its members run in ONNX Runtime (`backend="onnx"`, no PyTorch
    needed; over `threads` worker processes of one thread each, default the cores this process may
    use) or in PyTorch (`backend="torch"`, e.g. with `device="cuda"`), `batch_values` numbers per
    pass (default: the configuration's default batch_values)."""
    threads = threads or cores()
    name = DEFAULT if name_or_path is None else str(name_or_path)
    folder = SHIPPED / name if name in shipped_ensembles() else Path(name)
    if not (Path(folder) / "manifest.json").is_file() and not Path(folder).is_file():
        raise ModelFileError(
            f"{name}: neither a shipped ensemble ({', '.join(shipped_ensembles())}) nor a folder with manifest.json"
        )
    if is_segments(folder):  # the segments task's (segmenter.py), in ONNX Runtime
        return SegmentsEnsemble.load(folder)
    return Ensemble.load(folder, backend=backend, device=device, threads=threads, batch_values=batch_values)


def predict(
    data,
    models=None,
    interval: float | None = 0.9,
    *,
    particle=None,
    frame=None,
    positions=None,
    time_axis: int = 0,
    scale=None,
    strict=False,
    warn=None,
    classify=True,
    gaps="bridge",
    task=None,
    pixel_size=None,
    frame_interval=None,
    per_frame=False,
    state_mix="training",
) -> pd.DataFrame:
    """alpha for each particle or trajectory, one row each: particle, dim, n_points, alpha, alpha_std,
    alpha_low, alpha_high, note (the columns of `andiflow predict`'s table); from an ensemble with the
    model task (the default's), also model (the most probable diffusion model) and p_attm, p_ctrw,
    p_fbm, p_lw, p_sbm, before note, unless classify=False (alpha alone; the classifiers do not run).

    data: a DataFrame of tracks (one row per particle and frame; its particle, frame and position
    columns as named by `particle`, `frame`, `positions`, or recognised by the names trackers give
    them: trackpy's particle, frame, x, y[, z], TrackMate's TRACK_ID, `track_id`, `x [nm]`, ...), a
    path to any file `andiflow predict` reads (a table of tracks, TrackMate's
    CSV or XML, an AnDi task1.txt: particle = line number), or a sequence of arrays, one per
    trajectory: [T] for 1D, or [T, dim] with time along `time_axis` (0: rows are time points; -1 for
    [dim, T]).
    models: a shipped ensemble's name, a folder, or an Ensemble (load_ensemble); None: the default.
    interval: level of the calibrated central interval (alpha_low, alpha_high); None for none.
    A particle that cannot have an alpha (too few points, never moving, a value that is not a number,
    a frame given twice) gets an empty alpha and the reason in `note`, and the others are predicted;
    with strict=True the first such particle raises an InputFileError naming it. A particle still on
    one axis is predicted from the axes it moves on (said in `note`).
    warn: called with a message for what was skipped or bridged, and for the columns recognised where
    they are not trackpy's names (default: Python's warnings).
    gaps: what is done where frames are missing within a particle: "bridge" (its points used as
    consecutive; the best measured, benchmarks/gaps.py), "interpolate" or "split" (its longest run of
    consecutive frames); its note says which.
    task="segments" (or a segments ensemble as `models`): where each particle's motion changes
    instead, one row per segment: particle, segment, first_frame, last_frame, points, alpha,
    alpha_low, alpha_high, K, K_low, K_high, K_unit, state, note (segmenter.COLUMNS). K is in
    µm²/s^alpha where the positions' unit (µm, nm; or `pixel_size`, µm per unit) and the frame
    interval (the file's, or `frame_interval` in s) are known; else as K_unit says (px²/frame^alpha).
    With per_frame=True, the networks' outputs at every frame instead (segmenter.frame_table).
    Segments' states are read by the training recipe's mix of states (state_mix="training"), or by
    the mix of the tracks given together ("file": a file of one experiment or condition;
    segment.file_mix; benchmarks/segments_priors.py measures both).
    """
    if task == "segments" and models is None:
        models = SEGMENTS_DEFAULT
    ens = models if isinstance(models, (Ensemble, SegmentsEnsemble)) else load_ensemble(models)
    warn = warn or _python_warning
    if interval is not None and ens.manifest.get("intervals") is None:
        interval = None
    columns = dict(particle=particle, frame=frame, positions=positions)
    found, source = _found(data, time_axis, strict, gaps, **columns)
    if isinstance(ens, SegmentsEnsemble):
        if per_frame:
            return ens.frame_table(found)
        return ens.table(found, pixel_size, frame_interval, interval, state_mix)
    if task not in (None, "alpha") and not ens.has(task):
        raise ModelFileError(f"{ens.describe()}: has no networks of the {task} task")
    return _rows(found, ens, scale, interval, warn, source, strict, classify and task != "alpha")


def population(
    data, models=None, *, by=None, network=None, precision=None, warn=None, scale=None, strict=False, **reading
) -> pd.DataFrame:
    """The population the tracks come from, one row per group: group, tracks (those with an alpha),
    alpha_mean with its 90% interval (alpha_mean_low, alpha_mean_high), alpha_sd (the spread of the
    population's alphas) with its own, share_<model> (each diffusion model's share) with its 90%
    interval (share_<model>_low, share_<model>_high), note
    (population.COLUMNS). Each track is read by the ensemble as predict() reads it, and the
    population by the ensemble's population network, from those answers and each track's steps: it
    knows how far to trust each answer, and many short tracks give a sharp mean where each alone cannot.

    data: what predict() accepts (one group: named "all", or the file's path), or a dict of them,
    {group name: data}, e.g. two conditions' files. by: a column of a DataFrame that names each
    particle's group (a cell, a condition). models: an ensemble with a population network (the
    default's has one), or whose network is in the folder `network` (as the workflow writes it, beside
    its ensemble). precision: the localisation precision (sigma per axis), where it is known: a number
    in the positions' unit, or the name of a table's column of each spot's (trackpy's `ep`,
    ThunderSTORM's `uncertainty [nm]`), or a list of one per axis (`["ep_x", "ep_y"]`); each track's is
    the median of its spots'. None: none (a column a tracker wrote it in is named in a warning, not
    read: one in another unit than the positions, which a file does not always say, misleads). It is
    read by a second network (the default's has
    one), whose interval holds the mean more often on one microscope's tracks. warn, scale,
    strict and the other keywords are predict()'s reading ones (particle=, frame=, positions=,
    time_axis=, gaps=)."""
    _check_precision(precision)
    ens = models if isinstance(models, Ensemble) else load_ensemble(models)
    column = precision if precision is None or _names_columns(precision) else False
    warn, rows, networks = warn or _python_warning, {}, {}
    for name, part in _groups(data, by):
        found, source = _found(part, strict=strict, precision=column, **reading)
        read_from = ", ".join(map(repr, found.precision_columns))
        if precision is None and found.precision_columns:
            named = found.precision_columns[0] if len(found.precision_columns) == 1 else found.precision_columns
            warn(
                f"{source}: column {read_from} looks like each spot's localisation precision; not read unless "
                f"named (precision={named!r}, --precision {' '.join(found.precision_columns)})"
            )
        told = _told_precision(found, precision, source)
        net = networks.get(told is not None) or PopulationNetwork.of(ens, network, told is not None)
        networks[net.precision] = net
        table = _rows(found, ens, scale, net.level, warn, source, strict, True)
        rows[name] = net.read(table, found.trajectories, told, read_from)
    return pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS).rename_axis("group").reset_index()


def _names_columns(precision) -> bool:
    """Whether population()'s precision names a column, or one per axis."""
    return isinstance(precision, str) or (
        isinstance(precision, (list, tuple)) and bool(precision) and all(isinstance(c, str) for c in precision)
    )


def _check_precision(precision) -> None:
    if precision is None or _names_columns(precision):
        return
    if isinstance(precision, (bool, list, tuple)) or not (np.isfinite(precision) and precision >= 0):
        raise SettingsError(
            f"localisation precision {precision}: a number of at least 0 (in the positions' unit), a column's name "
            "or a list of them"
        )


def _told_precision(found: tracks.Tracks, precision, source):
    """The precision population() reads: the number given, or each particle's as the named column gives
    it (NaN where it gives none); None where none is given."""
    if precision is None:
        return None
    if not _names_columns(precision):
        return float(precision)
    if not found.precisions:
        raise InputFileError(f"{source}: column {precision!r} holds no localisation precision (a positive number)")
    return np.array([found.precisions.get(pid, np.nan) for pid in found.particles])


def _groups(data, by) -> list:
    """(name, data) of each group population() answers for."""
    if isinstance(data, dict):
        return list(data.items())
    if by is None:
        return [(str(data) if isinstance(data, (str, Path)) else "all", data)]
    if not isinstance(data, pd.DataFrame):
        raise InputFileError(f"by={by!r}: groups by a column need a DataFrame of tracks")
    if by not in data.columns:
        columns = ", ".join(map(str, data.columns))
        raise InputFileError(f"the DataFrame: no column {by!r} to group by (by=); it has {columns}")
    return [(name, part.drop(columns=by)) for name, part in data.groupby(by, sort=False)]


def _found(data, time_axis=0, strict=False, gaps="bridge", **columns) -> tuple[tracks.Tracks, str]:
    """The tracks of what `predict` accepts, and how to name their source."""
    if isinstance(data, pd.DataFrame):
        return tracks.from_table(data, **columns, source="the DataFrame", strict=strict, gaps=gaps), "the DataFrame"
    if isinstance(data, (str, Path)):
        return tracks.read_tracks(data, strict=strict, gaps=gaps, **columns), str(data)
    found = tracks.Tracks([], [])
    for i, array in enumerate(data):
        t = np.asarray(array, dtype=np.float64)
        t = t[:, None] if t.ndim == 1 else t
        if t.ndim != 2:
            raise InputFileError(f"trajectory {i}: an array of shape {t.shape}, expected [T] or [T, dim]")
        t = np.moveaxis(t, time_axis, -1)
        if len(t) > 3:
            raise InputFileError(
                f"trajectory {i}: {len(t)} axes; expected 1 to 3 (time along time_axis={time_axis}: "
                "give time_axis=-1 for arrays [dim, T])"
            )
        problem = None if np.isfinite(t).all() else "holds a value that is not a finite number"
        found.add(i, t, len(t), tracks.AXES[: len(t)], problem)  # raised when strict, as a file's
    return found, "the trajectories"


def predict_file(
    path,
    ens: Ensemble,
    scale=None,
    interval=None,
    warn=None,
    format="auto",
    strict=False,
    classify=True,
    info=None,
    **columns,
) -> pd.DataFrame:
    """predict() of a file: one row per particle (for a task1.txt, per line: particle = line number);
    `info` is told the columns a table was read by."""
    found = tracks.read_tracks(path, format, strict=strict, workers=ens.workers, **columns)
    return _rows(found, ens, scale, interval, warn or _python_warning, path, strict, classify, info)


def predict_into(
    path, output, ens: Ensemble, task=None, format="auto", interval=None, with_std=False, **options
) -> str:
    """`andiflow predict`: predict a file and write the result: a table of tracks gives a CSV of one row
    per particle (with intervals at the ensemble's level unless `interval` names one; the columns of
    every task the ensemble has, of alpha alone with task="alpha"); a task1.txt gives the task's
    challenge lines (None or "alpha", Task 1: dim;alpha[;alpha_std][;low;high]; Task 2:
    dim;p_attm;...;p_sbm), standard output when `output` is None. Returns what was done, in words."""
    fmt = tracks.detect_format(path) if format == "auto" else format
    if fmt != "task1" and interval is None and ens.manifest.get("intervals"):
        interval = ens.manifest["intervals"]["level"]
    if task not in (None, "alpha") and not ens.has(task):
        raise ModelFileError(f"{ens.describe()}: has no networks of the {task} task (--task {task})")
    task = task or ("alpha" if fmt == "task1" else None)
    classify = task != "alpha"  # alpha alone needs no other task's networks
    table = predict_file(path, ens, interval=interval, format=fmt, classify=classify, **options)
    if fmt != "task1":
        results.write_table(output, table)
    else:
        results.write_challenge(output, table, task, with_std, interval is not None)
    rows = "particles" if fmt != "task1" else "trajectories"
    return f"{table['alpha'].notna().sum()} of {len(table)} {rows} of {path} predicted into {output}"


def predict_segments_into(
    path,
    output,
    ens: SegmentsEnsemble,
    format="auto",
    pixel_size=None,
    frame_interval=None,
    info=None,
    per_frame=False,
    state_mix="training",
    **options,
) -> str:
    """`andiflow predict --task segments`: the segments of every track of a file; a .txt output gets the
    2024 challenge's lines (K in the file's units per frame^alpha), any other a CSV of one row per
    segment (predict's columns), or with per_frame one row per frame; states read by the file's mix of
    states or the training one (`state_mix`, predict). Returns what was done, in words."""
    found = tracks.read_tracks(path, format, **options)
    if found.read_as and info:
        info(f"{path}: read {found.read_as}")
    if per_frame:
        table = ens.frame_table(found)
        results.write_table(output, table, float_format="%.6g")
        return f"{table['particle'].nunique()} of {len(found.particles)} particles of {path}: frames into {output}"
    if output is not None and str(output).endswith(".txt"):
        lines, problems = ens.challenge_lines(found, state_mix)
        results.write_lines(output, lines)
        done = len(lines)
    else:
        table = ens.table(found, pixel_size, frame_interval, state_mix=state_mix)
        problems = dict(zip(table["particle"][table["alpha"].isna()], table["note"][table["alpha"].isna()]))
        results.write_table(output, table, float_format="%.6g")
        done = table["particle"][table["alpha"].notna()].nunique()
    for pid, why in list(problems.items())[:5] if info else []:
        info(f"{path}: particle {pid!r}: no segments: {why}")
    return f"{done} of {len(found.particles)} particles of {path} segmented into {output}"


def _rows(
    found: tracks.Tracks, ens: Ensemble, scale, interval, warn, source, strict, classify, info=None
) -> pd.DataFrame:
    tasks = ["alpha", *(t for t in TASKS if t != "alpha" and classify and ens.has(t))]
    if found.read_as and (info or found.recognised):
        (info or warn)(f"{source}: read {found.read_as}")
    problems = results.unpredictable(found, ens.min_length, warn, source, strict)
    kept = [t for pid, t in zip(found.particles, found.trajectories) if pid not in problems]
    estimate = ens.estimate(kept, scale, interval, classify=len(tasks) > 1) if kept else {}
    return results.table(found, problems, estimate, tasks)


def _python_warning(message: str) -> None:
    import warnings

    warnings.warn(message, stacklevel=3)
