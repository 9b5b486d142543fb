"""The workflow's steps (`andiflow-step`): each writes the paths it is given, from the settings it is
given, and a key it needs and was not given is an error naming it (never HNU's value in its place)."""

import hashlib
import json

import numpy as np
import pytest

from andiflow.andi_io import read_trajectories
from andiflow.settings import resolve
from andiflow.shards import read_shard
from andiflow.steps import main as step

RECIPE = resolve()["data"]
SMALL = json.dumps({"seed": 2020, "data": dict(RECIPE, shard_size=40)})


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_generate_is_bit_identical_whatever_the_order_of_jobs(tmp_path):
    for shard in (2, 0, 1):
        out = tmp_path / f"shard{shard}.h5"
        assert (
            step(
                ["generate", "--length", "10", "--n", "100", "--shard", str(shard), "-o", str(out), "--settings", SMALL]
            )
            == 0
        )
    again = tmp_path / "again.h5"
    assert (
        step(["generate", "--length", "10", "--n", "100", "--shard", "1", "-o", str(again), "--settings", SMALL]) == 0
    )
    assert _digest(again) == _digest(tmp_path / "shard1.h5") != _digest(tmp_path / "shard0.h5")


def test_generate_2d_shards_hold_both_axes_each_z_scored(tmp_path):
    for dim in (1, 2):
        out = tmp_path / f"{dim}D.h5"
        args = ["generate", "--length", "10", "--dim", str(dim), "--n", "40", "--shard", "0", "-o", str(out)]
        assert step([*args, "--settings", SMALL]) == 0
    arrays, attrs = read_shard(tmp_path / "2D.h5")
    assert arrays["positions"].shape == (40, 2, 10) and attrs["dim"] == 2
    np.testing.assert_allclose(arrays["positions"].std(axis=-1), 1, atol=1e-5)
    one_d, one_d_attrs = read_shard(tmp_path / "1D.h5")
    assert attrs["seed"] != one_d_attrs["seed"]
    assert not np.allclose(one_d["positions"], arrays["positions"][:, 0])


def test_generate_segments_shards_are_bit_identical_whatever_the_order_and_hold_labels_per_frame(tmp_path):
    data = {"recipe": "varied", "tracks_per_experiment": 5, "particles": 5}
    given = json.dumps({"seed": 7, "data": {"shard_size": 10}, "segments": {"data": data}})
    for shard in (1, 0):
        args = ["generate-segments", "--length", "40", "--n", "20", "--shard", str(shard)]
        assert step([*args, "-o", str(tmp_path / f"s{shard}.h5"), "--settings", given]) == 0
    again = tmp_path / "again.h5"
    args = ["generate-segments", "--length", "40", "--n", "20", "--shard", "1", "-o", str(again)]
    assert step([*args, "--settings", given]) == 0
    assert _digest(again) == _digest(tmp_path / "s1.h5") != _digest(tmp_path / "s0.h5")
    arrays, attrs = read_shard(again)
    assert attrs["kind"] == "segments" and attrs["recipe"] == "varied" and arrays["K"].shape == (10, 40)
    missing = json.dumps({"seed": 7, "data": {"shard_size": 10}, "segments": {"data": {"recipe": "varied"}}})
    assert step([*args, "--settings", missing]) == 2  # tracks_per_experiment not given: named, not filled in


def test_the_interval_set_gains_its_long_tracks(tmp_path):
    section = {"n_per_dim": 4, "min_length": 10, "max_length": 30, "long_tracks": {"n_per_dim": 2, "max_length": 60}}
    given = json.dumps({"seed": 1, "data": RECIPE, "sets": {"intervals": dict(section, dims=[1, 2, 3])}})
    files = ["--trajectories", str(tmp_path / "task1.txt"), "--reference", str(tmp_path / "ref1.txt")]
    assert step(["held-out-set", "--set", "intervals", *files, "--settings", given]) == 0
    trajectories = read_trajectories(tmp_path / "task1.txt")
    lengths = np.array([t.shape[1] for t in trajectories])
    assert len(trajectories) == 3 * (4 + 2) and len((tmp_path / "ref1.txt").read_text().splitlines()) == 18
    assert (lengths > 30).sum() == 6 and lengths.max() <= 60 and lengths.min() >= 10


def test_calibrate_with_a_fixed_scale_needs_no_set(tmp_path):
    out = tmp_path / "scale.json"
    given = json.dumps({"calibrate": {"scale": 1.011}})
    assert step(["calibrate", "-o", str(out), "--settings", given]) == 0
    assert json.loads(out.read_text()) == {"scale": 1.011, "source": "config (calibrate.scale)"}


@pytest.mark.parametrize(
    "given, missing",
    [
        ({"seed": 2020, "data": {"alphas": RECIPE["alphas"], "shard_size": 40}}, "data.noise_sigmas"),
        ({"data": dict(RECIPE, shard_size=40)}, "seed"),
    ],
)
def test_a_step_given_no_value_for_a_key_it_needs_names_it(tmp_path, capsys, given, missing):
    out = tmp_path / "shard0.h5"
    args = ["generate", "--length", "10", "--n", "40", "--shard", "0", "-o", str(out), "--settings", json.dumps(given)]
    assert step(args) == 2
    assert f"this step was given no value for {missing}" in capsys.readouterr().err
    assert not out.exists()


def test_old_keys_in_settings_name_their_new_place(tmp_path, capsys):
    given = json.dumps({"train": {"folds_used": [0]}})
    assert step(["calibrate", "-o", str(tmp_path / "s.json"), "--settings", given]) == 2
    assert "train.folds_used: this key has moved to tasks.alpha.folds" in capsys.readouterr().err


def test_train_refuses_a_fold_outside_the_split_and_writes_nothing(tmp_path, capsys):
    shard = tmp_path / "shard0.h5"
    assert step(["generate", "--length", "10", "--n", "50", "--shard", "0", "-o", str(shard), "--settings", SMALL]) == 0
    config = resolve({"model": {"hidden_size": 8}, "train": {"n_folds": 2}, "tasks": {"alpha": {"folds": [0]}}})
    given = json.dumps({k: config[k] for k in ("seed", "model", "train")} | {"data": {"alphas": RECIPE["alphas"]}})
    out = tmp_path / "m.pt"
    args = ["train", str(shard), "--task", "alpha", "--fold", "2", "-o", str(out), "--history", str(tmp_path / "m.csv")]
    assert step([*args, "--device", "cpu", "--settings", given]) == 2
    assert "fold 2 is outside 0..1" in capsys.readouterr().err
    assert not out.exists()


def test_a_set_of_tracks_shorter_than_hnus_shortest_length_is_made(tmp_path):
    """A workflow whose shortest trained length is below 10 makes its held-out sets of such tracks."""
    given = json.dumps(
        {
            "seed": 3,
            "data": RECIPE,
            "sets": {"test": {"n_per_dim": 2, "dims": [1, 2], "min_length": 5, "max_length": 8}},
        }
    )
    files = ["--trajectories", str(tmp_path / "task1.txt"), "--reference", str(tmp_path / "ref1.txt")]
    assert step(["held-out-set", "--set", "test", *files, "--settings", given]) == 0
    lengths = [t.shape[1] for t in read_trajectories(tmp_path / "task1.txt")]
    assert len(lengths) == 4 and min(lengths) >= 5 and max(lengths) <= 8
