"""What a training job learns, and how it is scored: the tasks of the 2020 AnDi challenge.

- `alpha` (Task 1, HNU's method): the anomalous exponent, from the shards' `alpha` column; the head
  is `model.output` (regression or a distribution over the alpha grid); epochs are compared by
  validation MAE.
- `model` (Task 2, beyond HNU): which of the five diffusion models moved the particle, from the
  shards' `model` column; the head gives a probability per model (cross-entropy); epochs are
  compared by validation error rate (1 - micro-F1: one label per trajectory).

Both tasks train the same encoder (`model.kind` and its section) on the same shards; `tasks` in the
configuration says which the workflow trains. No PyTorch here: prediction imports this module.
"""

from dataclasses import dataclass

import numpy as np

MODELS = ("attm", "ctrw", "fbm", "lw", "sbm")  # andi-datasets' model codes 0..4, the shards' `model`


@dataclass(frozen=True)
class Task:
    name: str
    target: str  # the shard column it learns
    metric: str  # the validation column the best epoch is chosen by (lower is better)
    folder: str  # where its models live, under results/models
    dtype: type  # of the training target: alpha a float, a model its class index

    def target_values(self, column: np.ndarray) -> np.ndarray:
        """The training target from its shard column."""
        return column.astype(self.dtype)


ALPHA = Task("alpha", "alpha", "valid_mae", "", np.float32)
MODEL = Task("model", "model", "valid_error", "model", np.int64)
TASKS = {task.name: task for task in (ALPHA, MODEL)}
