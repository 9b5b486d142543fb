"""The report's figures: how training went, how the scale was chosen, how well alpha was inferred, the
segments of tracks whose motion changes, and populations."""

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from andiflow.atomic import atomic_path  # noqa: E402
from andiflow.errors import InputFileError  # noqa: E402
from andiflow.tasks import MODELS  # noqa: E402

HISTORY_FILE = re.compile(r"(\w+)/(\d)D/L(\d+)/fold(\d+)\.csv$")


def training(histories: list, curves_png, best_png) -> None:
    """Validation MAE per epoch of every (length, fold); best validation MAE against length. The
    epoch tables are alpha's networks of one dimension: networks of other dimensions or tasks would mix
    into one mean."""
    runs, groups = [], set()
    for path in histories:
        match = HISTORY_FILE.search(Path(path).as_posix())
        if not match or match[1] != "alpha":
            raise InputFileError(f"{path}: not an epoch table of alpha at <task>/<dim>D/L<length>/fold<k>.csv")
        groups.add(match[2])
        runs.append((int(match[3]), int(match[4]), pd.read_csv(path)))
    if len(groups) > 1:
        raise InputFileError(f"epoch tables of alpha networks of {sorted(groups)}D: one figure is of one dimension")
    lengths = sorted({length for length, _, _ in runs})
    colour = plt.get_cmap("viridis")
    norm = matplotlib.colors.LogNorm(min(lengths), max(lengths) + 1)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for length, _, h in runs:
        ax.plot(h["epoch"], h["valid_mae"], color=colour(norm(length)), lw=1, alpha=0.8)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colour), ax=ax, label="trajectory length L (points)")
    ax.set(xlabel="epoch", ylabel="validation MAE of alpha", title="Training: validation MAE per epoch")
    _save(fig, curves_png)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    best = pd.DataFrame(
        [(length, fold, h["valid_mae"].min()) for length, fold, h in runs], columns=["length", "fold", "mae"]
    )
    for fold, group in best.groupby("fold"):
        ax.plot(group["length"], group["mae"], "o", ms=4, label=f"fold {fold}")
    mean = best.groupby("length")["mae"].mean()
    ax.plot(mean.index, mean.values, "k-", lw=1, label="mean over folds")
    ax.set(
        xscale="log",
        xlabel="trajectory length L (points)",
        ylabel="best validation MAE of alpha",
        title="Best validation MAE against length",
    )
    ax.legend()
    _save(fig, best_png)


def calibration(scale_json, png) -> None:
    """MAE on the external set against the scale factor, the chosen scale marked."""
    result = json.loads(Path(scale_json).read_text())
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if "curve" in result:
        ax.plot(result["curve"]["scale"], result["curve"]["mae"], "-", lw=1.5)
        ax.axvline(result["scale"], color="C3", ls="--", label=f"chosen: {result['scale']:.4f}")
        ax.axvline(1.011, color="grey", ls=":", label="HNU's 1.011")
        ax.legend()
    else:
        ax.text(0.5, 0.5, f"scale fixed by the config: {result['scale']}", ha="center", transform=ax.transAxes)
    ax.set(
        xlabel="scale factor (dimensionless)",
        ylabel="MAE of alpha on the calibration set",
        title="Calibration of the scale factor",
    )
    _save(fig, png)


def evaluation(pred, true, dims, lengths, models, scatter_png, length_png, model_png) -> None:
    """Predicted against true alpha per dimension; MAE against length; MAE per diffusion model."""
    pred, true, dims, lengths = (np.asarray(v) for v in (pred, true, dims, lengths))
    error = np.abs(pred - true)
    present = sorted(set(dims.tolist()))

    fig, axes = plt.subplots(1, len(present), figsize=(4 * len(present), 4), squeeze=False)
    for ax, dim in zip(axes[0], present):
        rows = dims == dim
        ax.hist2d(true[rows], pred[rows], bins=[np.arange(0.025, 2.06, 0.05), 40], cmap="Blues")
        ax.plot([0, 2], [0, 2], "k--", lw=1)
        ax.set(xlabel="true alpha", ylabel="predicted alpha", title=f"{dim}D: MAE {error[rows].mean():.3f}")
    _save(fig, scatter_png)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    edges = np.unique(np.quantile(lengths, np.linspace(0, 1, 11)).round())
    for dim in present:
        rows = dims == dim
        bucket = np.clip(np.searchsorted(edges, lengths[rows], side="right") - 1, 0, len(edges) - 2)
        centres = [(edges[b] + edges[b + 1]) / 2 for b in range(len(edges) - 1)]
        maes = [error[rows][bucket == b].mean() if (bucket == b).any() else np.nan for b in range(len(edges) - 1)]
        ax.plot(centres, maes, "o-", label=f"{dim}D")
    ax.set(
        xscale="log", xlabel="trajectory length (points)", ylabel="MAE of alpha", title="MAE against trajectory length"
    )
    ax.legend()
    _save(fig, length_png)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    if models is not None:
        table = pd.DataFrame({"model": models, "dim": dims, "error": error})
        table.pivot_table(index="model", columns="dim", values="error", aggfunc="mean").plot.bar(ax=ax, rot=0)
        ax.legend(title="dimension")
    else:
        ax.text(0.5, 0.5, "the reference names no diffusion models", ha="center", transform=ax.transAxes)
    ax.set(xlabel="diffusion model", ylabel="MAE of alpha", title="MAE per diffusion model")
    _save(fig, model_png)


