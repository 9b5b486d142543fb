"""The one scale factor of HNU (theirs: 1.011), fitted on an external set by lowest MAE."""

import numpy as np

from andiflow.ensemble import finish


def scale_grid(grid: dict) -> np.ndarray:
    return np.arange(grid["start"], grid["stop"] + grid["step"] / 2, grid["step"])


def fit_scale(raw: np.ndarray, true: np.ndarray, scales: np.ndarray, clip) -> dict:
    """The scale of lowest MAE of finish(raw, scale, clip) against true; ties go to the scale nearest 1."""
    maes = np.array([np.mean(np.abs(finish(raw, s, clip) - true)) for s in scales])
    best = int(np.lexsort((np.abs(scales - 1), np.round(maes, 12)))[0])
    return {
        "scale": float(scales[best]),
        "mae_before": float(np.mean(np.abs(finish(raw, 1.0, clip) - true))),
        "mae_after": float(maes[best]),
        "n": int(len(true)),
        "curve": {"scale": scales.round(6).tolist(), "mae": maes.round(6).tolist()},
    }
