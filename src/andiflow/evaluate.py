"""How well alpha was inferred: MAE overall, per dimension, per length bucket, per diffusion model;
and the two references every result is read against (a constant guess, the time-averaged MSD fit)."""

import numpy as np


def mae_table(pred, true, dims, lengths=None, models=None, length_edges=None) -> dict:
    err = np.abs(np.asarray(pred) - np.asarray(true))
    table = {"n": int(len(err)), "mae": _mean(err), "by_dim": _by(err, np.asarray(dims).astype(str))}
    if lengths is not None:
        edges = np.asarray(length_edges)
        bucket = np.searchsorted(edges, lengths, side="right") - 1
        names = np.array([f"{edges[b]}-{edges[b + 1] - 1}" if 0 <= b < len(edges) - 1 else "other"
                          for b in bucket])
        table["by_length"] = _by(err, names, order=[f"{a}-{b - 1}" for a, b in zip(edges, edges[1:])] + ["other"])
    if models is not None:
        table["by_model"] = _by(err, np.asarray(models))
    return table


def uncertainty_ranking(spread, abs_error, fraction: float = 0.1) -> dict:
    """How well the ensemble's spread ranks the errors: Spearman correlation of spread with |error|,
    and the MAE of the `fraction` most and least certain trajectories."""
    spread, abs_error = np.asarray(spread), np.asarray(abs_error)
    ranks = [np.argsort(np.argsort(v, kind="stable"), kind="stable") for v in (spread, abs_error)]
    k = max(1, int(fraction * len(spread)))
    order = np.argsort(spread, kind="stable")
    return {"spearman": round(float(np.corrcoef(*ranks)[0, 1]), 4),
            "mae_most_certain": _mean(abs_error[order[:k]]),
            "mae_least_certain": _mean(abs_error[order[-k:]]),
            "fraction": fraction}


def tamsd_alpha(trajectory: np.ndarray, lag_fraction: float) -> float:
    """Classical estimate: slope of log TAMSD against log lag over lags 1..max(2, fraction x T),
    mean over axes."""
    T = trajectory.shape[1]
    lags = np.arange(1, max(2, int(lag_fraction * T)) + 1)
    slopes = []
    for x in trajectory:
        msd = np.array([np.mean((x[lag:] - x[:-lag]) ** 2) for lag in lags])
        slopes.append(np.polyfit(np.log(lags), np.log(np.maximum(msd, 1e-12)), 1)[0])
    return float(np.mean(slopes))


def _by(err, groups, order=None) -> dict:
    present = set(groups.tolist())
    keys = [g for g in order if g in present] if order else sorted(present)
    return {str(g): {"n": int((groups == g).sum()), "mae": _mean(err[groups == g])} for g in keys}


def _mean(x) -> float:
    return round(float(np.mean(x)), 5)


def summary(result: dict) -> str:
    """A plain-text table of an evaluation: each method's MAE, overall and per group."""
    methods = [m for m in ("lstm", "constant", "tamsd") if m in result]
    names = {"lstm": "andiflow", "constant": "constant", "tamsd": "TAMSD fit"}
    lines = [f"MAE of {result['predictions']} ({result['lstm']['n']} trajectories)",
             f"  {'':<18}" + "".join(f"{names[m]:>11}" for m in methods),
             f"  {'all':<18}" + "".join(f"{result[m]['mae']:>11.4f}" for m in methods)]
    for group in ("by_dim", "by_length", "by_model"):
        for key, cell in result["lstm"].get(group, {}).items():
            label = f"{key}D" if group == "by_dim" else f"L {key}" if group == "by_length" else key
            label = f"{label} (n={cell['n']})"
            lines.append(f"  {label:<18}"
                         + "".join(f"{result[m][group][key]['mae']:>11.4f}" for m in methods))
    if "uncertainty" in result:
        u = result["uncertainty"]
        lines.append(f"  spread vs |error|: Spearman {u['spearman']:.3f}; MAE of the {u['fraction']:.0%} most certain "
                     f"{u['mae_most_certain']:.4f}, least certain {u['mae_least_certain']:.4f}")
    return "\n".join(lines)
