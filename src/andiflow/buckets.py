"""Length buckets (`10-49`, `50-99`, ...): how evaluation reports and intervals are grouped."""

import numpy as np


def length_buckets(lengths, edges) -> np.ndarray:
    """The bucket name (`10-49`) of each length; `other` outside the edges."""
    edges = np.asarray(edges)
    index = np.searchsorted(edges, lengths, side="right") - 1
    return np.array([f"{edges[i]}-{edges[i + 1] - 1}" if 0 <= i < len(edges) - 1 else "other" for i in index])


def bucket_names(edges) -> list[str]:
    return [f"{a}-{b - 1}" for a, b in zip(edges, edges[1:])] + ["other"]
