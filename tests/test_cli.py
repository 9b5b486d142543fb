import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import torch

from andiflow.andi_io import read_trajectories
from andiflow.cli import main
from andiflow.ensemble import Ensemble, assemble
from andiflow.errors import ModelFileError
from andiflow.model import build, save_checkpoint
from andiflow.shards import read_shard
from andiflow.tasks import MODELS

SMALL = json.dumps({"data": {"shard_size": 40}})


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_generate_is_bit_identical_whatever_the_split_into_jobs(tmp_path):
    assert main(["generate", "--length", "10", "--n", "100", "-o", str(tmp_path / "all"), "--settings", SMALL]) == 0
    for shard in (2, 0, 1):
        assert (
            main(
                [
                    "generate",
                    "--length",
                    "10",
                    "--n",
                    "100",
                    "--shard",
                    str(shard),
                    "-o",
                    str(tmp_path / "one"),
                    "--settings",
                    SMALL,
                ]
            )
            == 0
        )
    for shard in range(3):
        name = f"shard{shard}.h5"
        assert _digest(tmp_path / "all" / name) == _digest(tmp_path / "one" / name)
    assert _digest(tmp_path / "all" / "shard0.h5") != _digest(tmp_path / "all" / "shard1.h5")


def test_generate_2d_shards_hold_both_axes_each_z_scored(tmp_path):
    for dim in (1, 2):
        out = tmp_path / f"{dim}D"
        args = ["generate", "--length", "10", "--dim", str(dim), "--n", "40", "-o", str(out)]
        assert main([*args, "--settings", SMALL]) == 0
    arrays, attrs = read_shard(tmp_path / "2D" / "shard0.h5")
    assert arrays["positions"].shape == (40, 2, 10) and attrs["dim"] == 2
    np.testing.assert_allclose(arrays["positions"].std(axis=-1), 1, atol=1e-5)
    one_d, one_d_attrs = read_shard(tmp_path / "1D" / "shard0.h5")
    assert attrs["seed"] != one_d_attrs["seed"]
    assert not np.allclose(one_d["positions"], arrays["positions"][:, 0])


def test_the_interval_set_gains_its_long_tracks(tmp_path):
    section = {"n_per_dim": 4, "max_length": 30, "long_tracks": {"n_per_dim": 2, "max_length": 60}}
    given = json.dumps({"intervals": section})
    assert main(["testset", "--purpose", "intervals", "-o", str(tmp_path), "--settings", given]) == 0
    trajectories = read_trajectories(tmp_path / "task1.txt")
    lengths = np.array([t.shape[1] for t in trajectories])
    assert len(trajectories) == 3 * (4 + 2) and len((tmp_path / "ref1.txt").read_text().splitlines()) == 18
    assert (lengths > 30).sum() == 6 and lengths.max() <= 60 and lengths.min() >= 10
    bad = json.dumps({"intervals": dict(section, long_tracks={"n_per_dim": 2, "max_length": 30})})
    assert main(["testset", "--purpose", "intervals", "-o", str(tmp_path), "--settings", bad]) == 2


@pytest.fixture
def models(tmp_path):
    """A random 2-length, 2-fold ensemble with a scale and an interval table: enough to exercise predict
    end to end."""
    settings = {"kind": "lstm", "hidden_size": 8, "num_layers": 3, "dropout": 0.2}
    files = []
    for length in (10, 20):
        for fold in (0, 1):
            files.append(tmp_path / "trained" / f"L{length}" / f"fold{fold}.pt")
            save_checkpoint(
                files[-1],
                settings,
                build(settings).state_dict(),
                length=length,
                fold=fold,
                epoch=0,
                valid_mae=0.5,
                n_train=1,
            )
    residuals = list(np.linspace(-0.5, 0.5, 99))
    table = {
        "length_edges": [10, 1000],
        "spread_bins": 1,
        "level": 0.9,
        "spread_edges": {f"{d}|10-999": [] for d in (1, 2, 3)},
        "residuals": {f"{d}|10-999|0": residuals for d in (1, 2, 3)},
    }
    assemble(files, tmp_path / "models", name="random", settings={}, command="none", scale=1.0, intervals=table)
    return tmp_path / "models"


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
        ("1;" + "1;2;" * 5 + "1\n1;1;2;3\n", "task1.txt: particle 2: fewer than 10 points"),
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
    assert "skipped 1 of 6 particles (positions never move): 6" in err and "(fewer than 10 points): 3" in err


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
    assert "frames missing within particles 2" in err and "skipped 1 of 3 particles (fewer than 10 points): 1" in err
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


