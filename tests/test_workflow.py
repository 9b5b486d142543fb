"""The whole DAG on a micro config, in a copy of the workflow as a user's clone would have it; the
plans for one length and for the paper config; the between-workflow cache of shards."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def workflow_copy(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Snakefile", path)
    for folder in ("workflow", "config", "envs", "profiles"):
        shutil.copytree(REPO / folder, path / folder)  # follows the schema's symlink
    shutil.copy(REPO / "tests" / "micro.yaml", path)
    return path


def snakemake(workdir, *args, env=None, timeout=300):
    run = subprocess.run(
        ["snakemake", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    run.output = run.stdout + run.stderr
    return run


def planned_jobs(run) -> dict:
    """Job counts from the 'Job stats' table of a dry run."""
    lines = run.output.splitlines()
    if "Job stats:" not in lines:
        return {}
    counts = {}
    for line in lines[lines.index("Job stats:") + 3 :]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A workflow copy on which the micro config has run to the end."""
    workdir = workflow_copy(tmp_path_factory.mktemp("micro"))
    run = snakemake(
        workdir, "--cores", "2", "--configfile", "micro.yaml", timeout=900
    )  # minutes; slow beside other jobs
    assert run.returncode == 0, run.output[-3000:]
    (workdir / "run.log").write_text(run.output)
    return workdir


def test_whole_workflow_on_micro_config(finished):
    results = finished / "results"
    for length in (10, 20):
        for fold in (0, 1):
            assert (results / f"models/L{length}/fold{fold}.pt").is_file()
            assert (results / f"models/L{length}/fold{fold}.csv").read_text().startswith("epoch,lr,samples,valid_loss")
            assert not (results / f"models/L{length}/fold{fold}.resume.pt").exists()
    assert len(list((results / "shards").glob("L*/shard*.h5"))) == 4  # 1D, for both tasks
    for dim in (2, 3):  # for alpha's networks and the model task's classifiers of each
        assert len(list((results / f"shards/{dim}D").glob("L*/shard*.h5"))) == 4
    scale = json.loads((results / "calibrate/scale.json").read_text())
    curve = scale["curve"]
    assert scale["mae_after"] == pytest.approx(min(curve["mae"]), abs=1e-6) and scale["n"] == 40
    best = [s for s, mae in zip(curve["scale"], curve["mae"]) if mae == min(curve["mae"])]
    assert min(abs(scale["scale"] - s) for s in best) < 1e-6  # the lowest MAE of its own curve
    predictions = (results / "predictions/testset.txt").read_text().splitlines()
    assert len(predictions) == 30 and [p[0] for p in predictions[::10]] == ["1", "2", "3"]
    assert all(len(p.split(";")) == 5 for p in predictions)  # dim;alpha;alpha_std;low;high
    evaluation = json.loads((results / "evaluation/testset.json").read_text())
    assert set(evaluation["model"]["by_dim"]) == {"1", "2", "3"}
    assert {"shipped", "constant", "tamsd", "intervals"} <= set(evaluation)
    manifest = json.loads((results / "ensemble/manifest.json").read_text())
    members = [(m["task"], m.get("axes"), m["length"], m["fold"]) for m in manifest["members"]]
    tasks = [("alpha", None), ("alpha", 2), ("alpha", 3), ("model", 1), ("model", 2), ("model", 3)]
    assert members == [(task, axes, L, k) for task, axes in tasks for L in (10, 20) for k in (0, 1)]
    assert manifest["scale"] == scale["scale"] and manifest["intervals"]["level"] == 0.9
    assert {m["training"]["trained_on"] for m in manifest["members"]} == {"cpu"}
    assert manifest["settings"]["tasks"] == ["alpha", "model"] and manifest["settings"]["alpha_dims"] == [1, 2, 3]
    temperature = json.loads((results / "calibrate/temperature.json").read_text())
    assert manifest["temperature"] == {d: temperature[d]["temperature"] for d in ("1", "2", "3")}
    assert all(t["nll_after"] <= t["nll_before"] for t in temperature.values())
    task2 = (results / "predictions/testset.task2.txt").read_text().splitlines()
    assert len(task2) == 30 and all(len(line.split(";")) == 6 for line in task2)
    classified = json.loads((results / "evaluation/testset.model.json").read_text())
    assert classified["n"] == 30 and set(classified["by_dim"]) == {"1", "2", "3"} and "ece" in classified
    assert (results / "report/testset_confusion.png").stat().st_size > 0
    card = (results / "ensemble/MODEL_CARD.md").read_text()
    assert "| alpha | 20 | 1 |" in card and "| alpha 3D | 20 | 1 |" in card and "| model 3D | 20 | 1 |" in card
    assert f"micro-F1 {classified['f1_micro']:.4f}" in card and "## Diffusion model (Task 2)" in card
    log = (finished / "run.log").read_text()
    assert "MAE of results/predictions/testset.txt" in log and "micro-F1" in log
    assert "Nothing to be done" in snakemake(finished, "--configfile", "micro.yaml", "-n").output


