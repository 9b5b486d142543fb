"""The per-trajectory z-score of positions, shared by training and inference."""

import numpy as np


def zscore(positions: np.ndarray) -> np.ndarray:
    """(x - mean(x)) / std(x) along the last axis, population std (ddof=0), as float32.

    A constant series (std 0) becomes all zeros rather than NaN.
    """
    x = np.asarray(positions, dtype=np.float64)
    n = x.shape[-1]
    centred = x - np.add.reduce(x, axis=-1, keepdims=True) / n
    # numpy's std(centred), its arithmetic step by step (about centred's own mean again), the same bits
    # at half the cost for the many short tracks of a file
    deviation = centred - np.add.reduce(centred, axis=-1, keepdims=True) / n
    std = np.sqrt(np.add.reduce(deviation * deviation, axis=-1, keepdims=True) / n)
    return np.divide(centred, std, out=np.zeros_like(centred), where=std > 0).astype(np.float32)
