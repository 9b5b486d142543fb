import json

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assemble, network

from andiflow.andi_io import read_trajectories
from andiflow.cli import main
from andiflow.ensemble import Ensemble
from andiflow.errors import ModelFileError
from andiflow.manifest import read_manifest
from andiflow.tasks import MODELS


@pytest.fixture
def models(tmp_path):
    """A random 2-length, 2-fold ensemble with a scale and an interval table: enough to exercise predict
    end to end."""
    settings = {"kind": "lstm", "hidden_size": 8, "num_layers": 3, "dropout": 0.2}
    folder = tmp_path / "models"
    for length in (10, 20):
        for fold in (0, 1):
            network(folder, "alpha", 1, length, fold, settings)
    residuals = list(np.linspace(-0.5, 0.5, 99))
    table = {
        "length_edges": [10, 1000],
        "spread_bins": 1,
        "level": 0.9,
        "spread_edges": {f"{d}|10-999": [] for d in (1, 2, 3)},
        "residuals": {f"{d}|10-999|0": residuals for d in (1, 2, 3)},
    }
    assemble(folder, name="random", intervals=table)
    return folder


def test_predict_writes_one_line_per_trajectory(tmp_path, models, rng):
    task = tmp_path / "task1.txt"
    task.write_text(
        "1;"
        + ";".join(map(str, rng.normal(size=15)))
        + "\r\n"
        + "3.0;"
        + ";".join(map(str, rng.normal(size=3 * 25)))
        + "\r\n"
    )
    out = tmp_path / "pred.txt"
    assert main(["predict", str(task), "-o", str(out), "--models", str(models), "--scale", "1.011"]) == 0
    lines = out.read_text().splitlines()
    assert [line.split(";")[0] for line in lines] == ["1", "3"]
    expected = Ensemble.load(models).estimate(read_trajectories(task), scale=1.011)["alpha"]
    np.testing.assert_allclose([float(line.split(";")[1]) for line in lines], expected, atol=5e-5)


@pytest.mark.parametrize(
    "text, message",
    [
        ("1;0;1;x;3;4;5;6;7;8;9;10\n", "task1.txt:1: field 4 is not a number"),
        ("1;" + "1;" * 10 + "nan\n", "task1.txt:1: field 12 is 'nan'"),
        ("1;" + "1;" * 10 + "inf\n", "task1.txt:1: field 12 is 'inf'"),
        ("5;" + "1;" * 10 + "1\n", "task1.txt:1: dimension must be 1, 2 or 3"),
        ("2;" + "1;" * 20 + "1\n", "task1.txt:1: 21 coordinates cannot be split into 2"),
        ("1;" + "1;2;" * 5 + "1\n1;1;2;3\n", "task1.txt: particle 2: too short: fewer than 10 points"),
        ("", "task1.txt: the file is empty"),
        (None, "task1.txt: no such file"),
    ],
)
def test_bad_input_with_strict_exits_with_a_message_and_writes_nothing(tmp_path, models, capsys, text, message):
    task = tmp_path / "task1.txt"
    if text is not None:
        task.write_text(text)
    out = tmp_path / "pred.txt"
    assert main(["predict", str(task), "-o", str(out), "--models", str(models), "--scale", "1", "--strict"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".pred.txt*"))


def test_a_bad_task1_line_gets_an_empty_alpha_and_the_others_are_predicted(tmp_path, models, rng, capsys):
    good = ";".join(map(str, rng.normal(size=24).cumsum()))
    lines = [f"1;{good}", "1;0;1;x;3;4;5;6;7;8;9;10", "1;1;2;3", "", f"2;{good}", "1;" + ";".join(["2"] * 12)]
    task = tmp_path / "task1.txt"
    task.write_text("\n".join(lines) + "\n")
    out = tmp_path / "pred.txt"
    assert main(["predict", str(task), "-o", str(out), "--models", str(models), "--interval", "0.9"]) == 0
    rows = [line.split(";") for line in out.read_text().splitlines()]
    assert [r[0] for r in rows] == ["1", "1", "1", "", "2", "1"] and all(len(r) == 4 for r in rows)
    assert [r[1] != "" for r in rows] == [True, False, False, False, True, False]
    err = capsys.readouterr().err
    assert "skipped 1 of 6 particles (field 4 is not a number: 'x'): 2" in err
    assert "skipped 1 of 6 particles (positions never move): 6" in err and "(too short: fewer than 10 points): 3" in err