def test_editing_rule_code_does_not_retrain(finished):
    train_rule = finished / "workflow/rules/train.smk"
    original = train_rule.read_text()
    train_rule.write_text(original.replace("> {log} 2>&1", " > {log} 2>&1"))
    try:
        assert "Nothing to be done" in snakemake(finished, "--configfile", "micro.yaml", "-n").output
    finally:
        train_rule.write_text(original)


def test_retrain_one_length_alone(finished):
    run = snakemake(
        finished,
        "results/models/L20/fold0.pt",
        "results/models/L20/fold1.pt",
        "--forcerun",
        "train",
        "--configfile",
        "micro.yaml",
        "-n",
    )
    assert planned_jobs(run) == {"train": 2}, run.output[-2000:]
    assert "L10" not in run.stdout


def test_one_model_builds_only_its_length(tmp_path):
    workdir = workflow_copy(tmp_path)
    run = snakemake(workdir, "results/models/L20/fold0.pt", "--configfile", "micro.yaml", "-n")
    assert run.returncode == 0, run.output[-2000:]
    assert planned_jobs(run) == {"generate": 2, "train": 1}
    assert "L10" not in run.stdout


def test_paper_config_plans_the_full_method(tmp_path):
    workdir = workflow_copy(tmp_path)
    run = snakemake(workdir, "-n", "--configfile", "config/paper.yaml")
    assert run.returncode == 0, run.output[-3000:]
    counts = planned_jobs(run)
    assert counts["train"] == 43 * 3
    assert counts["generate"] == 1115
    assert counts["calibrate"] == counts["external_set"] == counts["predict"] == counts["ensemble"] == 1
    assert "intervals" not in counts and "predict_shipped" not in counts  # beyond HNU: off in the paper config
    assert "--init" not in run.output
    (workdir / "five.yaml").write_text("train: {folds_used: [0, 1, 2, 3, 4]}\n")
    five = snakemake(workdir, "-n", "--configfile", "config/paper.yaml", "five.yaml")
    assert planned_jobs(five)["train"] == 43 * 5, five.output[-2000:]


def test_the_model_task_can_average_fewer_folds(tmp_path):
    workdir = workflow_copy(tmp_path)
    (workdir / "one.yaml").write_text("model_folds: [0]\n")
    both = planned_jobs(snakemake(workdir, "--configfile", "micro.yaml", "-n"))
    one = snakemake(workdir, "--configfile", "micro.yaml", "one.yaml", "-n")
    assert one.returncode == 0, one.output[-2000:]
    assert 2 * planned_jobs(one)["train_classifier"] == both["train_classifier"]
    assert planned_jobs(one)["train"] == both["train"]
    assert "fold1.pt" in one.stdout and "/model/1D/L10/fold1.pt" not in one.stdout


def generated(workdir) -> int:
    """Shards the andiflow command itself wrote (it logs a line per shard; a cache hit logs nothing)."""
    return sum(1 for log in (workdir / "results/logs/generate").glob("*.log") if log.read_text().strip())


