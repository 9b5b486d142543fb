"""The AnDi challenge's text files.

task1.txt: one trajectory a line, `;`-separated: the dimension (`1` or `1.0`), then all x, then all y
(2D), then all z (3D); a trajectory whose positions never move on an axis has no alpha and is an error.
ref1.txt: `dim;alpha`, optionally `;model` (a name of tasks.MODELS, written by andiflow's own test
sets). A prediction file: `dim;alpha`, same order as the trajectories, optionally with `;alpha_std`
(the ensemble's spread) and `;low;high` (a calibrated interval); a trajectory `andiflow predict` skipped
has empty fields.

Every file is text: UTF-8 with or without a byte-order mark, UTF-16 with one, or else cp1252 (said with
a warning); a missing or binary file is one InputFileError naming it.
"""

import codecs
import functools
import io
import sys
import warnings
from pathlib import Path

import numpy as np

from andiflow.atomic import atomic_path
from andiflow.errors import InputFileError

SAMPLE_BYTES = 1 << 16  # what text_encoding judges a file by: its beginning, not all of a big table
MIN_PART_BYTES = 1 << 20  # line_ranges' smallest: one process reads a smaller file before workers would start
LINE_SAFE = ("utf-8-sig", "cp1252", "latin-1")  # text_encoding's answers whose byte 0x0A ends a line, alone


def read_trajectories(path) -> list[np.ndarray]:
    """Trajectories of a task1.txt as arrays [dim, T] (float64), in file order; the first line that is
    not a trajectory, or never moves on an axis, is an error naming it (the workflow's own files;
    `andiflow predict` reads with tracks.read_task1, which skips such lines)."""
    return [_moving(path, lineno, task1_line(path, lineno, fields)[1]) for lineno, fields in _rows(path)]


def task1_line(path, lineno, fields) -> tuple[int, np.ndarray]:
    """(dim, trajectory [dim, T]) of one task1.txt line; an InputFileError naming the line if it is not one."""
    if fields == [""] or not "".join(fields).strip():
        raise InputFileError(f"{path}:{lineno}: empty line")
    values = _numbers(path, lineno, fields)
    dim = _dimension(path, lineno, values[0])
    coords = values[1:]
    if len(coords) == 0:
        raise InputFileError(f"{path}:{lineno}: no coordinates after the dimension")
    if len(coords) % dim:
        raise InputFileError(
            f"{path}:{lineno}: {len(coords)} coordinates cannot be split into {dim} dimensions of equal length"
        )
    return dim, coords.reshape(dim, -1)


def read_reference(path) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """(dims, alphas, models or None) of a ref1.txt."""
    dims, alphas, models = [], [], []
    for lineno, fields in _rows(path):
        if len(fields) not in (2, 3):
            raise InputFileError(
                f"{path}:{lineno}: expected `dim;alpha` or `dim;alpha;model`, found {len(fields)} fields"
            )
        values = _numbers(path, lineno, fields[:2])
        dims.append(_dimension(path, lineno, values[0]))
        alphas.append(values[1])
        models.append(fields[2].strip() if len(fields) == 3 else None)
    has_models = all(m is not None for m in models)
    return np.array(dims), np.array(alphas), models if has_models else None


def read_reference_models(path) -> tuple[np.ndarray, list[str]]:
    """(dims, models) of a ref1.txt that names each trajectory's diffusion model (tasks.MODELS)."""
    from andiflow.tasks import MODELS

    dims, _, models = read_reference(path)
    if models is None:
        raise InputFileError(f"{path}: names no diffusion models (`dim;alpha;model` lines)")
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise InputFileError(f"{path}: unknown diffusion models {unknown} (expected {', '.join(MODELS)})")
    return dims, models


