"""Delimited tables as spreadsheets and trackers write them: separated by commas (also `, `),
semicolons, tabs or blanks, or as Excel's `sep=` first line says; decimal commas where the separator is
not a comma and the numbers have them; any encoding andi_io.text_encoding reads. A large file is parsed
by N threads (workers.Workers.map_ranges), each its own byte range of whole lines, into the same table
as one thread reads."""

import functools
import io
import re

import numpy as np
import pandas as pd

from andiflow.andi_io import read_text, text_encoding
from andiflow.errors import InputFileError

HEAD_BYTES = 1 << 16  # what the separator and decimal mark are judged by
MAX_TITLE_LINES = 10


def read_csv(path, workers=None, columns=None, **options) -> pd.DataFrame:
    """The table of a delimited file, its columns' names stripped; its body parsed by `workers` where
    given and the file is large; `options` go to pandas.read_csv. `columns` (a predicate on the names
    as pandas gives them): the columns read where it leaves some out (the file's all in attrs
    "columns"); a row wider than the header is then read by its first fields, as pandas does."""
    lines = read_text(path, HEAD_BYTES).splitlines()
    excel_sep = bool(lines) and lines[0].lower().startswith("sep=")
    skip = 1 if excel_sep else _title_lines(lines)
    header = lines[skip] if len(lines) > skip else ""
    sep = lines[0][4:5] or "," if excel_sep else max(",;\t", key=header.count)
    sep = sep if sep in header else r"\s+"
    body = "\n".join(lines[1 + skip : 50])
    decimal = "," if sep != "," and re.search(r"\d,\d", body) else "."
    encoding = text_encoding(path)
    read = functools.partial(
        pd.read_csv,
        sep=sep,
        encoding=encoding,
        skipinitialspace=True,
        decimal=decimal,
        engine="python" if sep == r"\s+" else "c",
        **options,
    )
    try:
        names = _header(read, path, skip)
        some = columns is not None and not all(map(columns, names))
        if some:
            read = functools.partial(read, usecols=columns)
        in_parts = workers is not None and sep != r"\s+"
        table = _read_in_parts(path, read, names, skip, workers) if in_parts else None
        if table is None:
            table = read(path, skiprows=skip)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as err:
        raise InputFileError(f"{path}: not a readable CSV table ({err})") from None
    table.columns = [str(c).strip() for c in table.columns]
    if some:
        table.attrs["columns"] = [str(c).strip() for c in names]
    if decimal == "," and options.get("dtype") is str:
        table = table.apply(lambda column: column.str.replace(",", ".", regex=False))
    table.attrs["header_line"] = 1 + skip
    return table


def _title_lines(lines: list) -> int:
    """The lines of one word or none above a table's header: a tracker's title (Imaris writes a blank
    line, the statistic's name and a rule of '=' above its header)."""
    words = [len(re.split(r"[,;\s]+", line.strip())) if line.strip() else 0 for line in lines[: MAX_TITLE_LINES + 1]]
    return next((i for i, n in enumerate(words) if n > 1), 0)


def line_of(table: pd.DataFrame):
    """Where row i of a table read by read_csv is: its line number (the header is line 1, or the one
    after Excel's `sep=` line or a title)."""
    return lambda i: f":{table.index[i] + 1 + table.attrs.get('header_line', 1)}"


def _read_in_parts(path, read, names: list, skip: int, workers) -> pd.DataFrame | None:
    """The table parsed by the workers' threads in byte ranges of whole lines (every column `names`,
    the header's, of which `read` may keep some); None where one thread reads it: a file of one range,
    parts that disagree on what a column holds (text in one, numbers in another), or a range that
    cannot be parsed alone (a quoted line break; a bad row, whose line number only the whole file
    gives)."""
    # pandas' C parser releases the GIL: threads parse as fast as processes, and send nothing back
    parts = workers.map_ranges(functools.partial(_rows, read, names), path, skip + 1, threads=True)
    if parts is None:
        return None
    parts = [part for part in parts if len(part)]
    if not parts:
        return None
    kinds = [{part[name].dtype.kind for part in parts} for name in parts[0].columns]
    if any(len(kind) > 1 and kind != {"i", "f"} for kind in kinds):  # integers beside floats: floats, as one read
        return None
    # column by column into a table of unconsolidated columns: pandas' stacking of same-typed columns
    # into one block costs as much as parsing where fresh memory is slow to touch (virtual machines)
    columns = {name: _joined([part[name] for part in parts]) for name in parts[0].columns}
    return pd.DataFrame(columns, copy=False)


def _joined(pieces: list) -> object:
    if len({piece.dtype for piece in pieces}) == 1 and pieces[0].dtype != object:
        return np.concatenate([piece.to_numpy() for piece in pieces])
    return pd.concat(pieces, ignore_index=True)


def _header(read, path, skip: int) -> list:
    """Every column's name, as pandas gives them (a repeat "x.1")."""
    return list(read(path, skiprows=skip, nrows=0).columns)


def _rows(read, names: list, data: bytes) -> pd.DataFrame | None:
    """Lines of the file parsed as rows of columns `names` (None: they cannot be alone)."""
    if data.count(b'"') % 2:
        return None
    try:
        part = read(io.BytesIO(data), header=None, names=names)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError:
        return None
    # rows wider than the header make pandas take their first fields as the index
    return part if isinstance(part.index, pd.RangeIndex) else None