def test_shards_are_reused_between_workflows(tmp_path):
    cache = {"SNAKEMAKE_OUTPUT_CACHE": str(tmp_path / "cache")}
    (tmp_path / "cache").mkdir()
    targets = ["results/shards/L10/shard0.h5", "results/shards/L10/shard1.h5"]
    first = workflow_copy(tmp_path / "first")
    run = snakemake(first, *targets, "--cache", "--cores", "2", "--configfile", "micro.yaml", env=cache)
    assert run.returncode == 0, run.output[-3000:]
    assert generated(first) == 2

    second = workflow_copy(tmp_path / "second")
    run = snakemake(second, *targets, "--cache", "--cores", "2", "--configfile", "micro.yaml", env=cache)
    assert run.returncode == 0, run.output[-3000:]
    assert generated(second) == 0, "nothing may be generated again"
    for target in targets:
        assert f"Symlinking output file {target} from cache" in run.output
        assert (second / target).read_bytes() == (first / target).read_bytes()

    reseeded = workflow_copy(tmp_path / "reseeded")
    run = snakemake(
        reseeded, *targets, "--cache", "--cores", "2", "--configfile", "micro.yaml", "--config", "seed=7", env=cache
    )
    assert run.returncode == 0, run.output[-3000:]
    assert generated(reseeded) == 2, "another seed generates anew"


def test_report_names_every_figure(finished):
    run = snakemake(finished, "--configfile", "micro.yaml", "--report", "report.html")
    assert run.returncode == 0, run.output[-3000:]
    html = (finished / "report.html").read_text()
    for figure in (
        "training_curves.png",
        "best_mae_by_length.png",
        "calibration.png",
        "testset_predicted_vs_true.png",
        "testset_mae_by_length.png",
        "testset_mae_by_model.png",
        "testset_confusion.png",
    ):
        assert figure in html, figure


def test_workflow_predicts_a_table_of_tracks(finished):
    rows = ["particle,frame,x,y"] + [
        f"{p},{f},{0.1 * f * (p + 1)},{(-1) ** f * 0.3}" for p in range(3) for f in range(25)
    ]
    (finished / "tracks.csv").write_text("\n".join(rows) + "\n")
    (finished / "tracks.yaml").write_text("infer: {inputs: {mine: {trajectories: tracks.csv}}}\n")
    run = snakemake(
        finished, "results/predictions/mine.csv", "--cores", "1", "--configfile", "micro.yaml", "tracks.yaml"
    )
    assert run.returncode == 0, run.output[-3000:]
    table = (finished / "results/predictions/mine.csv").read_text().splitlines()
    header = "particle,dim,n_points,alpha,alpha_std,alpha_low,alpha_high,model,p_attm,p_ctrw,p_fbm,p_lw,p_sbm,note"
    assert table[0] == header and len(table) == 4  # the micro config trains the model task too


@pytest.mark.parametrize(
    "mode, target, planned",
    [
        ("chain", "L30", {"generate": 5, "train": 3}),  # L30 from L20 from L10
        (20, "L10", {"generate": 4, "train": 2}),  # the star: L10 from the base L20
        ("chain", "3D/L30", {"generate_axes": 5, "train_axes": 3}),  # alpha's 3D networks: their own chain
    ],
)
def test_warm_start_puts_the_source_model_in_the_plan(tmp_path, mode, target, planned):
    workdir = workflow_copy(tmp_path)
    (workdir / "warm.yaml").write_text(
        f"data: {{lengths: [[10, 200], [20, 150], [30, 100]]}}\ntrain: {{warm_start: {mode}}}\n"
    )
    run = snakemake(workdir, f"results/models/{target}/fold0.pt", "--configfile", "micro.yaml", "warm.yaml", "-n", "-p")
    assert run.returncode == 0, run.output[-2000:]
    assert planned_jobs(run) == planned
    source = f"results/models/{target.split('L')[0]}L20/fold0.pt"
    assert f"--init {source} --fold 0 -o results/models/{target}/fold0.pt" in run.output