def test_calibrate_with_a_fixed_scale_needs_no_set(tmp_path):
    out = tmp_path / "scale.json"
    assert main(["calibrate", "-o", str(out), "--settings", '{"calibrate": {"scale": 1.011}}']) == 0
    assert json.loads(out.read_text()) == {"scale": 1.011, "source": "config (calibrate.scale)"}


def test_train_refuses_a_fold_outside_the_split(tmp_path, capsys):
    assert main(["generate", "--length", "10", "--n", "50", "-o", str(tmp_path), "--settings", SMALL]) == 0
    assert main(["train", str(tmp_path / "shard0.h5"), "--fold", "5", "-o", str(tmp_path / "m.pt")]) == 2
    assert "fold 5 is outside 0..4" in capsys.readouterr().err
    assert not (tmp_path / "m.pt").exists()


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


def test_the_settings_device_and_threads_are_honoured(tmp_path, models, rng, capsys):
    task = tmp_path / "task1.txt"
    task.write_text("1;" + ";".join(map(str, rng.normal(size=30).cumsum())) + "\n")
    torch_run = ["predict", str(task), "--models", str(models), "--backend", "torch"]
    assert main([*torch_run, "--settings", '{"threads": 1}']) == 0
    assert torch.get_num_threads() == 1
    if not torch.cuda.is_available():
        assert main([*torch_run, "--settings", '{"device": "cuda"}']) == 2
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
    """The random ensemble of `models` with members of the model task beside its alpha members: 1D,
    2D and 3D classifiers."""
    files = sorted((tmp_path / "trained").glob("L*/fold*.pt"))
    for dim in (1, 2, 3):
        settings = {"kind": "convlstm", "features": 4, "block": 2, "hidden_size": 8, "num_layers": 1, "dropout": 0.0}
        settings.update(output="classes", classes=list(MODELS), **({"axes": dim} if dim > 1 else {}))
        for length in (10, 20):
            for fold in (0, 1):
                files.append(tmp_path / "trained" / "model" / f"{dim}D" / f"L{length}" / f"fold{fold}.pt")
                meta = dict(length=length, fold=fold, epoch=0, valid_error=0.5, n_train=1, task="model")
                save_checkpoint(files[-1], settings, build(settings).state_dict(), **meta)
    table = Ensemble.load(models).manifest["intervals"]
    assemble(files, tmp_path / "both", name="both", settings={}, command="none", scale=1.0, intervals=table)
    return tmp_path / "both"


def test_predict_task_model_writes_task2_lines_and_tables_get_model_columns(tmp_path, models, classifying, rng):
    task = tmp_path / "task1.txt"
    x = rng.normal(size=15)
    task.write_text("1;" + ";".join(map(str, x)) + "\n2;1;2\n")
    out = tmp_path / "task2.txt"
    assert main(["predict", str(task), "--task", "model", "-o", str(out), "--models", str(classifying)]) == 0
    first, second = out.read_text().splitlines()
    expected = Ensemble.load(classifying).classify([x[None]])[0]
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
    assert main(["predict", str(task), "--task", "model", "--models", str(models)]) != 0


def test_a_dimension_without_classifiers_is_refused_by_name(tmp_path, classifying, rng):
    manifest = json.loads((classifying / "manifest.json").read_text())
    manifest["members"] = [e for e in manifest["members"] if e.get("axes") != 3]
    (classifying / "manifest.json").write_text(json.dumps(manifest))
    ens = Ensemble.load(classifying)
    with pytest.raises(ModelFileError, match="has no classifiers of 3D trajectories"):
        ens.classify([rng.normal(size=(2, 20)), rng.normal(size=(3, 20))])
