"""segments (the 2nd AnDi challenge, 2024; beyond HNU): where a track's motion changes, and each
segment's alpha, K and state. Its networks (framewise.py) answer at every frame, from the "segments"
shards' per-frame labels; epochs are compared by the validation error of framewise.FrameEstimator.scores.
Its networks, their settings (the `segments` section) and their ensemble are its own: segment.py turns
the members' per-frame outputs into segments."""

from dataclasses import dataclass

import numpy as np

from andiflow.tasks.base import Task

LABELS = ("changepoint", "alpha", "K", "state")  # the shards' per-frame labels, in the target's order
# how phenom.py makes tracks, named here where the workflow and the steps' options read them without andi-datasets
RECIPES = ("defaults", "varied", "wide", "mixed", "broad", "benchmark")


@dataclass(frozen=True)
class Segments(Task):
    def targets(self, arrays: dict) -> np.ndarray:
        """[n, 4, T] float32: each frame's changepoint (0/1), alpha, K and state."""
        return np.stack([arrays[name].astype(np.float32) for name in LABELS], axis=1)

    def head(self, model_section) -> str:
        return "frames"

    def model_section(self, config) -> dict:
        return config["segments"]["model"]


SEGMENTS = Segments(
    name="segments",
    target="changepoint",
    metric="valid_frame_error",
    dtype=np.float32,
    columns=(),
    by_axis=False,
    per_frame=True,
)
