"""What prediction gives, in one place: the table of one row per particle (or task1 line) and the files
it is written to. Its columns are the particle's, then each task's (tasks/: alpha's estimate, spread and
interval; the diffusion model's most probable model and probabilities), then the note."""

import re
import sys
from pathlib import Path

import pandas as pd

from andiflow import andi_io
from andiflow.atomic import atomic_path
from andiflow.errors import InputFileError
from andiflow.tasks import TASKS
from andiflow.tracks import short_first

# the names Ensemble.estimate gives alpha's columns
ESTIMATE = {"alpha": "alpha", "std": "alpha_std", "low": "alpha_low", "high": "alpha_high"}


def columns(tasks) -> list[str]:
    """The table's columns for the tasks an ensemble answers."""
    return ["particle", "dim", "n_points", *(c for task in tasks for c in TASKS[task].columns), "note"]


def unpredictable(tracks, min_length: int, warn, source, strict=False) -> dict:
    """particle -> why it gets no answer (a problem of its own, or fewer points than the shortest
    trained length), each said through `warn`; with `strict`, the first is an error naming it. Frames
    bridged and notes are said too."""
    problems = {
        pid: short_first(tracks.problems.get(pid), t.shape[1], min_length)
        for pid, t in zip(tracks.particles, tracks.trajectories)
    }
    problems = {pid: problem for pid, problem in problems.items() if problem}
    if strict and problems:
        pid = next(p for p in tracks.particles if p in problems)
        raise InputFileError(f"{source}: particle {pid!r}: {problems[pid]} (without --strict it is skipped)")
    if tracks.gaps:
        missing = _ids(list(tracks.gaps))
        warn(f"{source}: frames missing within particles {missing} (their notes say what was done)")
    by_reason = {}
    for pid in tracks.particles:
        if pid in problems:
            by_reason.setdefault(re.sub(r" \([^()]*\)$", "", problems[pid]), []).append(pid)  # without its place
    for reason, pids in by_reason.items():
        warn(f"{source}: skipped {len(pids)} of {len(tracks.particles)} particles ({reason}): {_ids(pids)}")
    noted = [pid for pid in tracks.particles if tracks.notes.get(pid) and pid not in problems]
    if noted:  # e.g. a task1 line still on one axis, read as one dimension less: said, not only in a table
        note = f"{noted[0]}: {tracks.notes[noted[0]]}"
        warn(f"{source}: {len(noted)} particles predicted as their note says ({note}): {_ids(noted)}")
    return problems


def table(tracks, problems: dict, estimate: dict, tasks) -> pd.DataFrame:
    """One row per particle: the estimate (Ensemble.estimate of the particles without a problem, in
    order) where it has one; empty values and the reason in `note` where it has none."""
    kept = [i for i, pid in enumerate(tracks.particles) if pid not in problems]
    answered = {ESTIMATE.get(name, name): values for name, values in estimate.items() if values is not None}
    rows = []
    for i, (pid, t) in enumerate(zip(tracks.particles, tracks.trajectories)):
        note = f"skipped: {problems[pid]}" if pid in problems else tracks.notes.get(pid, "")
        rows.append(
            dict(particle=pid, dim=tracks.dims[i] if tracks.dims else t.shape[0], n_points=t.shape[1], note=note)
        )
    for position, i in enumerate(kept):
        rows[i].update({name: values[position] for name, values in answered.items()})
    return pd.DataFrame(rows, columns=columns(tasks))


def write_table(path, result: pd.DataFrame, float_format="%.4f") -> None:
    """One row per particle (or segment), as CSV; to standard output when path is None."""
    if path is None:
        return result.to_csv(sys.stdout, index=False, float_format=float_format)
    with atomic_path(path) as tmp:
        result.to_csv(tmp, index=False, float_format=float_format)


def write_lines(path, lines: list[str]) -> None:
    """Lines of text, whole or not at all; to standard output when path is None."""
    text = "".join(line + "\n" for line in lines)
    if path is None:
        sys.stdout.write(text)
        return
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def write_challenge(path, result: pd.DataFrame, task: str, with_std=False, interval=False) -> None:
    """A task's lines of the AnDi challenge, one per task1 line (empty fields where it has no answer):
    Task 1 `dim;alpha[;alpha_std][;low;high]`, Task 2 `dim;p_attm;...;p_sbm`."""
    if task == "alpha":
        names = ["alpha", *(["alpha_std"] if with_std else []), *(["alpha_low", "alpha_high"] if interval else [])]
    else:
        names = [c for c in TASKS[task].columns if c.startswith("p_")]
    andi_io.write_predictions(path, result["dim"].astype(float), *(result[c].astype(float) for c in names))


def _ids(ids, shown=20) -> str:
    text = ", ".join(map(str, ids[:shown]))
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
