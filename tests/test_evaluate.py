import numpy as np
import pandas as pd
import pytest

from andiflow import andi_io
from andiflow.errors import InputFileError
from andiflow.evaluate import evaluate, evaluate_models, model_summary, summary, uncertainty_ranking
from andiflow.tasks import MODELS

SETTINGS = dict(constant=1.0, clip=(0.05, 2.0), tamsd_lag_fraction=0.1, length_edges=[10, 50, 1000])


def test_spearman_gives_tied_values_their_average_rank():
    spread = [0.1, 0.1, 0.2, 0.3]  # ranks 1.5 1.5 3 4
    abs_error = [0.1, 0.2, 0.2, 0.4]  # ranks 1 2.5 2.5 4: correlation 3.75 / 4.5
    assert uncertainty_ranking(spread, abs_error)["spearman"] == round(3.75 / 4.5, 4)
    try:
        from scipy.stats import spearmanr
    except ImportError:
        return
    rng = np.random.default_rng(0)
    spread, abs_error = rng.integers(0, 5, 200) / 10, rng.integers(0, 8, 200) / 10
    assert uncertainty_ranking(spread, abs_error)["spearman"] == round(spearmanr(spread, abs_error)[0], 4)


def _predict_writes(path, rows, columns):
    """What `andiflow predict` writes for a task1.txt: its table (None where a line was skipped) through
    write_predictions."""
    table = pd.DataFrame(rows, columns=["dim", "alpha", "alpha_std", "alpha_low", "alpha_high"])
    andi_io.write_predictions(path, table["dim"].astype(float), *(table[c].astype(float) for c in columns))


@pytest.mark.parametrize(
    "columns",
    [
        ["alpha"],
        ["alpha", "alpha_std"],
        ["alpha", "alpha_low", "alpha_high"],
        ["alpha", "alpha_std", "alpha_low", "alpha_high"],
    ],
)
def test_lines_predict_skipped_are_not_scored_and_are_reported(tmp_path, rng, columns):
    ref, pred, task = tmp_path / "ref1.txt", tmp_path / "pred.txt", tmp_path / "task1.txt"
    andi_io.write_reference(ref, [1, 2, 1, 3, 1], [0.5, 1.0, 1.5, 0.8, 0.2])
    andi_io.write_trajectories(task, [rng.normal(size=(d, 20)).cumsum(axis=1) for d in [1, 2, 1, 3, 1]])
    values = [0.6, 0.8, None, 0.5, None]
    dims = [1, 2, None, 3, 1]  # a line whose dimension predict could not read either
    rows = [(d, a, a and 0.1, a and a - 0.2, a and a + 0.2) for d, a in zip(dims, values)]
    _predict_writes(pred, rows, columns)
    assert pred.read_text().splitlines()[2:] == [
        ";" * len(columns),
        "3;0.5000" + ";0.1000" * ("alpha_std" in columns) + ";0.3000;0.7000" * ("alpha_low" in columns),
        "1" + ";" * len(columns),
    ]
    result = evaluate(pred, ref, task, **SETTINGS)
    assert result["model"]["n"] == 3 and result["model"]["mae"] == pytest.approx((0.1 + 0.2 + 0.3) / 3)
    assert result["unpredicted"] == {"n": 2, "lines": [3, 5]}
    assert result["constant"]["n"] == result["tamsd"]["n"] == 3
    assert "2 lines have no prediction and are not scored: 3, 5" in summary(result)


def test_a_fully_predicted_file_reports_no_unpredicted_lines(tmp_path):
    ref, pred = tmp_path / "ref1.txt", tmp_path / "pred.txt"
    andi_io.write_reference(ref, [1, 2], [0.5, 1.0])
    andi_io.write_predictions(pred, [1, 2], [0.6, 0.8])
    result = evaluate(pred, ref, **SETTINGS)
    assert result["unpredicted"] == {"n": 0, "lines": []} and "no prediction" not in summary(result)


