"""The population a file's tracks come from: the mean of their alphas with a calibrated interval, how
widely the alphas spread, and the share of each diffusion model; from many tracks, each too short to
say much alone (beyond HNU).

A network over sets (population_train.py) reads every track's answers from the alpha ensemble (alpha,
its interval, the members' spread, the model probabilities, the track's length and dimension) and six
statistics of its steps (which tell localisation noise from subdiffusion where the answers cannot),
pools them, and gives the 5%, 50% and 95% quantiles of the population's mean alpha and of its spread, and
the model shares, each with an interval calibrated on held-out populations (population_train.share_bounds).
Trained on simulated populations of five processes, with noise and lengths beyond the ensemble's
training recipe, it has learnt how each answer is biased and how far to trust it;
benchmarks/population.py measures it. It lives beside the ensemble whose answers it read
(population.json and population.onnx in its folder) and is refused with any other.

Where the localisation precision is known (sigma per axis, in the positions' unit: the user's number,
or each track's from its tracker's column), a second network reads it too (population_precision.json):
each track's precision over the root mean square of its observed steps, which tells noise from
subdiffusion where a short track's steps cannot (benchmarks/population_inputs.py).
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from andiflow.errors import InputFileError, ModelFileError, SettingsError
from andiflow.manifest import MANIFEST, sha256
from andiflow.members import one_thread_session
from andiflow.tasks import MODELS

ANSWERS = ("alpha", "alpha_low", "alpha_high", "alpha_std", *(f"p_{m}" for m in MODELS))  # predict's columns
# scale-free statistics of a track's steps (step_statistics; benchmarks/population_inputs.py measured them)
STATISTICS = ("step_correlation_1", "step_correlation_2", "aging", "kurtosis", "largest_step", "msd_exponent_2")
FEATURES = (*ANSWERS, "log_points", "dim", *STATISTICS)
PRECISION = "precision_ratio"  # the precision network's last input (precision_ratios)
QUANTILES = (0.05, 0.5, 0.95)  # of the mean and of the sd: the 90% intervals
# a share's interval is calibrated per model, bin of the population's size and bin of the share given
SIZE_BINS = (50, 200, 1000)  # inner edges, tracks
SHARE_BINS = (0.05, 0.2, 0.8, 0.95)  # inner edges
DESCRIPTION = "population.json"
PRECISION_DESCRIPTION = "population_precision.json"
COLUMNS = [
    "tracks",
    "alpha_mean",
    "alpha_mean_low",
    "alpha_mean_high",
    "alpha_sd",
    "alpha_sd_low",
    "alpha_sd_high",
    *(f"share_{m}{bound}" for m in MODELS for bound in ("", "_low", "_high")),
    "note",
]


# the network's quantiles (QUANTILES of the mean, then of the sd), in COLUMNS' names
QUANTILE_COLUMNS = ("alpha_mean_low", "alpha_mean", "alpha_mean_high", "alpha_sd_low", "alpha_sd", "alpha_sd_high")


def features(table: pd.DataFrame, trajectories, max_length: int) -> np.ndarray:
    """[n, F] of predict's rows (tracks with an alpha) and their trajectories ([axes, T] each, in the
    rows' order): the answers, the log of the points (a track longer than any the network was trained
    on is read as one of the longest), the dimension, the steps' statistics."""
    points = np.log(np.minimum(table["n_points"].to_numpy(dtype=float), max_length))
    answers = [table[c].to_numpy(dtype=float) for c in ANSWERS] + [points, table["dim"].to_numpy(dtype=float)]
    statistics = np.array([step_statistics(t) for t in trajectories]).reshape(len(table), len(STATISTICS))
    return np.column_stack([*answers, statistics]).astype(np.float32)


def precision_ratios(trajectories, precision) -> np.ndarray:
    """Each track's localisation precision (one for all, or one each) over the root mean square of its
    observed steps (its still axes left out): at most 1/sqrt(2) on average, where the steps are noise alone."""
    return (np.asarray(precision) / np.array([step_rms(t) for t in trajectories])).astype(np.float32)