def confusion(result: dict, png) -> None:
    """The model task's confusion matrix (rows: true model, each row as shares of its trajectories),
    from an evaluation of Task 2 predictions."""
    names = list(result["confusion"])
    counts = np.array([[result["confusion"][t][p] for p in names] for t in names], dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(names)):
        for j in range(len(names)):
            colour = "white" if shares[i, j] > 0.6 else "black"
            ax.text(
                j, i, f"{shares[i, j]:.2f}\n({int(counts[i, j])})", ha="center", va="center", color=colour, fontsize=8
            )
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set(
        xlabel="predicted model",
        ylabel="true model",
        title=f"micro-F1 {result['f1_micro']:.3f}, calibration error {result['ece']:.3f}",
    )
    fig.colorbar(image, ax=ax, label="share of the true model's trajectories")
    _save(fig, png)


def segments(table: pd.DataFrame, tracks: dict, png, shown: int = 6) -> None:
    """A segments table (segmenter.COLUMNS) drawn: `shown` of its tracks (the first with several
    segments; `tracks`: particle -> positions [2, T]) coloured by segment, and the distributions of
    segment alpha and K, each segment weighted by its points."""
    found = table.dropna(subset=["alpha"])
    several = found.groupby("particle", sort=False)["segment"].max()
    chosen = list(several[several > 0].index[:shown]) or list(several.index[:shown])
    fig, axes = plt.subplots(2, max(3, len(chosen) // 2 + len(chosen) % 2), figsize=(12, 7))
    colours = plt.get_cmap("tab10")
    for ax, pid in zip(axes[0], chosen[: axes.shape[1]]):
        _segmented_track(ax, tracks[pid], found[found["particle"] == pid], colours)
    for ax in axes[0][len(chosen[: axes.shape[1]]) :]:
        ax.axis("off")
    ax_alpha, ax_k = axes[1][0], axes[1][1]
    ax_alpha.hist(found["alpha"], bins=np.linspace(0, 2, 41), weights=found["points"], color="C0")
    ax_alpha.set(xlabel="segment alpha", ylabel="points")
    ax_k.hist(np.log10(found["K"].clip(lower=1e-12)), bins=40, weights=found["points"], color="C1")
    ax_k.set(xlabel=f"log10 segment K ({found['K_unit'].iloc[0] if len(found) else ''})", ylabel="points")
    states = found.groupby("state")["points"].sum()
    axes[1][2].bar(states.index, states.values, color="C2")
    axes[1][2].set(ylabel="points", title="state")
    for ax in axes[1][3:]:
        ax.axis("off")
    fig.tight_layout()
    _save(fig, png)


def population(table: pd.DataFrame, png) -> None:
    """Populations (population.COLUMNS, one row per group) drawn: each group's mean alpha with its 90%
    interval, the spread of its alphas (mean +- sd, thin), and its diffusion models' shares with theirs."""
    found = table.dropna(subset=["alpha_mean"]).iloc[::-1]
    names = [f"{Path(str(g)).name} ({n})" for g, n in zip(found["group"], found["tracks"])]
    y = np.arange(len(found))
    fig, (ax, ax_share) = plt.subplots(1, 2, figsize=(10, 1.6 + 0.6 * len(found)), width_ratios=[3, 2], sharey=True)
    mean, sd = found["alpha_mean"].to_numpy(), found["alpha_sd"].to_numpy()
    low, high = found["alpha_mean_low"].to_numpy(), found["alpha_mean_high"].to_numpy()
    ax.hlines(y - 0.2, mean - sd, mean + sd, color="0.5", lw=1.5, label="mean ± sd of the alphas")
    ax.errorbar(mean, y, xerr=[mean - low, high - mean], fmt="o", color="C0", lw=3, label="mean alpha, 90% interval")
    ax.axvline(1, color="0.85", lw=1, zorder=0)
    ax.set(yticks=y, yticklabels=names, xlabel="alpha", xlim=(0, 2.05))
    ax.legend(fontsize=8, ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    for k, model in enumerate(MODELS):
        share, low, high = (found[f"share_{model}{bound}"].to_numpy() for bound in ("", "_low", "_high"))
        offset = y + 0.3 - 0.15 * k
        ax_share.errorbar(
            share, offset, xerr=[share - low, high - share], fmt="o", ms=4, color=f"C{k + 1}", label=model
        )
    ax_share.set(xlabel="share of the tracks, 90% interval", xlim=(-0.02, 1.02))
    ax_share.legend(fontsize=8, ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    _save(fig, png)


def _segmented_track(ax, xy: np.ndarray, rows: pd.DataFrame, colours) -> None:
    start = 0
    for k, row in enumerate(rows.itertuples()):
        end = start + int(row.points)
        part = xy[:, max(start - 1, 0) : end]
        ax.plot(part[0], part[1], color=colours(k % 10), lw=1, label=f"{row.state}, alpha {row.alpha:.2f}")
        start = end
    ax.set(title=f"particle {rows['particle'].iloc[0]}", aspect="equal")
    ax.legend(fontsize=7)


def _save(fig, path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=110)
    plt.close(fig)
