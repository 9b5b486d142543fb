"""The HDF5 schema of training data, of two kinds; nothing else in andiflow touches h5py.

A shard holds n trajectories of one length L and dimension d, and attributes saying how it was made
(kind, length, dim, seed, shard, generator version, recipe):
- "trajectories" (the 2020 recipe, simulate.py): `positions` float32 [n, L] in 1D (HNU's data) or
  [n, d, L] in 2D and 3D, z-scored per trajectory and axis (normalize.zscore) as training reads them;
  one label per trajectory: `alpha` float32 [n], `model` int8 [n] (index into tasks.MODELS), `sigma`
  float32 [n] (localisation noise). Shards written before kinds existed are of this kind.
- "segments" (the 2024 challenge's models, phenom.py): `positions` float32 [n, 2, L] in px as
  simulated, and labels per frame: `alpha`, `K` float32 [n, L], `state` int8 [n, L], `changepoint`
  bool [n, L]; and each track's model int8 [n] (index into phenom.MODELS).
"""

from pathlib import Path

import h5py
import numpy as np

from andiflow.atomic import atomic_path
from andiflow.errors import ShardError
from andiflow.seeds import derive_seed

KINDS = {
    "trajectories": ("positions", "alpha", "model", "sigma"),
    "segments": ("positions", "alpha", "K", "state", "changepoint", "model"),
}
RECIPE_ATTRS = {
    "trajectories": ("alphas", "noise_sigmas"),
    "segments": ("recipe", "tracks_per_experiment", "particles"),
}
PER_FRAME = {"trajectories": (), "segments": ("alpha", "K", "state", "changepoint")}  # labels [n, L]


def plan(n: int, size: int) -> list[int]:
    """Rows of each shard of a length with n trajectories, shards of `size` (the last may be smaller)."""
    return [min(size, n - start) for start in range(0, n, size)]


def segments_seed(base: int, recipe: str, length: int, shard: int) -> int:
    """The seed of one shard of the segments task's data (phenom.py)."""
    return derive_seed(base, f"segments-{recipe}", length, shard)


def shard_seed(base: int, length: int, shard: int, dim: int) -> int:
    """The seed of one shard; 1D shards keep the seeds they had before 2D and 3D shards existed, so
    that the committed networks' data can be made again bit for bit."""
    return derive_seed(base, "generate", length, shard, *([dim] if dim > 1 else []))


def recipe_of(path) -> dict:
    """What made a shard's trajectories (the recipe and the generator's version), from its attributes."""
    try:
        with h5py.File(path, "r") as f:
            kind = str(f.attrs.get("kind", "trajectories"))
            return {k: np.asarray(f.attrs[k]).tolist() for k in (*RECIPE_ATTRS[kind], "generator_version")}
    except (OSError, KeyError) as err:
        raise ShardError(f"{path}: not a readable shard ({err}). {_rebuild_hint(path)}") from None


def write_shard(path, arrays: dict, attrs: dict, kind: str = "trajectories") -> None:
    positions = arrays["positions"]
    n, length, dim = len(positions), positions.shape[-1], 1 if positions.ndim == 2 else positions.shape[1]
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for name in KINDS[kind]:
            f.create_dataset(name, data=arrays[name])
        f.attrs.update({**attrs, "kind": kind, "n": n, "length": length, "dim": dim})


def read_shard(path) -> tuple[dict, dict]:
    """(arrays, attrs) of one shard; a missing, truncated or malformed file raises ShardError."""
    try:
        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            kind = str(attrs.get("kind", "trajectories"))
            arrays = {name: f[name][()] for name in KINDS[kind]}
    except (OSError, KeyError) as err:
        raise ShardError(f"{path}: not a readable shard ({err}). {_rebuild_hint(path)}") from None
    n, length, dim = (int(attrs.get(k, default)) for k, default in (("n", -1), ("length", -1), ("dim", 1)))
    shapes = {c: (n, length) if c in PER_FRAME[kind] else (n,) for c in KINDS[kind]}
    shapes["positions"] = (n, length) if dim == 1 else (n, dim, length)
    if any(arrays[c].shape != shape for c, shape in shapes.items()):
        raise ShardError(
            f"{path}: shapes do not match its attributes (n={n}, dim={dim}, length={length}). {_rebuild_hint(path)}"
        )
    return arrays, attrs


def open_length(paths) -> dict:
    """All shards of one kind, length and dimension, concatenated in the order given."""
    parts, kinds = [], set()
    for path in paths:
        arrays, attrs = read_shard(path)
        kinds.add((str(attrs.get("kind", "trajectories")), int(attrs["length"]), int(attrs.get("dim", 1))))
        if len(kinds) > 1:
            raise ShardError(
                f"{path}: holds {attrs.get('kind', 'trajectories')} of length {attrs['length']} in "
                f"{attrs.get('dim', 1)}D, unlike the shards before it"
            )
        parts.append(arrays)
    return {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}


def _rebuild_hint(path) -> str:
    return (
        f"Delete it and rerun the workflow (`rm {Path(path)}` then `snakemake ... --rerun-incomplete`) "
        "to rebuild it bit for bit from its seed."
    )
