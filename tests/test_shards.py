import numpy as np
import pytest

from andiflow.shards import ShardError, open_length, read_shard, write_shard


def _arrays(n=5, L=7):
    return dict(
        positions=np.arange(n * L, dtype=np.float32).reshape(n, L),
        alpha=np.ones(n, np.float32),
        model=np.zeros(n, np.int8),
        sigma=np.full(n, 0.5, np.float32),
    )


def test_round_trip(tmp_path):
    write_shard(tmp_path / "s.h5", _arrays(), {"seed": 3})
    arrays, attrs = read_shard(tmp_path / "s.h5")
    np.testing.assert_array_equal(arrays["positions"], _arrays()["positions"])
    assert attrs["seed"] == 3 and attrs["length"] == 7 and attrs["n"] == 5
    assert open_length([tmp_path / "s.h5", tmp_path / "s.h5"])["alpha"].shape == (10,)


def test_truncated_shard_names_file_and_rebuild(tmp_path):
    path = tmp_path / "shard0.h5"
    write_shard(path, _arrays(200, 50), {})
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(ShardError, match=r"shard0.h5: not a readable shard.*rerun-incomplete"):
        read_shard(path)


def test_shards_of_different_lengths_are_refused(tmp_path):
    write_shard(tmp_path / "a.h5", _arrays(5, 7), {})
    write_shard(tmp_path / "b.h5", _arrays(5, 8), {})
    with pytest.raises(ShardError, match="b.h5: holds trajectories of length 8 in 1D, unlike the shards before it"):
        open_length([tmp_path / "a.h5", tmp_path / "b.h5"])


def test_a_3d_shard_keeps_its_axes_and_is_not_mixed_with_1d(tmp_path):
    arrays = dict(_arrays(4, 9), positions=np.random.default_rng(0).normal(size=(4, 3, 9)).astype(np.float32))
    write_shard(tmp_path / "a.h5", arrays, {})
    read, attrs = read_shard(tmp_path / "a.h5")
    assert read["positions"].shape == (4, 3, 9) and attrs["dim"] == 3 and attrs["length"] == 9
    write_shard(tmp_path / "b.h5", _arrays(4, 9), {})
    with pytest.raises(ShardError, match="b.h5: holds trajectories of length 9 in 1D, unlike the shards before it"):
        open_length([tmp_path / "a.h5", tmp_path / "b.h5"])


def test_a_segments_shard_keeps_its_labels_per_frame_and_is_not_mixed_with_trajectories(tmp_path):
    from andiflow.phenom import PhenomRecipe, simulate_phenom

    arrays = simulate_phenom(6, 30, seed=2, recipe=PhenomRecipe("varied", tracks_per_experiment=3))
    write_shard(tmp_path / "s.h5", arrays, {"seed": 2}, kind="segments")
    read, attrs = read_shard(tmp_path / "s.h5")
    assert attrs["kind"] == "segments" and attrs["dim"] == 2 and read["changepoint"].shape == (6, 30)
    for name, values in arrays.items():
        np.testing.assert_array_equal(read[name], values)
    assert open_length([tmp_path / "s.h5", tmp_path / "s.h5"])["state"].shape == (12, 30)
    write_shard(tmp_path / "t.h5", dict(_arrays(6, 30), positions=np.zeros((6, 2, 30), np.float32)), {})
    with pytest.raises(ShardError, match="t.h5: holds trajectories of length 30 in 2D, unlike the shards before"):
        open_length([tmp_path / "s.h5", tmp_path / "t.h5"])