def test_evaluate_reports_overall_per_dim_length_model(tmp_path, capsys):
    (tmp_path / "task1.txt").write_text("1;" + ";".join(["0", "1"] * 10) + "\n2;" + ";".join(["0", "1"] * 30) + "\n")
    (tmp_path / "ref1.txt").write_text("1;0.50;fbm\n2;1.50;lw\n")
    (tmp_path / "pred.txt").write_text("1;0.60\n2;1.30\n")
    out = tmp_path / "ev.json"
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "pred.txt"),
                str(tmp_path / "ref1.txt"),
                "--trajectories",
                str(tmp_path / "task1.txt"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["model"]["mae"] == pytest.approx(0.15)
    assert result["model"]["by_dim"]["2"]["mae"] == pytest.approx(0.2)
    assert set(result["model"]["by_length"]) == {"10-49"}
    assert result["model"]["by_model"]["fbm"]["mae"] == pytest.approx(0.1)
    assert {"constant", "tamsd"} <= set(result)
    assert "andiflow" in capsys.readouterr().out


def test_evaluate_refuses_misaligned_files(tmp_path, capsys):
    (tmp_path / "ref1.txt").write_text("1;0.50\n2;1.50\n")
    (tmp_path / "pred.txt").write_text("1;0.60\n")
    assert main(["evaluate", str(tmp_path / "pred.txt"), str(tmp_path / "ref1.txt")]) == 2
    assert "do not line up" in capsys.readouterr().err


def test_predict_a_table_of_tracks(tmp_path, models, rng, capsys):
    rows = []
    for pid, (n, dims) in enumerate([(30, 2), (5, 2), (12, 2)]):
        frames = np.arange(n) if pid != 2 else np.r_[0:6, 8:14]
        rows += [(pid, f, *rng.normal(size=dims)) for f in frames]
    table = tmp_path / "tracks.csv"
    pd.DataFrame(rows, columns=["particle", "frame", "x", "y"]).sample(frac=1, random_state=1).to_csv(
        table, index=False
    )
    out = tmp_path / "alphas.csv"
    assert main(["predict", str(table), "-o", str(out), "--models", str(models), "--scale", "1"]) == 0
    result = pd.read_csv(out)
    assert list(result.columns) == [
        "particle",
        "dim",
        "n_points",
        "alpha",
        "alpha_std",
        "alpha_low",
        "alpha_high",
        "note",
    ]
    assert (result["alpha_low"].dropna() <= result["alpha"].dropna()).all()
    assert result["n_points"].tolist() == [30, 5, 12] and set(result["dim"]) == {2}
    assert result["alpha"].notna().tolist() == [True, False, True]
    err = capsys.readouterr().err
    assert "frames missing within particles 2" in err
    assert "skipped 1 of 3 particles (too short: fewer than 10 points): 1" in err
    assert result.loc[1, "note"].startswith("skipped")


def test_evaluate_ranks_errors_by_spread(tmp_path, capsys):
    (tmp_path / "ref1.txt").write_text("".join(f"1;{a:.2f}\n" for a in np.linspace(0.1, 1.9, 20)))
    true = np.linspace(0.1, 1.9, 20)
    errors = np.linspace(0.0, 0.5, 20)
    (tmp_path / "pred.txt").write_text("".join(f"1;{t + e:.4f};{e:.4f}\n" for t, e in zip(true, errors)))
    assert (
        main(["evaluate", str(tmp_path / "pred.txt"), str(tmp_path / "ref1.txt"), "-o", str(tmp_path / "e.json")]) == 0
    )
    u = json.loads((tmp_path / "e.json").read_text())["uncertainty"]
    assert u["spearman"] > 0.99 and u["mae_most_certain"] < u["mae_least_certain"]
    assert "Spearman" in capsys.readouterr().out


def test_predict_with_intervals(tmp_path, models, rng):
    task = tmp_path / "task1.txt"
    task.write_text("".join("2;" + ";".join(map(str, rng.normal(size=2 * 30))) + "\n" for _ in range(3)))
    out = tmp_path / "pred.txt"
    assert main(["predict", str(task), "-o", str(out), "--models", str(models), "--with-std", "--interval", "0.9"]) == 0
    for line in out.read_text().splitlines():
        dim, alpha, std, low, high = map(float, line.split(";"))
        assert dim == 2 and low <= alpha <= high
        r = 0.5 - 4 / 98  # the 5th and 95th of 99 residuals: floor/ceil of (n + 1)(1 -/+ 0.9) / 2
        assert high - low == pytest.approx(min(alpha + r, 2) - max(alpha - r, 0.05), abs=2e-4)


def test_a_particle_that_never_moves_gets_no_alpha_and_the_reason(tmp_path, models, rng, capsys):
    rows = [(0, f, *rng.normal(size=2)) for f in range(20)] + [(1, f, 3.0, 4.0) for f in range(20)]
    table = tmp_path / "tracks.csv"
    pd.DataFrame(rows, columns=["particle", "frame", "x", "y"]).to_csv(table, index=False)
    out = tmp_path / "alphas.csv"
    assert main(["predict", str(table), "-o", str(out), "--models", str(models)]) == 0
    result = pd.read_csv(out)
    assert result["alpha"].notna().tolist() == [True, False]
    assert result.loc[1, "note"] == "skipped: positions never move"
    assert "skipped 1 of 2 particles (positions never move): 1" in capsys.readouterr().err


def test_the_device_and_threads_are_honoured(tmp_path, models, rng, capsys):
    task = tmp_path / "task1.txt"
    task.write_text("1;" + ";".join(map(str, rng.normal(size=30).cumsum())) + "\n")
    torch_run = ["predict", str(task), "--models", str(models), "--backend", "torch"]
    assert main([*torch_run, "--threads", "1"]) == 0
    assert torch.get_num_threads() == 1
    if not torch.cuda.is_available():
        assert main([*torch_run, "--device", "cuda"]) == 2
        assert "device cuda was asked for" in capsys.readouterr().err


def test_evaluate_writes_valid_json_when_every_spread_is_equal(tmp_path):
    (tmp_path / "ref1.txt").write_text("1;0.50\n1;1.50\n1;1.00\n")
    (tmp_path / "pred.txt").write_text("1;0.60;0.1\n1;1.30;0.1\n1;1.00;0.1\n")
    assert (
        main(["evaluate", str(tmp_path / "pred.txt"), str(tmp_path / "ref1.txt"), "-o", str(tmp_path / "e.json")]) == 0
    )
    assert json.loads((tmp_path / "e.json").read_text())["uncertainty"]["spearman"] is None


def test_evaluate_scores_task2_predictions(tmp_path, capsys):
    ref = tmp_path / "ref1.txt"
    ref.write_text("1;0.50;ctrw\n2;1.20;lw\n3;1.00;fbm\n1;0.30;attm\n")
    pred = tmp_path / "task2.txt"
    # right, right (lw), wrong (fbm taken for sbm), right; confidences 0.9, 0.6, 0.8, 0.7
    pred.write_text("1;0.05;0.9;0.05;0;0\n2;0.1;0.1;0.1;0.6;0.1\n3;0;0;0.2;0;0.8\n1;0.7;0.1;0.1;0.05;0.05\n")
    out = tmp_path / "ev.json"
    assert main(["evaluate", str(pred), str(ref), "-o", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["f1_micro"] == 0.75 and result["by_dim"]["3"]["f1_micro"] == 0.0
    assert result["confusion"]["fbm"]["sbm"] == 1 and result["confusion"]["lw"]["lw"] == 1
    assert result["f1_by_model"]["fbm"] == 0.0 and result["f1_by_model"]["ctrw"] == 1.0
    # bins of the top probability: 0.6 (right), 0.7 (right), 0.8 (wrong), 0.9 (right)
    assert result["ece"] == pytest.approx((0.4 + 0.3 + 0.8 + 0.1) / 4)
    assert "micro-F1 0.7500" in capsys.readouterr().out
    pred.write_text("1;0.05;0.9;0.05;0;0\n2;0.1;0.1;0.1;0.6;0.1\n3;0;0;0.2;0;0.8\n1;-0.1;0.1;0.1;0.05;0.05\n")
    assert main(["evaluate", str(pred), str(ref)]) != 0
    assert "task2.txt:4: model probabilities must be non-negative" in capsys.readouterr().err


@pytest.fixture
def classifying(tmp_path, models):
    """The random ensemble of `models` with members of the diffusion_model task beside its alpha members:
    1D, 2D and 3D classifiers."""
    for dim in (1, 2, 3):
        settings = {"kind": "convlstm", "features": 4, "block": 2, "hidden_size": 8, "num_layers": 1, "dropout": 0.0}
        settings.update(output="classes", classes=list(MODELS), **({"axes": dim} if dim > 1 else {}))
        for length in (10, 20):
            for fold in (0, 1):
                network(models, "diffusion_model", dim, length, fold, settings)
    assemble(models, name="both", intervals=read_manifest(models)[0]["intervals"])
    return models


def test_predict_task_diffusion_model_writes_task2_lines_and_tables_get_model_columns(tmp_path, classifying, rng):
    task = tmp_path / "task1.txt"
    x = rng.normal(size=15)
    task.write_text("1;" + ";".join(map(str, x)) + "\n2;1;2\n")
    out = tmp_path / "task2.txt"
    assert main(["predict", str(task), "--task", "diffusion_model", "-o", str(out), "--models", str(classifying)]) == 0
    first, second = out.read_text().splitlines()
    expected = Ensemble.load(classifying).predict_proba([x[None]])[0]
    assert first.split(";")[0] == "1"
    np.testing.assert_allclose([float(v) for v in first.split(";")[1:]], expected, atol=5e-5)
    assert second == "2;;;;;"  # too short: empty fields, as a task1 line without alpha
    table = tmp_path / "tracks.csv"
    pd.DataFrame({"particle": np.repeat([7], 12), "frame": np.arange(12), "x": rng.normal(size=12).cumsum()}).to_csv(
        table, index=False
    )
    out = tmp_path / "alphas.csv"
    assert main(["predict", str(table), "-o", str(out), "--models", str(classifying)]) == 0
    columns = pd.read_csv(out).columns.tolist()
    assert columns[-7:] == ["model", "p_attm", "p_ctrw", "p_fbm", "p_lw", "p_sbm", "note"]


def test_an_ensemble_without_the_task_is_refused(tmp_path, models, rng, capsys):
    task = tmp_path / "task1.txt"
    task.write_text("1;" + ";".join(map(str, rng.normal(size=15))) + "\n")
    assert main(["predict", str(task), "--task", "diffusion_model", "--models", str(models)]) == 2
    assert "has no networks of the diffusion_model task" in capsys.readouterr().err


def test_a_dimension_without_classifiers_is_refused_by_name(tmp_path, classifying, rng):
    manifest = json.loads((classifying / "manifest.json").read_text())
    manifest["members"] = [e for e in manifest["members"] if (e["task"], e["dim"]) != ("diffusion_model", 3)]
    (classifying / "manifest.json").write_text(json.dumps(manifest))
    ens = Ensemble.load(classifying)
    with pytest.raises(ModelFileError, match="has no diffusion_model networks of 3D trajectories"):
        ens.predict_proba([rng.normal(size=(2, 20)), rng.normal(size=(3, 20))])


def test_a_scale_other_than_the_calibrated_one_is_said_to_break_the_intervals(tmp_path, models, rng, capsys):
    task = tmp_path / "task1.txt"
    task.write_text("1;" + ";".join(map(str, rng.normal(size=30).cumsum())) + "\n")
    assert main(["predict", str(task), "--models", str(models), "--interval", "0.9"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["predict", str(task), "--models", str(models), "--interval", "0.9", "--scale", "1.011"]) == 0
    assert "calibrated at its scale 1.0; at scale 1.011 they no longer hold their level 0.9" in capsys.readouterr().err


def test_a_task1_line_read_as_one_dimension_less_is_said(tmp_path, models, rng, capsys):
    x = ";".join(map(str, rng.normal(size=30).cumsum()))
    task = tmp_path / "task1.txt"
    task.write_text(f"2;{x};" + ";".join(["3.5"] * 30) + "\n")
    assert main(["predict", str(task), "--models", str(models)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("2;")  # the line's own dimension
    assert "1 particles predicted as their note says (1: still on y: predicted from x): 1" in captured.err


def test_evaluate_reads_what_predict_wrote_from_a_file_with_bad_and_still_lines(tmp_path, models, rng, capsys):
    walk = ";".join(map(str, rng.normal(size=24).cumsum()))
    lines = [f"1;{walk}", "1;0;1;x;3;4;5;6;7;8;9;10", f"2;{walk};" + ";".join(["3.5"] * 24), f"1;{walk}"]
    task = tmp_path / "task1.txt"
    task.write_text("\n".join(lines) + "\n")
    (tmp_path / "ref1.txt").write_text("1;0.5\n1;1.0\n2;0.7\n1;0.9\n")
    out, report = tmp_path / "pred.txt", tmp_path / "ev.json"
    assert main(["predict", str(task), "-o", str(out), "--models", str(models)]) == 0
    args = ["evaluate", str(out), str(tmp_path / "ref1.txt"), "--trajectories", str(task), "-o", str(report)]
    assert main(args) == 0, capsys.readouterr().err
    result = json.loads(report.read_text())
    assert result["unpredicted"] == {"n": 1, "lines": [2]} and result["model"]["n"] == 3
    assert set(result["model"]["by_dim"]) == {"1", "2"} and "tamsd" in result


def test_evaluate_is_told_the_task_or_recognises_task2_lines(tmp_path, capsys):
    (tmp_path / "ref1.txt").write_text("1;0.50;fbm\n1;1.50;lw\n")
    task2 = tmp_path / "task2.txt"
    task2.write_text("1;0;0;1;0;0\n1;0;0;0;1;0\n")
    assert main(["evaluate", str(task2), str(tmp_path / "ref1.txt")]) == 0
    assert main(["evaluate", str(task2), str(tmp_path / "ref1.txt"), "--task", "diffusion_model"]) == 0
    assert capsys.readouterr().out.count("micro-F1 1.0000") == 2
    assert main(["evaluate", str(task2), str(tmp_path / "ref1.txt"), "--task", "alpha"]) == 2
    assert "task2.txt" in capsys.readouterr().err


@pytest.mark.parametrize("command,option", [("predict", "--position-columns"), ("population", "--precision")])
def test_an_input_file_taken_as_a_column_name_says_where_files_go(tmp_path, capsys, command, option):
    tracks = tmp_path / "tracks.csv"
    tracks.write_text("particle,frame,x,y\n")
    with pytest.raises(SystemExit) as stop:
        main([command, option, "x", "y", str(tracks)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"{str(tracks)!r} is a file, not a column: put the input files before {option}" in err
    assert "or all of them after --" in err