def step_rms(track: np.ndarray) -> float:
    """The root mean square of a track's steps [axes, T] over its moving axes together (not their std:
    a directed track's steps can all be alike)."""
    steps = np.diff(track, axis=1)
    return float(np.sqrt(np.mean(steps[steps.any(1)] ** 2)))


def step_statistics(track: np.ndarray) -> np.ndarray:
    """STATISTICS of a track [axes, T] (its still axes left out): the lag-1 and lag-2 autocorrelations of
    its steps (localisation noise lowers the first alone, fbm's alpha both), the log ratio of the second
    half's squared steps to the first's (sbm's ageing), their kurtosis and largest squared step (heavy
    for ctrw, lw, attm), and the log2 ratio of the MSD at lag 2 to lag 1."""
    moving = np.diff(track, axis=1).any(1)
    track = track[moving]
    steps = np.diff(track, axis=1)
    n, total = steps.shape[1], (steps * steps).sum()
    first, second = (steps[:, : n // 2] ** 2).mean(), (steps[:, n // 2 :] ** 2).mean()
    scaled = steps / np.sqrt((steps * steps).mean(1, keepdims=True))  # each axis to unit mean square
    lag_2 = ((track[:, 2:] - track[:, :-2]) ** 2).sum() / (n - 1)
    with np.errstate(divide="ignore"):
        found = [
            (steps[:, 1:] * steps[:, :-1]).sum() / total,
            (steps[:, 2:] * steps[:, :-2]).sum() / total,
            np.clip(np.log(second / first), -4, 4),  # a still half: +-4
            np.log((scaled**4).mean() / 3),
            np.log((scaled**2).max()),
            np.log2(lag_2 / (total / n)),
        ]
    return np.clip(found, -8, 8).astype(np.float32)  # finite: steps with no lag-2 displacement, -8


class PopulationNetwork:
    """The population network of an ensemble's folder, run in ONNX Runtime on one thread."""

    def __init__(self, folder, manifest_sha256: str, precision: bool = False):
        folder = Path(folder)
        file = folder / (PRECISION_DESCRIPTION if precision else DESCRIPTION)
        if not file.is_file():
            raise ModelFileError(
                f"{folder}: this ensemble has no population network {'reading a precision ' if precision else ''}"
                f"({file.name}); the shipped convlstm-cpu has one, and the workflow trains one where "
                f"`population.{'precision.' if precision else ''}train` is true"
            )
        self.description = json.loads(file.read_text())
        if self.description["ensemble_sha256"] != manifest_sha256:
            raise ModelFileError(
                f"{file}: trained on the answers of another ensemble than {folder / MANIFEST}; "
                "rebuild it with the workflow"
            )
        self.precision = precision
        if self.description["features"] != list(FEATURES) + [PRECISION] * precision:
            raise ModelFileError(f"{file}: reads other inputs than this andiflow gives; rebuild it with the workflow")
        if "shares" not in self.description:
            raise ModelFileError(f"{file}: made by an older andiflow, without the shares' intervals; rebuild it")
        onnx = folder / self.description["onnx"]
        if sha256(onnx) != self.description["onnx_sha256"]:
            raise ModelFileError(f"{onnx}: checksum differs from {file}; rebuild it with the workflow")
        self.session = one_thread_session(onnx)
        self.level = self.description["level"]
        self.min_tracks, self.max_tracks = self.description["tracks"]

    @classmethod
    def of(cls, ens, folder=None, precision: bool = False) -> "PopulationNetwork":
        """The network of the ensemble, in its folder or in `folder`; the one that reads a localisation
        precision where `precision`."""
        if ens.folder is None:
            raise ModelFileError(f"{ens.describe()}: not loaded from a folder, so it has no population network")
        return cls(folder or ens.folder, sha256(Path(ens.folder) / MANIFEST), precision)

    def read(self, table: pd.DataFrame, trajectories, precision=None, column: str = "") -> dict:
        """One population's answer from predict's rows and their trajectories ([axes, T] each, in the
        rows' order; those without an alpha are left out), and the localisation precision in the
        trajectories' unit where this network reads one: one number, or one per trajectory as read
        from `column` (NaN where it gave none: read at the median of the others)."""
        answered = table["alpha"].notna().to_numpy()
        kept = table[answered]
        row = dict.fromkeys(COLUMNS, np.nan) | {"tracks": len(kept), "note": ""}
        if len(kept) < self.min_tracks:
            return row | {"note": f"{len(kept)} tracks with an alpha; a population needs at least {self.min_tracks}"}
        moving = [t for t, a in zip(trajectories, answered) if a]
        x = features(kept, moving, self.description["max_length"])
        notes = []
        if self.precision:
            precision, notes = _each_track(precision, answered, column)
            x = np.column_stack([x, self._ratios(moving, precision)])
        row.update(self.answer(x))
        if len(kept) > self.max_tracks:
            notes.append(f"read as {self.max_tracks} tracks, the most it was trained on: the interval is no narrower")
        return row | {"note": "; ".join(notes)}

    def answer(self, x: np.ndarray) -> dict:
        """The quantile columns and each model's share with its interval, from one population's
        features [tracks, F]."""
        quantiles, shares = (o[0] for o in self.session.run(None, {"tracks": x[None]}))
        row = dict(zip(QUANTILE_COLUMNS, (float(q) for q in quantiles)))
        row.update({c: max(row[c], 0.0) for c in QUANTILE_COLUMNS[3:]})  # a spread is never negative
        return row | self._shares(shares, len(x))

    def _shares(self, shares: np.ndarray, tracks: int) -> dict:
        """Each model's share and its interval (share_bounds' offsets), within [0, 1] and holding the share
        itself (where the network gives 97%, the truth was all but always 100%: the offsets both exceed 0)."""
        bounds = self.description["shares"]
        size = np.digitize(min(tracks, self.max_tracks), bounds["size_bins"])
        row = {}
        for m, (model, share) in enumerate(zip(MODELS, shares.astype(float))):
            j = np.digitize(share, bounds["share_bins"])
            low, high = (share + bounds[side][m][size][j] for side in ("low", "high"))
            row |= {f"share_{model}": share, f"share_{model}_low": max(min(low, share), 0.0)}
            row[f"share_{model}_high"] = min(max(high, share), 1.0)
        return row

    def _ratios(self, moving, precision) -> np.ndarray:
        """precision_ratios, each clipped to the largest the network was trained on; a precision larger
        than the tracks' steps allow is refused (most likely in another unit than theirs)."""
        ratios = precision_ratios(moving, precision)
        if np.median(ratios) > 1:
            raise SettingsError(
                f"localisation precision {np.median(precision):g}{' (median)' * (np.ndim(precision) > 0)}: larger "
                f"than the tracks' steps (their median root mean square {np.median([step_rms(t) for t in moving]):.3g}"
                "); give it in the positions' unit"
            )
        return np.minimum(ratios, self.description["max_precision_ratio"])


def _each_track(precision, answered: np.ndarray, column: str) -> tuple:
    """The precision of each answered track, and the note saying where it came from: one number for all,
    or the column's (NaN read at the median of the others)."""
    if np.ndim(precision) == 0:
        return precision, [f"localisation precision {precision:g} read"]
    precision = np.asarray(precision, float)[answered]
    given = np.isfinite(precision)
    if not given.any():
        raise InputFileError(f"column {column}: no localisation precision for any track with an alpha")
    median = float(np.median(precision[given]))
    notes = [f"localisation precision of each track read from column {column} (median {median:.3g})"]
    if not given.all():
        notes.append(f"{(~given).sum()} tracks without one read at the median")
    return np.where(given, precision, median), notes


def difference(first: pd.Series, second: pd.Series) -> dict:
    """second's alpha_mean minus first's, with a 90% interval: each mean's answer taken as a normal of
    its own width on each side (its 5% and 95% quantiles at -1.645 and +1.645 sd), the two independent."""
    z = 1.6449
    below = [(r["alpha_mean"] - r["alpha_mean_low"]) / z for r in (first, second)]
    above = [(r["alpha_mean_high"] - r["alpha_mean"]) / z for r in (first, second)]
    d = second["alpha_mean"] - first["alpha_mean"]
    return dict(
        difference=d,
        low=d - z * math.hypot(below[1], above[0]),
        high=d + z * math.hypot(above[1], below[0]),
    )
