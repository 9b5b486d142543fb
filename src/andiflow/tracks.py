"""Tables of localisations as trackers write them (trackpy and most others: one row per particle and
frame, columns particle, frame, x, y[, z]), in and out."""

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from andiflow.andi_io import InputFileError
from andiflow.atomic import atomic_path

OUTPUT_COLUMNS = ["particle", "dim", "n_points", "alpha", "alpha_std", "note"]


@dataclass
class Tracks:
    particles: list  # particle ids, sorted
    trajectories: list[np.ndarray]  # [dim, T] each, sorted by frame
    gaps: list = field(default_factory=list)  # particle ids with missing frames


def read_tracks(path, particle="particle", frame="frame", positions=("x", "y", "z")) -> Tracks:
    """Trajectories of a CSV table. Position columns absent from the file are dropped from the end of
    `positions` (x, y -> 2D); particles come sorted by id, their rows sorted by frame."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    try:
        table = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: not a readable CSV table ({err})") from None
    present = [c for c in positions if c in table.columns]
    needed = [particle, frame, *positions[: max(1, len(present))]]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputFileError(f"{path}: no column {missing[0]!r} (columns: {', '.join(map(str, table.columns))}); "
                             "name yours with --particle-column, --frame-column, --position-columns")
    if table.empty:
        raise InputFileError(f"{path}: the table has no rows")
    for column in needed[1:]:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputFileError(f"{path}:{row + 2}: column {column!r} is {table[column].iloc[row]!r}, "
                                 "not a finite number")
        table[column] = values
    duplicated = table.duplicated([particle, frame])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise InputFileError(f"{path}:{row + 2}: particle {table[particle].iloc[row]!r} has frame "
                             f"{table[frame].iloc[row]:g} twice")
    tracks = Tracks([], [])
    for pid, group in table.sort_values([particle, frame], kind="stable").groupby(particle, sort=True):
        frames = group[frame].to_numpy()
        if np.any(np.diff(frames) != 1):
            tracks.gaps.append(pid)
        tracks.particles.append(pid)
        tracks.trajectories.append(group[present].to_numpy(dtype=np.float64).T)
    return tracks


def write_alphas(path, rows: list[dict]) -> None:
    """One row per particle; to standard output when path is None."""
    table = pd.DataFrame(rows, columns=OUTPUT_COLUMNS)
    if path is None:
        return table.to_csv(sys.stdout, index=False, float_format="%.4f")
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4f")