def write_trajectories(path, trajectories: list[np.ndarray]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        for t in trajectories:
            f.write(f"{len(t)}.0;" + ";".join(f"{v:.7g}" for v in t.ravel()) + "\n")


def write_reference(path, dims, alphas, models=None) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        for i, (dim, alpha) in enumerate(zip(dims, alphas)):
            f.write(f"{int(dim)};{alpha:.2f}" + (f";{models[i]}" if models is not None else "") + "\n")


def write_predictions(path, dims, *columns) -> None:
    """`dim;...` lines, one per trajectory, of the columns given (None ones left out): the challenge's
    submission formats, Task 1 `dim;alpha` (with `;alpha_std` and `;low;high` if given) and Task 2
    `dim;p_attm;p_ctrw;p_fbm;p_lw;p_sbm`; a trajectory without an estimate (NaN) has empty fields;
    to standard output when path is None."""
    columns = [dims] + [c for c in columns if c is not None]
    text = "".join(";".join(_field(v, i) for i, v in enumerate(row)) + "\n" for row in zip(*columns))
    if path is None:
        return sys.stdout.write(text)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def read_model_predictions(path, n_models: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(dims, probabilities [n, 5]) of a Task 2 file, `dim;p_attm;p_ctrw;p_fbm;p_lw;p_sbm` lines;
    each line's values are non-negative and are divided by their sum; NaN on a line without a
    prediction (see _prediction)."""
    dims, rows = [], []
    for lineno, fields in _rows(path):
        if len(fields) != 1 + n_models:
            raise InputFileError(
                f"{path}:{lineno}: expected `dim;p_attm;p_ctrw;p_fbm;p_lw;p_sbm`, found {len(fields)} fields"
            )
        dim, p = _prediction(path, lineno, fields)
        if not np.isnan(p).all() and ((p < 0).any() or p.sum() <= 0):
            raise InputFileError(f"{path}:{lineno}: model probabilities must be non-negative and not all zero")
        dims.append(dim)
        rows.append(p / p.sum())
    return np.array(dims), np.array(rows)


def is_model_predictions(path) -> bool:
    """Whether a prediction file is Task 2's (six fields a line) rather than Task 1's."""
    return len(next(_rows(path))[1]) == 6


def _field(value, column: int) -> str:
    if value is None or not np.isfinite(value):
        return ""
    return str(int(value)) if column == 0 else f"{value:.4f}"


def read_predictions(path) -> dict:
    """dims, alpha, std, low, high (None where the file has none) of a prediction file:
    `dim;alpha`, `dim;alpha;alpha_std`, `dim;alpha;low;high` or `dim;alpha;alpha_std;low;high`;
    NaN on a line without a prediction (see _prediction)."""
    rows = []
    for lineno, fields in _rows(path):
        if len(fields) not in (2, 3, 4, 5) or (rows and len(fields) != len(rows[0])):
            raise InputFileError(
                f"{path}:{lineno}: expected `dim;alpha[;alpha_std][;low;high]` on every line, "
                f"found {len(fields)} fields"
            )
        dim, values = _prediction(path, lineno, fields)
        rows.append([dim, *values])
    table = np.array(rows, dtype=float)
    width = table.shape[1]
    names = {2: [], 3: ["std"], 4: ["low", "high"], 5: ["std", "low", "high"]}[width]
    result = dict(dims=table[:, 0].astype(int), alpha=table[:, 1], std=None, low=None, high=None)
    result.update({name: table[:, 2 + i] for i, name in enumerate(names)})
    return result


def _prediction(path, lineno, fields) -> tuple[int, np.ndarray]:
    """(dim, values) of a prediction line. A line without a prediction, as write_predictions writes for a
    trajectory `andiflow predict` skipped, has every value empty (NaN here), and its dim too (0 here)
    when the trajectory's line gave none."""
    if "".join(fields[1:]).strip():
        values = _numbers(path, lineno, fields)
        return _dimension(path, lineno, values[0]), values[1:]
    dim = _dimension(path, lineno, _numbers(path, lineno, fields[:1])[0]) if fields[0].strip() else 0
    return dim, np.full(len(fields) - 1, np.nan)


def _rows(path):
    """(line number, fields) of each line; errors for a missing or empty file, and for blank lines
    within it."""
    for lineno, line in task1_lines(path):
        if not line.strip():
            raise InputFileError(f"{path}:{lineno}: empty line")
        yield lineno, line.split(";")


def task1_lines(path) -> list[tuple[int, str]]:
    """(line number, line) of every line of a task1.txt but the blank ones at its end; an error for a
    missing or empty file."""
    text = read_text(path)
    if not text.strip():
        raise InputFileError(f"{path}: the file is empty")
    lines = text.splitlines()  # LF and CRLF alike
    while lines and not lines[-1].strip():
        lines.pop()
    return list(enumerate(lines, start=1))


def line_ranges(path, count: int, skip_lines=0) -> list[tuple[int, int]]:
    """About `count` byte ranges of whole lines, of at least MIN_PART_BYTES, that cover the file after
    its first skip_lines lines: what workers (or threads) parse, each its own (where the encoding is
    LINE_SAFE)."""
    with open(path, "rb") as f:
        for _ in range(skip_lines):
            f.readline()
        start, end = f.tell(), f.seek(0, io.SEEK_END)
        step = max(MIN_PART_BYTES, -(-(end - start) // count))
        edges = [start]
        for guess in range(start + step, end, step):
            if guess > edges[-1]:
                f.seek(guess)
                f.readline()
                edges.append(min(f.tell(), end))
    edges.append(end)
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def read_text(path, limit=None) -> str:
    """The text of a file, or of its first `limit` bytes, decoded as text_encoding says."""
    encoding = text_encoding(path)
    with open(path, "rb") as f:
        data = f.read() if limit is None else f.read(limit)
    final = limit is None or len(data) < limit
    try:
        return _decoder(encoding).decode(data, final=final)
    except UnicodeDecodeError:  # the file changes encoding after its first SAMPLE_BYTES
        return _decoder(_encoding_of(path, data, final)).decode(data, final=final)


def text_encoding(path) -> str:
    """How a text file is encoded, judged by its first SAMPLE_BYTES: UTF-16 by its byte-order mark;
    UTF-8 with or without one; else, as Excel saves text on Windows, cp1252 (latin-1 for the bytes
    cp1252 lacks), said with a warning. One InputFileError for a missing or binary file (NUL bytes
    outside UTF-16)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    stat = path.stat()
    return _encoding(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _encoding(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
    return _encoding_of(path, head, final=len(head) >= size)


def _encoding_of(path, data: bytes, final: bool) -> str:
    """The encoding of `data`, the whole file or (not `final`) its beginning."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    elif b"\0" in data:
        raise InputFileError(f"{path} is not a text file (it holds NUL bytes); expected text")
    else:
        encoding = next(e for e in ("utf-8-sig", "cp1252", "latin-1") if _decodes(data, e, final))
    if encoding not in ("utf-8-sig", "utf-16"):
        warnings.warn(f"{path}: not UTF-8; read as {encoding} (as Excel saves text on Windows)", stacklevel=3)
    return encoding


def _decodes(data: bytes, encoding: str, final: bool) -> bool:
    try:
        _decoder(encoding).decode(data, final=final)  # not final: a character cut at the end is no error
        return True
    except UnicodeDecodeError:
        return False


def _decoder(encoding: str):
    return codecs.getincrementaldecoder(encoding)()


def _moving(path, lineno, trajectory: np.ndarray) -> np.ndarray:
    still = np.flatnonzero(np.ptp(trajectory, axis=1) == 0)
    if still.size:
        raise InputFileError(f"{path}:{lineno}: positions never move on axis {'xyz'[still[0]]}: alpha is undefined")
    return trajectory


def _numbers(path, lineno, fields) -> np.ndarray:
    try:
        values = np.array(fields, dtype=np.float64)
    except ValueError:
        bad = next(i for i, f in enumerate(fields) if not _is_number(f))
        raise InputFileError(f"{path}:{lineno}: field {bad + 1} is not a number: {fields[bad]!r}") from None
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise InputFileError(f"{path}:{lineno}: field {bad + 1} is {fields[bad].strip()!r}, not a finite number")
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
