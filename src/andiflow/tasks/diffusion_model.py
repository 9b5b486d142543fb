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

    def answer(self, combined: dict, dims: list, manifest: dict) -> dict:
        """The most probable model and each model's probability: the softmax of the mean log-probability
        divided by the temperature calibrated for the trajectory's dimension (1 where none is)."""
        temperature = manifest.get("temperature") or {}
        p = softmax(combined["mean_log_p"], [temperature.get(str(d), 1.0) for d in dims])
        return {"model": np.array(MODELS)[p.argmax(axis=1)], **{f"p_{m}": p[:, k] for k, m in enumerate(MODELS)}}


def softmax(logits: np.ndarray, temperature) -> np.ndarray:
    """Rows of softmax(logits / temperature), temperature a number or one per row."""
    z = logits / np.reshape(np.asarray(temperature, dtype=float), (-1, 1))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


DIFFUSION_MODEL = DiffusionModel(
    name="diffusion_model",
    target="model",
    metric="valid_error",
    dtype=np.int64,
    columns=("model", *(f"p_{name}" for name in MODELS)),
    by_axis=False,
)
