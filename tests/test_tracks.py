import numpy as np
import pandas as pd
import pytest

from andiflow.andi_io import InputFileError
from andiflow.tracks import read_tracks


def _write(path, rows, columns=("particle", "frame", "x", "y")):
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_particles_sorted_and_frames_sorted_within_each(tmp_path):
    path = _write(tmp_path / "t.csv", [(7, 2, 2.0, 20.0), (3, 0, 0.5, 5.0), (7, 0, 0.0, 0.0), (7, 1, 1.0, 10.0)])
    tracks = read_tracks(path)
    assert tracks.particles == [3, 7]
    np.testing.assert_array_equal(tracks.trajectories[1], [[0, 1, 2], [0, 10, 20]])
    assert tracks.trajectories[0].shape == (2, 1) and tracks.gaps == []


def test_dimension_from_the_columns_present(tmp_path):
    path = _write(tmp_path / "t.csv", [(1, 0, 0.0, 1.0, 2.0), (1, 1, 1.0, 1.0, 2.0)],
                  ("particle", "frame", "x", "y", "z"))
    assert read_tracks(path).trajectories[0].shape == (3, 2)
    path = _write(tmp_path / "one.csv", [(1, 0, 0.0), (1, 1, 1.0)], ("particle", "frame", "x"))
    assert read_tracks(path).trajectories[0].shape == (1, 2)


def test_gaps_are_reported(tmp_path):
    path = _write(tmp_path / "t.csv", [(1, 0, 0, 0), (1, 1, 1, 1), (1, 5, 2, 2), (2, 0, 0, 0), (2, 1, 1, 1)])
    tracks = read_tracks(path)
    assert tracks.gaps == [1]
    assert tracks.trajectories[0].shape == (2, 3)


def test_column_names_can_be_given(tmp_path):
    path = _write(tmp_path / "t.csv", [(1, 0, 0.0, 1.0)], ("track_id", "t", "X", "Y"))
    tracks = read_tracks(path, particle="track_id", frame="t", positions=("X", "Y"))
    assert tracks.trajectories[0].shape == (2, 1)


@pytest.mark.parametrize("rows, columns, message", [
    ([(1, 0, 0.0)], ("id", "frame", "x"), ": no column 'particle'"),
    ([(1, 0, 0.0)], ("particle", "time", "x"), ": no column 'frame'"),
    ([(1, 0, 0.0)], ("particle", "frame", "pos"), ": no column 'x'"),
    ([(1, 0, 0.0, 1.0), (1, 1, np.nan, 1.0)], ("particle", "frame", "x", "y"), ":3: column 'x' is nan"),
    ([(1, 0, 0.0, 1.0), (1, 0, 2.0, 1.0)], ("particle", "frame", "x", "y"), ":3: particle 1 has frame 0 twice"),
])
def test_bad_tables_name_file_row_and_column(tmp_path, rows, columns, message):
    path = _write(tmp_path / "bad.csv", rows, columns)
    with pytest.raises(InputFileError, match="bad.csv" + message):
        read_tracks(path)


def test_empty_and_missing(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputFileError, match="empty.csv: not a readable CSV"):
        read_tracks(tmp_path / "empty.csv")
    with pytest.raises(InputFileError, match="nope.csv: no such file"):
        read_tracks(tmp_path / "nope.csv")
