"""alpha (Task 1, HNU's method): the anomalous exponent, from the shards' `alpha` column. The head is
`model.output` (regression: HNU's; distribution: a probability over the alpha grid, beyond HNU);
epochs are compared by validation MAE. A trajectory's alpha is the mean of its members' outputs over
windows, folds and (read axis by axis) axes; the spread is their standard deviation."""

from dataclasses import dataclass

import numpy as np

from andiflow.tasks.base import Task, mean_by


def alpha_grid(alphas: dict) -> np.ndarray:
    """The alpha grid `{start, stop, step}` (inclusive), rounded to 2 decimals as the labels are."""
    return np.round(np.arange(alphas["start"], alphas["stop"] + alphas["step"] / 2, alphas["step"]), 2)


@dataclass(frozen=True)
class Alpha(Task):
    def head(self, model_section) -> str:
        return model_section["output"]

    def head_settings(self, config) -> dict:
        if config["model"]["output"] != "distribution":
            return {}
        return {"grid": alpha_grid(config["data"]["alphas"]).tolist()}

    def combine(self, values: np.ndarray, owner: np.ndarray, n: int) -> dict:
        mean = mean_by(values, owner, n)
        return {"alpha": mean, "spread": np.sqrt(mean_by((values - mean[owner]) ** 2, owner, n))}


ALPHA = Alpha(
    name="alpha",
    target="alpha",
    metric="valid_mae",
    dtype=np.float32,
    columns=("alpha", "alpha_std", "alpha_low", "alpha_high"),
    by_axis=True,
)
