"""The AnDi challenge's text files.

task1.txt: one trajectory a line, `;`-separated: the dimension (`1` or `1.0`), then all x, then all y
(2D), then all z (3D). ref1.txt: `dim;alpha`, optionally `;model` (a name of simulate.MODELS, written
by andiflow's own test sets). A prediction file: `dim;alpha`, same order as the trajectories.
"""

from pathlib import Path

import numpy as np

from andiflow.atomic import atomic_path


class InputFileError(ValueError):
    pass


def read_trajectories(path) -> list[np.ndarray]:
    """Trajectories of a task1.txt as arrays [dim, T] (float64), in file order."""
    trajectories = []
    for lineno, fields in _rows(path):
        values = _numbers(path, lineno, fields)
        dim = _dimension(path, lineno, values[0])
        coords = values[1:]
        if len(coords) == 0:
            raise InputFileError(f"{path}:{lineno}: no coordinates after the dimension")
        if len(coords) % dim:
            raise InputFileError(f"{path}:{lineno}: {len(coords)} coordinates cannot be split into "
                                 f"{dim} dimensions of equal length")
        trajectories.append(coords.reshape(dim, -1))
    return trajectories


def read_reference(path) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """(dims, alphas, models or None) of a ref1.txt."""
    dims, alphas, models = [], [], []
    for lineno, fields in _rows(path):
        if len(fields) not in (2, 3):
            raise InputFileError(f"{path}:{lineno}: expected `dim;alpha` or `dim;alpha;model`, "
                                 f"found {len(fields)} fields")
        values = _numbers(path, lineno, fields[:2])
        dims.append(_dimension(path, lineno, values[0]))
        alphas.append(values[1])
        models.append(fields[2].strip() if len(fields) == 3 else None)
    has_models = all(m is not None for m in models)
    return np.array(dims), np.array(alphas), models if has_models else None


def write_trajectories(path, trajectories: list[np.ndarray]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        for t in trajectories:
            f.write(f"{len(t)}.0;" + ";".join(f"{v:.7g}" for v in t.ravel()) + "\n")


def write_reference(path, dims, alphas, models=None) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        for i, (dim, alpha) in enumerate(zip(dims, alphas)):
            f.write(f"{int(dim)};{alpha:.2f}" + (f";{models[i]}" if models is not None else "") + "\n")


def write_predictions(path, dims, alphas, stds=None) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(format_predictions(dims, alphas, stds))


def format_predictions(dims, alphas, stds=None) -> str:
    """`dim;alpha` lines (the challenge's submission format), with `;alpha_std` if stds are given."""
    if stds is None:
        return "".join(f"{int(d)};{a:.4f}\n" for d, a in zip(dims, alphas))
    return "".join(f"{int(d)};{a:.4f};{s:.4f}\n" for d, a, s in zip(dims, alphas, stds))


def read_predictions(path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(dims, alphas, alpha_std or None) of a prediction file."""
    rows = []
    for lineno, fields in _rows(path):
        if len(fields) not in (2, 3):
            raise InputFileError(f"{path}:{lineno}: expected `dim;alpha` or `dim;alpha;alpha_std`, "
                                 f"found {len(fields)} fields")
        values = _numbers(path, lineno, fields)
        rows.append((_dimension(path, lineno, values[0]), *values[1:]))
    has_std = all(len(r) == 3 for r in rows)
    return (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]),
            np.array([r[2] for r in rows]) if has_std else None)


def _rows(path):
    """(line number, fields) of each line; errors for a missing or empty file and blank lines."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    text = path.read_text()
    if not text.strip():
        raise InputFileError(f"{path}: the file is empty")
    lines = text.splitlines()  # LF and CRLF alike
    while lines and not lines[-1].strip():
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            raise InputFileError(f"{path}:{lineno}: empty line")
        yield lineno, line.split(";")


def _numbers(path, lineno, fields) -> np.ndarray:
    try:
        values = np.array(fields, dtype=np.float64)
    except ValueError:
        bad = next(i for i, f in enumerate(fields) if not _is_number(f))
        raise InputFileError(f"{path}:{lineno}: field {bad + 1} is not a number: {fields[bad]!r}") from None
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise InputFileError(f"{path}:{lineno}: field {bad + 1} is {fields[bad].strip()!r}, "
                             "not a finite number")
    return values


def _is_number(field: str) -> bool:
    try:
        float(field)
        return True
    except ValueError:
        return False


def _dimension(path, lineno, value: float) -> int:
    if value not in (1, 2, 3):
        raise InputFileError(f"{path}:{lineno}: dimension must be 1, 2 or 3, found {value:g}")
    return int(value)
