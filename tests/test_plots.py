import pandas as pd
import pytest

from andiflow import plots
from andiflow.errors import InputFileError


def _history(folder, dim, length):
    path = folder / "alpha" / f"{dim}D" / f"L{length}" / "fold0.csv"
    path.parent.mkdir(parents=True)
    pd.DataFrame({"epoch": [0, 1], "valid_mae": [0.5, 0.4]}).to_csv(path, index=False)
    return path


def test_the_training_figure_is_of_one_dimension_of_alpha(tmp_path):
    one = [_history(tmp_path, 1, 10), _history(tmp_path, 1, 20)]
    plots.training(one, tmp_path / "curves.png", tmp_path / "best.png")
    assert (tmp_path / "curves.png").stat().st_size > 0
    with pytest.raises(InputFileError, match=r"alpha networks of \['1', '3'\]D"):
        plots.training([*one, _history(tmp_path, 3, 10)], tmp_path / "c.png", tmp_path / "b.png")
