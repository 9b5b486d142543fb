"""The one scale factor of HNU (theirs: 1.011), fitted on an external set by lowest MAE; and, for the
model task, one temperature per dimension, fitted on a held-out set by lowest negative
log-likelihood of the true models (temperature scaling)."""

import numpy as np

from andiflow.ensemble import finish
from andiflow.tasks import MODELS
from andiflow.tasks.diffusion_model import softmax

TEMPERATURES = np.round(np.arange(0.3, 4.0 + 1e-9, 0.01), 2)


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


def fit_temperature(mean_log_p: np.ndarray, models, dims) -> dict:
    """Per dimension, the temperature of lowest mean negative log-likelihood of the true models
    (names of tasks.MODELS) under softmax(mean_log_p / T), T on a grid from 0.3 to 4."""
    true = np.array([MODELS.index(m) for m in models])
    dims = np.asarray(dims)
    fitted = {}
    for d in sorted(set(dims.tolist())):
        rows = dims == d
        nll = [
            -np.mean(np.log(softmax(mean_log_p[rows], T)[np.arange(rows.sum()), true[rows]] + 1e-12))
            for T in TEMPERATURES
        ]
        best = int(np.argmin(nll))
        fitted[str(d)] = {
            "temperature": float(TEMPERATURES[best]),
            "nll_before": float(nll[list(TEMPERATURES).index(1.0)]),
            "nll_after": float(nll[best]),
            "n": int(rows.sum()),
        }
    return fitted
