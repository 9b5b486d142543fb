"""What a network learns and how its answers are combined: one module per task.

A task says what it learns from a shard (its target column), which head and loss its networks end in
(heads.py, by name), the validation metric its best epoch is chosen by, how the outputs of its
members combine into one answer per trajectory, the columns it adds to a result table and the
challenge file its answers are written to, and how it is evaluated. The workflow's rules are generic
over the tasks a configuration names (`tasks:`), and trained networks live in one layout,
`results/models/<task>/<dim>D/L<length>/fold<k>`.

- `alpha` (Task 1 of the 2020 AnDi challenge, HNU's method): the anomalous exponent.
- `diffusion_model` (Task 2, beyond HNU): which of the five diffusion models moved the particle.
- `segments` (the 2024 challenge, beyond HNU): where the motion changes, each segment's alpha, K and
  state; its networks answer at every frame (`per_frame`) and have an ensemble of their own.

No PyTorch here: prediction imports this package.
"""

from andiflow.tasks.alpha import ALPHA
from andiflow.tasks.base import MODELS, Task
from andiflow.tasks.diffusion_model import DIFFUSION_MODEL
from andiflow.tasks.segments import SEGMENTS

TASKS: dict[str, Task] = {task.name: task for task in (ALPHA, DIFFUSION_MODEL, SEGMENTS)}

__all__ = ["MODELS", "TASKS", "Task"]
