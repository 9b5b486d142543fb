"""How well alpha was inferred: MAE overall, per dimension, per length bucket, per diffusion model;
the two references every result is read against (a constant guess, the time-averaged MSD fit);
and, where predictions carry them, how well the spread ranks the errors and how often the intervals
hold the true alpha. How well the diffusion model was classified (Task 2): micro-F1 overall, per
dimension and per length bucket, F1 per model, the confusion matrix and the expected calibration
error of the probabilities."""

import numpy as np
import pandas as pd

from andiflow import andi_io
from andiflow.buckets import bucket_names, length_buckets
from andiflow.errors import InputFileError
from andiflow.intervals import coverage
from andiflow.tasks import MODELS
from andiflow.tasks.alpha import alpha_grid
from andiflow.tracks import read_task1

NAMES = {"model": "andiflow", "shipped": "shipped", "constant": "constant", "tamsd": "TAMSD fit"}


def evaluate(
    predictions,
    reference,
    trajectories=None,
    *,
    constant: float,
    clip,
    tamsd_lag_fraction: float,
    length_edges,
    compare: dict | None = None,
) -> dict:
    """The evaluation of a prediction file against its reference, beside the constant guess, the TAMSD
    fit (when the trajectories are given) and other prediction files of the same trajectories
    (`compare`: name -> file). Only the lines every prediction file predicts are scored, the others
    (trajectories `andiflow predict` skipped) are counted in `unpredicted`."""
    dims, true, models = andi_io.read_reference(reference)
    pred = _aligned(predictions, reference, dims)
    compared = {name: _aligned(file, reference, dims)["alpha"] for name, file in (compare or {}).items()}
    scored = _scored(predictions, [pred["alpha"], *compared.values()])
    tracks = None if trajectories is None else _scored_tracks(trajectories, reference, dims, scored)
    lengths = None if tracks is None else np.array([t.shape[1] for t in tracks])
    dims, true, models = dims[scored], true[scored], _kept(models, scored)
    pred = {key: None if v is None else v[scored] for key, v in pred.items()}

    def table(alpha):
        return mae_table(alpha, true, dims, lengths, models, length_edges)

    result = {"predictions": str(predictions), "unpredicted": _unpredicted(scored), "model": table(pred["alpha"])}
    for name, alpha in compared.items():
        result[name] = table(alpha[scored])
    if pred["std"] is not None:
        result["uncertainty"] = uncertainty_ranking(pred["std"], np.abs(pred["alpha"] - true))
    if pred["low"] is not None and lengths is not None:
        result["intervals"] = coverage(pred["low"], pred["high"], true, dims, lengths, length_edges)
    result["constant"] = table(np.full(len(true), constant))
    if tracks is not None:
        tamsd = [tamsd_alpha(t, tamsd_lag_fraction) for t in tracks]
        result["tamsd"] = table(np.clip(tamsd, *clip))
    return result


def _aligned(predictions, reference, dims) -> dict:
    pred = andi_io.read_predictions(predictions)
    _check_lined_up(predictions, pred["dims"], reference, dims)
    return pred


def _check_lined_up(file, file_dims, reference, dims, what="predictions") -> None:
    named = file_dims != 0  # a line without a prediction may name no dimension
    if len(file_dims) != len(dims) or (file_dims != dims)[named].any():
        raise InputFileError(
            f"{file}: {len(file_dims)} {what} do not line up with the "
            f"{len(dims)} trajectories of {reference} (count or dimensions differ)"
        )


def _scored_tracks(trajectories, reference, dims, scored) -> list:
    """The trajectories of the scored lines, read as `andiflow predict` reads them (tracks.read_task1:
    a line it skipped counts as unnamed, an axis that never moves is left out)."""
    found = read_task1(trajectories)
    line_dims = np.zeros(len(found.dims))  # where the counts differ, they alone tell
    if len(found.dims) == len(dims):
        for lineno, keep in zip(found.particles, scored):
            if keep and lineno in found.problems:
                raise InputFileError(f"{trajectories}:{lineno}: predicted, but {found.problems[lineno]}")
        line_dims = np.array([d if keep else 0 for d, keep in zip(found.dims, scored)])
    _check_lined_up(trajectories, line_dims, reference, dims, "trajectories")
    return _kept(found.trajectories, scored)


def _scored(predictions, alphas) -> np.ndarray:
    """The lines that have a prediction in every one of `alphas` (NaN where a line has none)."""
    scored = np.logical_and.reduce([~np.isnan(a) for a in alphas])
    if not scored.any():
        raise InputFileError(f"{predictions}: no line has a prediction")
    return scored


