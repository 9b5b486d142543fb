"""The per-trajectory z-score of positions, shared by training and inference."""

import numpy as np


def zscore(positions: np.ndarray) -> np.ndarray:
    """(x - mean(x)) / std(x) along the last axis, population std (ddof=0), as float32.

    A constant series (std 0) becomes all zeros rather than NaN.
    """
    x = np.asarray(positions, dtype=np.float64)
    centred = x - x.mean(axis=-1, keepdims=True)
    std = centred.std(axis=-1, keepdims=True)
    return np.divide(centred, std, out=np.zeros_like(centred), where=std > 0).astype(np.float32)
