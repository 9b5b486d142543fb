"""The one HDF5 schema of training data; nothing else in andiflow touches h5py.

A shard holds n trajectories of one length L: `positions` float32 [n, L], `alpha` float32 [n],
`model` int8 [n] (index into tasks.MODELS), `sigma` float32 [n] (localisation noise), and
attributes saying how it was made (length, seed, shard, generator version, recipe). Positions are
z-scored per trajectory (normalize.zscore), as training reads them.
"""

from pathlib import Path

import h5py
import numpy as np

from andiflow.atomic import atomic_path
from andiflow.errors import ShardError

COLUMNS = ("positions", "alpha", "model", "sigma")


def plan(n: int, size: int) -> list[int]:
    """Rows of each shard of a length with n trajectories, shards of `size` (the last may be smaller)."""
    return [min(size, n - start) for start in range(0, n, size)]


def write_shard(path, arrays: dict, attrs: dict) -> None:
    n, length = arrays["positions"].shape
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for name in COLUMNS:
            f.create_dataset(name, data=arrays[name])
        f.attrs.update({**attrs, "n": n, "length": length})


def read_shard(path) -> tuple[dict, dict]:
    """(arrays, attrs) of one shard; a missing, truncated or malformed file raises ShardError."""
    try:
        with h5py.File(path, "r") as f:
            arrays = {name: f[name][()] for name in COLUMNS}
            attrs = dict(f.attrs)
    except (OSError, KeyError) as err:
        raise ShardError(f"{path}: not a readable shard ({err}). {_rebuild_hint(path)}") from None
    n, length = int(attrs.get("n", -1)), int(attrs.get("length", -1))
    if arrays["positions"].shape != (n, length) or any(len(arrays[c]) != n for c in COLUMNS):
        raise ShardError(f"{path}: shapes do not match its attributes (n={n}, length={length}). {_rebuild_hint(path)}")
    return arrays, attrs


def open_length(paths) -> dict:
    """All shards of one length, concatenated in the order given."""
    parts, lengths = [], set()
    for path in paths:
        arrays, attrs = read_shard(path)
        lengths.add(int(attrs["length"]))
        if len(lengths) > 1:
            raise ShardError(f"{path}: holds length {attrs['length']}, unlike the shards before it")
        parts.append(arrays)
    return {c: np.concatenate([p[c] for p in parts]) for c in COLUMNS}


def _rebuild_hint(path) -> str:
    return (
        f"Delete it and rerun the workflow (`rm {Path(path)}` then `snakemake ... --rerun-incomplete`) "
        "to rebuild it bit for bit from its seed."
    )
