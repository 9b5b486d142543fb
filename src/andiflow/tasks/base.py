"""The task protocol (see the package's docstring)."""

from dataclasses import dataclass

import numpy as np

MODELS = ("attm", "ctrw", "fbm", "lw", "sbm")  # andi-datasets' model codes 0..4, the shards' `model`


@dataclass(frozen=True)
class Task:
    name: str  # in the configuration's `tasks`, the models' folder, --task
    target: str  # the shard column it learns
    metric: str  # the validation column the best epoch is chosen by (lower is better)
    dtype: type  # of the training target
    columns: tuple  # what it adds to a result table, one row per trajectory
    by_axis: bool  # whether its 1D networks may read a 2D/3D trajectory axis by axis (HNU's rule for alpha)
    per_frame: bool = False  # answers at every frame (segments), not once per trajectory

    def targets(self, arrays: dict) -> np.ndarray:
        """The training targets from a length's shards (shards.open_length), as target_values gives them."""
        return self.target_values(arrays[self.target])

    def target_values(self, column: np.ndarray) -> np.ndarray:
        """The training target from its shard column."""
        return column.astype(self.dtype)

    def head(self, model_section) -> str:
        """The head its networks end in (heads.HEADS), given the configuration's `model` section."""
        raise NotImplementedError

    def model_section(self, config) -> dict:
        """The configuration's section its networks are built from."""
        return config["model"]

    def head_settings(self, config) -> dict:
        """What the head is built over, saved with the network (e.g. the alpha grid, the classes)."""
        return {}

    def combine(self, values: np.ndarray, owner: np.ndarray, n: int) -> dict:
        """What the members say of each of n trajectories, from their outputs (`owner`: the trajectory
        of each output row; every member and window of a trajectory is one row)."""
        raise NotImplementedError

    def answer(self, combined: dict, dims: list, manifest: dict) -> dict:
        """The task's columns (`columns`) for each trajectory, from `combine`'s result, the dimension of
        each trajectory and what the ensemble's manifest calibrated. Alpha's, which the scale, the clip
        and the intervals finish, are Ensemble.estimate's own."""
        raise NotImplementedError


def mean_by(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """The mean of the rows of `values` ([m] or [m, k]) of each owner 0..n-1."""
    count = np.bincount(owner, minlength=n)
    if values.ndim == 1:
        return np.bincount(owner, values, n) / count
    return np.stack([np.bincount(owner, values[:, k], n) for k in range(values.shape[1])], axis=1) / count[:, None]