@pytest.mark.parametrize(
    "setting, message",
    [
        ("train: {folds_used: [0, 5]}", "train.folds_used: fold 5 is outside 0..4"),
        ("model_folds: [5]", "model_folds: fold 5 is outside 0..4"),
        ("testset: {min_length: 5}", "testset.min_length: 5 is below the shortest trained length (10"),
        ("infer: {clip: [2.0, 0.05]}", "infer.clip: low 2.0 is not below high 0.05"),
        ("train: {warm_start: 15}", "train.warm_start: length 15 is not one of data.lengths"),
    ],
)
def test_impossible_configs_fail_when_parsed(tmp_path, setting, message):
    workdir = workflow_copy(tmp_path)
    (workdir / "bad.yaml").write_text(setting + "\n")
    run = snakemake(workdir, "--configfile", "micro.yaml", "bad.yaml", "-n")
    assert run.returncode != 0 and message in run.output, run.output[-2000:]


def test_memory_knobs_and_code_versions_rerun_what_they_should(finished):
    knobs = finished / "knobs.yaml"
    knobs.write_text("infer: {batch_values: 1000}\ndata: {shard_size: 50}\n")
    run = snakemake(finished, "--configfile", "micro.yaml", "knobs.yaml", "-n")
    assert "testset" not in planned_jobs(run) and "external_set" not in planned_jobs(run), run.output[-2000:]
    assert planned_jobs(run)["train"] == 4  # the shards changed; not because of batch_values
    knobs.write_text("infer: {batch_values: 1000}\n")
    assert "train" not in planned_jobs(snakemake(finished, "--configfile", "micro.yaml", "knobs.yaml", "-n"))
    common = finished / "workflow/rules/train.smk"
    original = common.read_text()
    common.write_text(original.replace("trainer_version=TRAINER_VERSION", "trainer_version=TRAINER_VERSION + 1"))
    try:
        assert planned_jobs(snakemake(finished, "--configfile", "micro.yaml", "-n"))["train"] == 4
    finally:
        common.write_text(original)


def test_interval_level_scale_grid_and_other_kinds_rerun_no_set_and_no_training(finished):
    edits = finished / "edits.yaml"
    edits.write_text(
        "intervals: {level: 0.8}\ncalibrate: {scale_grid: {start: 0.95, stop: 1.05, step: 0.001}}\n"
        "model: {convlstm: {block: 8}}\n"
    )
    planned = planned_jobs(snakemake(finished, "--configfile", "micro.yaml", "edits.yaml", "-n"))
    assert {"external_set", "testset", "train", "generate"}.isdisjoint(planned), planned
    assert planned["calibrate"] == planned["intervals"] == 1


def test_the_second_ensembles_settings_run_through_the_workflow(tmp_path):
    """convlstm with the distribution output, the cosine schedule, chain warm start, the whole-trajectory
    rule: trained, exported to ONNX, calibrated and used to predict, on the micro config."""
    workdir = workflow_copy(tmp_path)
    (workdir / "second.yaml").write_text(
        "model: {kind: convlstm, output: distribution, hidden_size: 8, num_layers: 2, convlstm: {features: 8}}\n"
        "train: {schedule: cosine, max_epochs: 2, warm_start: chain, folds_used: [0]}\n"
        "infer: {windows: whole}\nevaluate: {compare_shipped: false}\n"
    )
    run = snakemake(workdir, "--cores", "2", "--configfile", "micro.yaml", "second.yaml", timeout=900)
    assert run.returncode == 0, run.output[-3000:]
    manifest = json.loads((workdir / "results/ensemble/manifest.json").read_text())
    assert manifest["windows"] == "whole" and manifest["settings"]["model"]["kind"] == "convlstm"
    assert [m["training"]["warm_start"] for m in manifest["members"]][1]["length"] == 10
    assert all((workdir / "results/ensemble" / m["onnx"]).is_file() for m in manifest["members"])
    history = (workdir / "results/models/L20/fold0.csv").read_text().splitlines()
    assert [row.split(",")[1] for row in history[1:]] == ["0.001", "0.0005"]  # cosine: 1e-3, then half
    assert len((workdir / "results/predictions/testset.txt").read_text().splitlines()) == 30