def test_at_most_20_unpredicted_line_numbers_are_listed(tmp_path):
    ref, pred = tmp_path / "ref1.txt", tmp_path / "pred.txt"
    andi_io.write_reference(ref, [1] * 30, [0.5] * 30)
    andi_io.write_predictions(pred, [1] * 30, [0.5] + [np.nan] * 29)
    result = evaluate(pred, ref, **SETTINGS)
    assert result["unpredicted"] == {"n": 29, "lines": list(range(2, 22))}
    assert "29 lines have no prediction and are not scored: 2, 3," in summary(result)
    assert ", 21 and 9 more" in summary(result)


def test_a_file_without_any_prediction_is_an_error(tmp_path):
    ref, pred = tmp_path / "ref1.txt", tmp_path / "pred.txt"
    andi_io.write_reference(ref, [1, 2], [0.5, 1.0])
    andi_io.write_predictions(pred, [1, 2], [np.nan, np.nan])
    with pytest.raises(InputFileError, match="pred.txt: no line has a prediction"):
        evaluate(pred, ref, **SETTINGS)


def test_task2_lines_predict_skipped_are_not_scored_and_are_reported(tmp_path):
    ref, pred = tmp_path / "ref1.txt", tmp_path / "task2.txt"
    andi_io.write_reference(ref, [1, 2, 3], [0.5, 1.0, 1.0], ["ctrw", "lw", "fbm"])
    p = np.array([[0.05, 0.9, 0.05, 0, 0], [np.nan] * 5, [0, 0, 0.2, 0, 0.8]])
    andi_io.write_predictions(pred, np.array([1.0, 2.0, 3.0]), *p.T)  # as `andiflow predict --task model`
    assert pred.read_text().splitlines()[1] == "2;;;;;"
    assert andi_io.is_model_predictions(pred)
    result = evaluate_models(pred, ref, length_edges=[10, 1000])
    assert result["n"] == 2 and result["f1_micro"] == 0.5 and result["unpredicted"] == {"n": 1, "lines": [2]}
    assert "1 line has no prediction and is not scored: 2" in model_summary(result)


@pytest.mark.parametrize(
    "text, message",
    [
        ("1;0.5\n2;\n1;x\n", r"pred.txt:3: field 2 is not a number: 'x'"),
        ("1;0.5;0.1\n2;0.4;\n", r"pred.txt:2: field 3 is not a number: ''"),  # a value missing from a prediction
        ("1;0.5\n2;;\n", r"pred.txt:2: expected `dim;alpha\[;alpha_std\]\[;low;high\]` on every line, found 3"),
        ("1;0.5\n4;\n", r"pred.txt:2: dimension must be 1, 2 or 3, found 4"),
        ("1;0.5\nx;\n", r"pred.txt:2: field 1 is not a number: 'x'"),
    ],
)
def test_other_malformed_prediction_lines_name_file_and_line(tmp_path, text, message):
    (tmp_path / "pred.txt").write_text(text)
    with pytest.raises(InputFileError, match=message):
        andi_io.read_predictions(tmp_path / "pred.txt")


def test_task2_malformed_lines_name_file_and_line(tmp_path):
    (tmp_path / "task2.txt").write_text("1;0.2;0.2;0.2;0.2;0.2\n2;0.5;;;;\n")
    with pytest.raises(InputFileError, match=r"task2.txt:2: field 3 is not a number: ''"):
        andi_io.read_model_predictions(tmp_path / "task2.txt")
    assert len(MODELS) == 5


def test_trajectories_that_do_not_line_up_with_the_reference_are_an_error(tmp_path, rng):
    ref, pred, task = tmp_path / "ref1.txt", tmp_path / "pred.txt", tmp_path / "task1.txt"
    andi_io.write_reference(ref, [1, 2], [0.5, 1.0])
    andi_io.write_predictions(pred, [1, 2], [0.6, np.nan])
    andi_io.write_trajectories(task, [rng.normal(size=(1, 20))])
    with pytest.raises(InputFileError, match=r"task1.txt: 1 trajectories do not line up with the 2 trajectories"):
        evaluate(pred, ref, task, **SETTINGS)