def _kept(items, scored):
    return None if items is None else [item for item, keep in zip(items, scored, strict=True) if keep]


def _unpredicted(scored, shown: int = 20) -> dict:
    """How many lines are not scored, and the line numbers of the first `shown`."""
    lines = np.flatnonzero(~scored) + 1
    return {"n": int(len(lines)), "lines": lines[:shown].tolist()}


def mae_table(pred, true, dims, lengths=None, models=None, length_edges=None) -> dict:
    err = np.abs(np.asarray(pred) - np.asarray(true))
    table = {"n": int(len(err)), "mae": _mean(err), "by_dim": _by(err, np.asarray(dims).astype(str))}
    if lengths is not None:
        table["by_length"] = _by(err, length_buckets(lengths, length_edges), order=bucket_names(length_edges))
    if models is not None:
        table["by_model"] = _by(err, np.asarray(models))
    return table


def uncertainty_ranking(spread, abs_error, fraction: float = 0.1) -> dict:
    """How well the ensemble's spread ranks the errors: Spearman correlation of spread with |error|
    (null when either is constant, where it is undefined), and the MAE of the `fraction` most and
    least certain trajectories."""
    spread, abs_error = np.asarray(spread), np.asarray(abs_error)
    ranks = [pd.Series(v).rank().to_numpy() for v in (spread, abs_error)]  # ties share their average rank
    defined = np.ptp(spread) > 0 and np.ptp(abs_error) > 0
    k = max(1, int(fraction * len(spread)))
    order = np.argsort(spread, kind="stable")
    return {
        "spearman": round(float(np.corrcoef(*ranks)[0, 1]), 4) if defined else None,
        "mae_most_certain": _mean(abs_error[order[:k]]),
        "mae_least_certain": _mean(abs_error[order[-k:]]),
        "fraction": fraction,
    }


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


def _by(values, groups, name="mae", order=None) -> dict:
    """{group: {n, name: mean of values}} for each group present, in `order` if given."""
    present = set(groups.tolist())
    keys = [g for g in order if g in present] if order else sorted(present)
    return {str(g): {"n": int((groups == g).sum()), name: _mean(values[groups == g])} for g in keys}


def _mean(x) -> float:
    return round(float(np.mean(x)), 5)


def evaluate_models(predictions, reference, trajectories=None, *, length_edges, bins: int = 10) -> dict:
    """The evaluation of a Task 2 prediction file against a reference that names each model."""
    dims, models = andi_io.read_reference_models(reference)
    pred_dims, p = andi_io.read_model_predictions(predictions)
    _check_lined_up(predictions, pred_dims, reference, dims)
    scored = _scored(predictions, [p[:, 0]])
    lengths = None
    if trajectories is not None:
        lengths = np.array([t.shape[1] for t in _scored_tracks(trajectories, reference, dims, scored)])
    return {
        "predictions": str(predictions),
        "task": "model",
        "unpredicted": _unpredicted(scored),
        **classification(p[scored], _kept(models, scored), dims[scored], lengths, length_edges, bins),
    }


def classification(p, models, dims, lengths=None, length_edges=None, bins: int = 10) -> dict:
    """micro-F1 (one label per trajectory: the share classified right) overall, per dimension and per
    length bucket; F1 per model; confusion counts (true model -> predicted model); and the expected
    calibration error: the mean |accuracy - confidence| over `bins` equal bins of the top probability,
    weighted by their counts."""
    true = np.array([MODELS.index(m) for m in models])
    pred, confidence = p.argmax(axis=1), p.max(axis=1)
    right = (pred == true).astype(float)
    table = {
        "n": int(len(true)),
        "f1_micro": _mean(right),
        "by_dim": _by(right, np.asarray(dims).astype(str), "f1_micro"),
    }
    if lengths is not None:
        buckets = length_buckets(lengths, length_edges)
        table["by_length"] = _by(right, buckets, "f1_micro", order=bucket_names(length_edges))
    table["f1_by_model"] = {}
    for k, name in enumerate(MODELS):
        tp, fp, fn = (
            ((pred == k) & (true == k)).sum(),
            ((pred == k) & (true != k)).sum(),
            ((pred != k) & (true == k)).sum(),
        )
        table["f1_by_model"][name] = round(float(2 * tp / (2 * tp + fp + fn)), 5) if tp + fp + fn else None
    table["confusion"] = {
        name: {other: int(((true == k) & (pred == j)).sum()) for j, other in enumerate(MODELS)}
        for k, name in enumerate(MODELS)
    }
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gaps = [
        abs(right[which == b].mean() - confidence[which == b].mean()) * (which == b).sum()
        for b in range(bins)
        if (which == b).any()
    ]
    table["ece"] = round(float(np.sum(gaps) / len(true)), 5)
    return table


