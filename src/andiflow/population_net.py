"""The population a file's tracks come from: the mean of their alphas with a calibrated interval, how
widely the alphas spread, and the share of each diffusion model; from many tracks, each too short to
say much alone (beyond HNU).

A network over sets (population_train.py) reads every track's answers from the alpha ensemble (alpha,
its interval, the members' spread, the model probabilities, the track's length and dimension), pools
them, and gives the 5%, 50% and 95% quantiles of the population's mean alpha and of its spread, and
the model shares. Trained on simulated populations of five processes, with noise and lengths beyond
the ensemble's training recipe, it has learnt how each answer is biased and how far to trust it;
benchmarks/population.py measures it. It lives beside the ensemble whose answers it read
(population.json and population.onnx in its folder) and is refused with any other.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from andiflow.errors import ModelFileError
from andiflow.manifest import MANIFEST, sha256
from andiflow.tasks import MODELS

ANSWERS = ("alpha", "alpha_low", "alpha_high", "alpha_std", *(f"p_{m}" for m in MODELS))  # predict's columns
FEATURES = (*ANSWERS, "log_points", "dim")
QUANTILES = (0.05, 0.5, 0.95)  # of the mean and of the sd: the 90% intervals
DESCRIPTION = "population.json"
COLUMNS = [
    "tracks",
    "alpha_mean",
    "alpha_mean_low",
    "alpha_mean_high",
    "alpha_sd",
    "alpha_sd_low",
    "alpha_sd_high",
    *(f"share_{m}" for m in MODELS),
    "note",
]


# the network's quantiles (QUANTILES of the mean, then of the sd), in COLUMNS' names
QUANTILE_COLUMNS = ("alpha_mean_low", "alpha_mean", "alpha_mean_high", "alpha_sd_low", "alpha_sd", "alpha_sd_high")


def features(table: pd.DataFrame, max_length: int) -> np.ndarray:
    """[n, F] of predict's rows (tracks with an alpha): the answers, the log of the points (a track
    longer than any the network was trained on is read as one of the longest), the dimension."""
    points = np.log(np.minimum(table["n_points"].to_numpy(dtype=float), max_length))
    return np.column_stack([table[c].to_numpy(dtype=float) for c in ANSWERS] + [points, table["dim"]]).astype(
        np.float32
    )


class PopulationNetwork:
    """The population network of an ensemble's folder, run in ONNX Runtime on one thread."""

    def __init__(self, folder, manifest_sha256: str):
        folder = Path(folder)
        file = folder / DESCRIPTION
        if not file.is_file():
            raise ModelFileError(
                f"{folder}: this ensemble has no population network ({DESCRIPTION}); the shipped convlstm-cpu "
                "has one, and the workflow trains one where `population.train` is true"
            )
        self.description = json.loads(file.read_text())
        if self.description["ensemble_sha256"] != manifest_sha256:
            raise ModelFileError(
                f"{file}: trained on the answers of another ensemble than {folder / MANIFEST}; "
                "rebuild it with the workflow"
            )
        onnx = folder / self.description["onnx"]
        if sha256(onnx) != self.description["onnx_sha256"]:
            raise ModelFileError(f"{onnx}: checksum differs from {file}; rebuild it with the workflow")
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
        self.level = self.description["level"]
        self.min_tracks, self.max_tracks = self.description["tracks"]

    @classmethod
    def of(cls, ens, folder=None) -> "PopulationNetwork":
        """The network of the ensemble, in its folder or in `folder`."""
        if ens.folder is None:
            raise ModelFileError(f"{ens.describe()}: not loaded from a folder, so it has no population network")
        return cls(folder or ens.folder, sha256(Path(ens.folder) / MANIFEST))

    def read(self, table: pd.DataFrame) -> dict:
        """One population's answer from predict's rows (those without an alpha are left out)."""
        kept = table[table["alpha"].notna()]
        row = dict.fromkeys(COLUMNS, np.nan) | {"tracks": len(kept), "note": ""}
        if len(kept) < self.min_tracks:
            return row | {"note": f"{len(kept)} tracks with an alpha; a population needs at least {self.min_tracks}"}
        x = features(kept, self.description["max_length"])[None]
        quantiles, shares = (o[0] for o in self.session.run(None, {"tracks": x}))
        row.update(zip(QUANTILE_COLUMNS, (float(q) for q in quantiles)))
        row.update({c: max(row[c], 0.0) for c in QUANTILE_COLUMNS[3:]})  # a spread is never negative
        row.update({f"share_{m}": float(s) for m, s in zip(MODELS, shares)})
        if len(kept) > self.max_tracks:
            row["note"] = f"read as {self.max_tracks} tracks, the most it was trained on: the interval is no narrower"
        return row


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
