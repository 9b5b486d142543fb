"""The Python face: andiflow.predict on a DataFrame, a file and arrays gives the command line's table;
load_ensemble by name or folder; importing andiflow does not import PyTorch."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import andiflow
from andiflow.cli import main
from andiflow.errors import InputFileError, ModelFileError
from andiflow.results import columns
from andiflow.tasks import MODELS


@pytest.fixture
def tracks(rng):
    rows = [
        (p, t, x, y)
        for p, n in ((7, 40), (3, 120), (5, 6))
        for t, (x, y) in enumerate(rng.normal(size=(n, 2)).cumsum(axis=0))
    ]
    return pd.DataFrame(rows, columns=["particle", "frame", "x", "y"])


def test_a_trackpy_dataframe_gives_the_table_of_the_command_line(tmp_path, tracks):
    with pytest.warns(UserWarning, match=r"skipped 1 of 3 particles \(too short: fewer than 10 points\): 5"):
        result = andiflow.predict(tracks)
    assert list(result.columns) == columns(["alpha", "diffusion_model"])  # the default classifies
    assert list(result.columns)[3:-1] == [
        "alpha",
        "alpha_std",
        "alpha_low",
        "alpha_high",
        "model",
        *(f"p_{m}" for m in MODELS),
    ]
    assert result["particle"].tolist() == [3, 5, 7]
    assert result["alpha"].isna().tolist() == [False, True, False] and (result["dim"] == 2).all()
    assert result["model"].isna().tolist() == [False, True, False]
    tracks.to_csv(tmp_path / "tracks.csv", index=False)
    assert main(["predict", str(tmp_path / "tracks.csv"), "-o", str(tmp_path / "out.csv")]) == 0
    from_cli = pd.read_csv(tmp_path / "out.csv")
    np.testing.assert_allclose(from_cli["alpha"], result["alpha"], atol=1e-4)
    np.testing.assert_allclose(from_cli["p_fbm"], result["p_fbm"], atol=1e-4)
    alpha_only = andiflow.predict(tracks, classify=False, warn=print)
    assert list(alpha_only.columns) == columns(["alpha"])
    np.testing.assert_allclose(alpha_only["alpha"], result["alpha"])
    kept = result.dropna(subset=["alpha"])
    assert (kept["alpha_low"] <= kept["alpha"]).all() and (kept["alpha"] <= kept["alpha_high"]).all()


def test_other_column_names_and_errors_name_the_row(tracks):
    renamed = tracks.rename(columns={"particle": "track", "frame": "t", "x": "x_um", "y": "y_um"})
    result = andiflow.predict(renamed, particle="track", frame="t", positions=("x_um", "y_um"), warn=print)
    assert result["alpha"].notna().sum() == 2
    tracks.loc[4, "x"] = np.nan
    assert (
        andiflow.predict(tracks, warn=print)["note"].tolist()[2]
        == "skipped: column 'x' is nan, not a finite number (row 4)"
    )
    with pytest.raises(InputFileError, match="the DataFrame row 4: particle 7: column 'x' is nan"):
        andiflow.predict(tracks, strict=True)


def test_arrays_with_time_first_or_last_give_the_same_alphas(rng):
    walks = [rng.normal(size=(n, 3)).cumsum(axis=0) for n in (30, 200)]
    first = andiflow.predict(walks, interval=None)
    last = andiflow.predict([w.T for w in walks], time_axis=-1, interval=None)
    np.testing.assert_array_equal(first["alpha"], last["alpha"])
    assert first["dim"].tolist() == [3, 3] and first["alpha_low"].isna().all()
    one_d = andiflow.predict([walks[1][:, 0]])
    assert one_d["dim"].tolist() == [1] and one_d["n_points"].tolist() == [200]


def test_a_task1_file_gives_one_row_a_line(tmp_path, rng):
    task = tmp_path / "task1.txt"
    task.write_text("".join(f"{d}.0;" + ";".join(map(str, rng.normal(size=d * 50).cumsum())) + "\n" for d in (2, 1)))
    result = andiflow.predict(task, models=andiflow.load_ensemble("hnu-lstm-cpu"))
    assert result["particle"].tolist() == [1, 2] and result["dim"].tolist() == [2, 1]


def test_load_ensemble_by_name_or_folder_and_an_unknown_name_is_named():
    assert "hnu-lstm-cpu" in andiflow.shipped_ensembles()
    ens = andiflow.load_ensemble("hnu-lstm-cpu")
    assert ens.manifest["name"] == "hnu-lstm-cpu"
    with pytest.raises(ModelFileError, match="no-such: neither a shipped ensemble"):
        andiflow.load_ensemble("no-such")


def test_importing_andiflow_imports_no_torch():
    code = "import sys, andiflow; andiflow.load_ensemble(); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_an_array_with_nan_is_skipped_or_named_when_strict(rng):
    walks = [rng.normal(size=(40, 2)).cumsum(axis=0) for _ in range(2)]
    walks[1][5, 0] = np.nan
    result = andiflow.predict(walks, warn=print)
    assert result["alpha"].isna().tolist() == [False, True]
    with pytest.raises(InputFileError, match="the trajectories: particle 1: holds a value that is not a finite"):
        andiflow.predict(walks, strict=True)


def test_an_array_of_more_than_three_axes_is_named_with_the_time_axis(rng):
    walk = rng.normal(size=(4, 30)).cumsum(axis=1)  # [dim, T] given as if time were first
    with pytest.raises(InputFileError, match=r"trajectory 0: 30 axes; expected 1 to 3 .*time_axis=-1"):
        andiflow.predict([walk])
    assert andiflow.predict([walk[:3]], time_axis=-1, interval=None)["alpha"].notna().all()


def test_an_ensembles_face_gives_finished_alpha_intervals_and_probabilities(rng):
    ens = andiflow.load_ensemble()
    walks = [rng.normal(size=(d, 40)).cumsum(axis=1) for d in (1, 2, 3)]
    est = ens.estimate(walks, level=0.9)
    np.testing.assert_allclose(ens.predict(walks), est["alpha"])
    low, high = ens.predict_interval(walks, 0.9)
    np.testing.assert_allclose(low, est["low"]) and np.testing.assert_allclose(high, est["high"])
    p = ens.predict_proba(walks)
    np.testing.assert_allclose(p.sum(axis=1), 1) and np.testing.assert_allclose(p[:, 2], est["p_fbm"])