def model_summary(result: dict) -> str:
    """A plain-text table of a Task 2 evaluation."""
    lines = [
        f"Diffusion model of {result['predictions']} ({result['n']} trajectories): micro-F1 {result['f1_micro']:.4f}, "
        f"expected calibration error {result['ece']:.4f}"
    ]
    for group in ("by_dim", "by_length"):
        for key, cell in result.get(group, {}).items():
            label = f"{key}D" if group == "by_dim" else f"L {key}"
            label = f"{label} (n={cell['n']})"
            lines.append(f"  {label:<18}{cell['f1_micro']:>9.4f}")
    lines.append(
        "  F1 per model: " + ", ".join(f"{m} {v:.3f}" for m, v in result["f1_by_model"].items() if v is not None)
    )
    lines.append("  confusion (rows true, columns predicted): " + " ".join(f"{m:>6}" for m in MODELS))
    for name, row in result["confusion"].items():
        lines.append(f"  {name:>42}: " + " ".join(f"{row[m]:>6}" for m in MODELS))
    return "\n".join(lines + _unpredicted_lines(result))


def summary(result: dict) -> str:
    """A plain-text table of an evaluation: each method's MAE, overall and per group."""
    methods = [m for m in NAMES if m in result]
    lines = [
        f"MAE of {result['predictions']} ({result['model']['n']} trajectories)",
        f"  {'':<18}" + "".join(f"{NAMES[m]:>11}" for m in methods),
        f"  {'all':<18}" + "".join(f"{result[m]['mae']:>11.4f}" for m in methods),
    ]
    for group in ("by_dim", "by_length", "by_model"):
        for key, cell in result["model"].get(group, {}).items():
            label = f"{key}D" if group == "by_dim" else f"L {key}" if group == "by_length" else key
            label = f"{label} (n={cell['n']})"
            lines.append(f"  {label:<18}" + "".join(f"{result[m][group][key]['mae']:>11.4f}" for m in methods))
    if "uncertainty" in result:
        u = result["uncertainty"]
        spearman = "undefined" if u["spearman"] is None else f"{u['spearman']:.3f}"
        lines.append(
            f"  spread vs |error|: Spearman {spearman}; MAE of the {u['fraction']:.0%} most certain "
            f"{u['mae_most_certain']:.4f}, least certain {u['mae_least_certain']:.4f}"
        )
    if "intervals" in result:
        c = result["intervals"]
        cells = [("all", c["all"])] + [(f"{d}D", v) for d, v in c["by_dim"].items()]
        lines.append(
            "  intervals: coverage (mean width) "
            + ", ".join(f"{name} {v['coverage']:.3f} ({v['width']:.3f})" for name, v in cells)
        )
    return "\n".join(lines + _unpredicted_lines(result))


def _unpredicted_lines(result: dict) -> list[str]:
    u = result.get("unpredicted", {"n": 0})  # absent from evaluations written before it was counted
    if not u["n"]:
        return []
    more = f" and {u['n'] - len(u['lines'])} more" if u["n"] > len(u["lines"]) else ""
    have, be = ("line has", "is") if u["n"] == 1 else ("lines have", "are")
    return [f"  {u['n']} {have} no prediction and {be} not scored: {', '.join(map(str, u['lines']))}{more}"]


def evaluate_file(predictions, reference, trajectories, compare: dict, config, task=None) -> tuple[dict, str]:
    """`andiflow evaluate`: (result, summary) of a prediction file of the task (alpha: Task 1 lines;
    diffusion_model: Task 2 lines); None: told apart by their fields (Task 2 lines have six)."""
    edges = config["evaluate"]["length_edges"]
    task = task or ("diffusion_model" if andi_io.is_model_predictions(predictions) else "alpha")
    if task == "diffusion_model":
        result = evaluate_models(predictions, reference, trajectories, length_edges=edges)
        return result, model_summary(result)
    result = evaluate(
        predictions,
        reference,
        trajectories,
        compare=compare,
        constant=float(np.median(alpha_grid(config["data"]["alphas"]))),
        clip=config["ensemble"]["clip"],
        tamsd_lag_fraction=config["evaluate"]["tamsd_lag_fraction"],
        length_edges=edges,
    )
    return result, summary(result)
