"""diffusion_model (Task 2 of the 2020 AnDi challenge, beyond HNU): which of the five diffusion models
(base.MODELS) moved the particle, from the shards' `model` column. The head gives a log-probability
per model (cross-entropy); epochs are compared by validation error rate (1 - micro-F1: one label per
trajectory). Classifiers of each dimension read all axes of a trajectory at once; a trajectory's
probabilities are the softmax of its members' mean log-probability, over windows and folds, divided
by the temperature calibrated for its dimension."""

from dataclasses import dataclass

import numpy as np

from andiflow.tasks.base import MODELS, Task, mean_by


@dataclass(frozen=True)
class DiffusionModel(Task):
    def head(self, model_section) -> str:
        return "classes"

    def head_settings(self, config) -> dict:
        return {"classes": list(MODELS)}

    def combine(self, values: np.ndarray, owner: np.ndarray, n: int) -> dict:
        return {"mean_log_p": mean_by(values, owner, n)}


DIFFUSION_MODEL = DiffusionModel(
    name="diffusion_model",
    target="model",
    metric="valid_error",
    dtype=np.int64,
    columns=("model", *(f"p_{name}" for name in MODELS)),
    by_axis=False,
)
