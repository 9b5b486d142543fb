"""The whole DAG on a micro config, in a copy of the workflow as a user's clone would have it; the
plans for one length and for the paper config; the between-workflow cache of shards."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from andiflow.manifest import sha256
from andiflow.population_net import PRECISION

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
            network = results / f"models/alpha/1D/L{length}/fold{fold}"
            assert network.with_suffix(".pt").is_file() and network.with_suffix(".onnx").is_file()
            assert network.with_suffix(".csv").read_text().startswith("epoch,lr,samples,valid_loss")
            assert not network.with_suffix(".resume.pt").exists()
    for dim in (1, 2, 3):  # for alpha's networks and the diffusion_model task's classifiers of each
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
    members = [(m["task"], m["dim"], m["length"], m["fold"]) for m in manifest["members"]]
    tasks = [(task, dim) for task in ("alpha", "diffusion_model") for dim in (1, 2, 3)]
    assert members == [(task, dim, L, k) for task, dim in tasks for L in (10, 20) for k in (0, 1)]
    assert all((results / "ensemble" / m[key]).is_file() for m in manifest["members"] for key in ("file", "onnx"))
    assert manifest["scale"] == scale["scale"] and manifest["intervals"]["level"] == 0.9
    assert {m["training"]["trained_on"] for m in manifest["members"]} == {"cpu"}
    micro = {"dims": [1, 2, 3], "folds": [0, 1]}
    assert manifest["settings"]["tasks"] == {"alpha": micro, "diffusion_model": micro}
    assert manifest["command"] == "snakemake --cores all --configfile micro.yaml"
    temperature = json.loads((results / "calibrate/temperature.json").read_text())
    assert manifest["temperature"] == {d: temperature[d]["temperature"] for d in ("1", "2", "3")}
    assert all(t["nll_after"] <= t["nll_before"] for t in temperature.values())
    task2 = (results / "predictions/testset.diffusion_model.txt").read_text().splitlines()
    assert len(task2) == 30 and all(len(line.split(";")) == 6 for line in task2)
    classified = json.loads((results / "evaluation/testset.diffusion_model.json").read_text())
    assert classified["n"] == 30 and set(classified["by_dim"]) == {"1", "2", "3"} and "ece" in classified
    assert (results / "report/testset_confusion.png").stat().st_size > 0
    card = (results / "card/MODEL_CARD.md").read_text()
    assert (
        "| alpha 1D | 20 | 1 |" in card
        and "| alpha 3D | 20 | 1 |" in card
        and "| diffusion_model 3D | 20 | 1 |" in card
    )
    assert f"micro-F1 {classified['f1_micro']:.4f}" in card and "## Diffusion model (Task 2)" in card
    population = json.loads((results / "population/network/population.json").read_text())
    assert population["ensemble_sha256"] == sha256(results / "ensemble/manifest.json")
    assert {r["dim"] for r in population["held_out"]} == {2} and "## The population (beyond HNU)" in card
    precision = json.loads((results / "population/network_precision/population_precision.json").read_text())
    assert precision["ensemble_sha256"] == population["ensemble_sha256"] and precision["features"][-1] == PRECISION
    assert precision["settings"]["noise_widths"] == [0.3, 1.1] and "precision" not in population["settings"]
    assert "### Where the localisation precision is known" in card
    assert not list((results / "population/pools").glob("*.npz"))  # the pools are temporary
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
        "results/models/alpha/1D/L20/fold0.pt",
        "results/models/alpha/1D/L20/fold1.pt",
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
    run = snakemake(workdir, "results/models/alpha/1D/L20/fold0.pt", "--configfile", "micro.yaml", "-n")
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
    assert counts["export"] == 43 * 3
    assert counts["calibrate"] == counts["predict"] == counts["ensemble"] == 1
    assert counts["held_out_set"] == 2  # the calibration and test sets; no interval set in the paper config
    assert "intervals" not in counts and "predict_shipped" not in counts  # beyond HNU: off in the paper config
    assert "--init" not in run.output
    (workdir / "five.yaml").write_text("tasks: {alpha: {folds: [0, 1, 2, 3, 4]}}\n")
    five = snakemake(workdir, "-n", "--configfile", "config/paper.yaml", "five.yaml")
    assert planned_jobs(five)["train"] == 43 * 5, five.output[-2000:]


def test_the_diffusion_model_task_can_average_fewer_folds(tmp_path):
    workdir = workflow_copy(tmp_path)
    (workdir / "one.yaml").write_text("tasks: {diffusion_model: {folds: [0]}}\n")
    both = planned_jobs(snakemake(workdir, "--configfile", "micro.yaml", "-n"))
    one = snakemake(workdir, "--configfile", "micro.yaml", "one.yaml", "-n")
    assert one.returncode == 0, one.output[-2000:]
    assert both["train"] == 24 and planned_jobs(one)["train"] == 18  # alpha's 12, and 6 classifiers of 12
    assert "alpha/1D/L10/fold1.pt" in one.stdout and "diffusion_model/1D/L10/fold1.pt" not in one.stdout


def generated(workdir) -> int:
    """Shards the andiflow command itself wrote (it logs a line per shard; a cache hit logs nothing)."""
    return sum(1 for log in (workdir / "results/logs/generate").glob("*.log") if log.read_text().strip())


def test_shards_are_reused_between_workflows(tmp_path):
    cache = {"SNAKEMAKE_OUTPUT_CACHE": str(tmp_path / "cache")}
    (tmp_path / "cache").mkdir()
    targets = ["results/shards/1D/L10/shard0.h5", "results/shards/1D/L10/shard1.h5"]
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


def test_workflow_predicts_a_table_of_tracks_and_its_population(finished):
    rows = ["particle,frame,x,y"] + [
        f"{p},{f},{0.1 * f * (p + 1)},{(-1) ** f * 0.3}" for p in range(12) for f in range(25)
    ]
    (finished / "it's my tracks.csv").write_text("\n".join(rows) + "\n")  # quoted into the shell as it is
    (finished / "tracks.yaml").write_text('inputs: {mine: {trajectories: "it\'s my tracks.csv"}}\n')
    targets = ["results/predictions/mine.csv", "results/populations/mine.csv", "results/report/mine_population.png"]
    run = snakemake(finished, *targets, "--cores", "1", "--configfile", "micro.yaml", "tracks.yaml")
    assert run.returncode == 0, run.output[-3000:]
    table = (finished / "results/predictions/mine.csv").read_text().splitlines()
    header = "particle,dim,n_points,alpha,alpha_std,alpha_low,alpha_high,model,p_attm,p_ctrw,p_fbm,p_lw,p_sbm,note"
    assert table[0] == header and len(table) == 13  # the micro config trains the model task too
    population = pd.read_csv(finished / "results/populations/mine.csv")
    assert population["tracks"].tolist() == [12] and population["alpha_mean"].notna().all()
    assert (finished / "results/report/mine_population.png").stat().st_size > 0


@pytest.mark.parametrize(
    "mode, target, planned",
    [
        ("chain", "alpha/1D/L30", {"generate": 5, "train": 3}),  # L30 from L20 from L10
        (20, "alpha/1D/L10", {"generate": 4, "train": 2}),  # the star: L10 from the base L20
        ("chain", "alpha/3D/L30", {"generate": 5, "train": 3}),  # alpha's 3D networks: their own chain
        ("chain", "diffusion_model/2D/L30", {"generate": 5, "train": 3}),  # each task its own
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
    task = target.split("/")[0]
    assert f"--init {source} --task {task} --fold 0 -o results/models/{target}/fold0.pt" in run.output


@pytest.mark.parametrize(
    "setting, message",
    [
        ("tasks: {alpha: {folds: [0, 5]}}", "tasks.alpha.folds: fold 5 is outside 0..4"),
        ("tasks: {diffusion_model: {folds: [5]}}", "tasks.diffusion_model.folds: fold 5 is outside 0..4"),
        ("sets: {test: {min_length: 5}}", "sets.test.min_length: 5 is below the shortest trained length (10"),
        ("ensemble: {clip: [2.0, 0.05]}", "ensemble.clip: low 2.0 is not below high 0.05"),
        ("train: {warm_start: 15}", "train.warm_start: length 15 is not one of data.lengths"),
        ("sets: {intervals: {long_tracks: {n_per_dim: 2, max_length: 999}}}", "sets.intervals.long_tracks.max_length"),
        ("testset: {n_per_dim: 5}", "testset: this key has moved to sets.test"),
        ("infer: {clip: [0.1, 1.9]}", "infer.clip: this key has moved to ensemble.clip"),
        ("model_folds: [0]", "model_folds: this key has moved to tasks.diffusion_model.folds"),
        ("alpha_dims: [1, 3]", "alpha_dims: this key has moved to tasks.alpha.dims"),
        ("train: {folds_used: [0]}", "train.folds_used: this key has moved to tasks.alpha.folds"),
    ],
)
def test_impossible_configs_fail_when_parsed(tmp_path, setting, message):
    workdir = workflow_copy(tmp_path)
    (workdir / "bad.yaml").write_text(setting + "\n")
    run = snakemake(workdir, "--configfile", "micro.yaml", "bad.yaml", "-n")
    assert run.returncode != 0 and message in run.output, run.output[-2000:]


def test_memory_knobs_rerun_what_they_should(finished):
    knobs = finished / "knobs.yaml"
    knobs.write_text("batch_values: 1000\ndata: {shard_size: 50}\n")
    run = snakemake(finished, "--configfile", "micro.yaml", "knobs.yaml", "-n")
    assert "held_out_set" not in planned_jobs(run), run.output[-2000:]
    assert planned_jobs(run)["train"] == 24  # every shard changed, and every network trains on them
    knobs.write_text("batch_values: 1000\n")
    assert "train" not in planned_jobs(snakemake(finished, "--configfile", "micro.yaml", "knobs.yaml", "-n"))


@pytest.mark.parametrize(
    "version, reruns, keeps",
    [
        ("TRAINER_VERSION", {"train": 24}, set()),
        ("EXPORT_VERSION", {"export": 24, "calibrate": 1}, {"train", "generate"}),
        ("INFERENCE_VERSION", {"calibrate": 1, "intervals": 1, "temperature": 1, "predict": 1}, {"export", "train"}),
        ("CALIBRATION_VERSION", {"calibrate": 1, "intervals": 1, "temperature": 1}, {"export", "held_out_set"}),
    ],
)
def test_a_new_version_of_the_code_reruns_what_it_alters_and_nothing_else(finished, tmp_path, version, reruns, keeps):
    """As if andiflow's code of that stage had changed: its version is among the params of the rules whose
    outputs it makes."""
    (tmp_path / "sitecustomize.py").write_text(f"import andiflow\nandiflow.{version} += 1\n")
    run = snakemake(finished, "--configfile", "micro.yaml", "-n", env={"PYTHONPATH": str(tmp_path)})
    planned = planned_jobs(run)
    assert all(planned.get(rule) == n for rule, n in reruns.items()), planned
    assert keeps.isdisjoint(planned), planned


def test_interval_level_scale_grid_and_other_kinds_rerun_no_set_and_no_training(finished):
    edits = finished / "edits.yaml"
    edits.write_text(
        "intervals: {level: 0.8}\ncalibrate: {scale_grid: {start: 0.95, stop: 1.05, step: 0.001}}\n"
        "model: {convlstm: {block: 8}}\n"
    )
    planned = planned_jobs(snakemake(finished, "--configfile", "micro.yaml", "edits.yaml", "-n"))
    assert {"held_out_set", "train", "generate", "export"}.isdisjoint(planned), planned
    assert planned["calibrate"] == planned["intervals"] == 1


def test_a_config_of_ones_own_runs_end_to_end_and_records_its_true_settings(tmp_path):
    """Two folds of two, lengths 12 and 24 with a warm start from 12, clip [0.1, 1.9], and the second
    ensemble's settings (convlstm, distribution output, cosine schedule, the whole-trajectory rule):
    trained, exported, calibrated, used to predict, and recorded as they were."""
    workdir = workflow_copy(tmp_path)
    own = (
        "tasks: {alpha: {dims: [1], folds: [0, 1]}, diffusion_model: {dims: [1, 2, 3], folds: [1]}}\n"
        "data: {lengths: [[12, 200], [24, 150]]}\n"
        "model: {kind: convlstm, output: distribution, hidden_size: 8, num_layers: 2, convlstm: {features: 8}}\n"
        "train: {n_folds: 2, schedule: cosine, max_epochs: 2, warm_start: 12}\n"
        "ensemble: {windows: whole, clip: [0.1, 1.9]}\nevaluate: {compare_shipped: false}\n"
        "sets: {calibration: {min_length: 12}, intervals: {min_length: 12}, test: {min_length: 12}}\n"
        "population: {train: false}\n"
    )
    (workdir / "own.yaml").write_text(own)
    run = snakemake(workdir, "--cores", "2", "--configfile", "micro.yaml", "own.yaml", timeout=900)
    assert run.returncode == 0, run.output[-3000:]
    from snakemake.utils import update_config

    from andiflow.settings import resolve

    expected = yaml.safe_load((workdir / "micro.yaml").read_text())
    update_config(expected, yaml.safe_load(own))
    expected = resolve(expected)
    models = json.loads((workdir / "results/models/manifest.json").read_text())
    manifest = json.loads((workdir / "results/ensemble/manifest.json").read_text())
    for recorded in (models, manifest):
        assert recorded["clip"] == [0.1, 1.9] and recorded["windows"] == "whole"
        for key in ("tasks", "data", "model", "train", "ensemble"):
            assert recorded["settings"][key] == expected[key], key
        assert recorded["command"] == "snakemake --cores all --configfile micro.yaml own.yaml"
    for key in ("sets", "calibrate", "intervals"):
        assert manifest["settings"][key] == expected[key], key
    members = [(m["task"], m["dim"], m["length"], m["fold"]) for m in manifest["members"]]
    assert members == [("alpha", 1, L, k) for L in (12, 24) for k in (0, 1)] + [
        ("diffusion_model", d, L, 1) for d in (1, 2, 3) for L in (12, 24)
    ]
    warm = {(m["task"], m["dim"], m["length"], m["fold"]): m["training"]["warm_start"] for m in manifest["members"]}
    assert warm[("alpha", 1, 24, 1)]["length"] == 12 and warm[("alpha", 1, 12, 1)] is None
    source = warm[("diffusion_model", 3, 24, 1)]
    assert (source["length"], source["fold"]) == (12, 1)
    history = (workdir / "results/models/alpha/1D/L24/fold0.csv").read_text().splitlines()
    assert [row.split(",")[1] for row in history[1:]] == ["0.001", "0.0005"]  # cosine: 1e-3, then half
    alphas = [
        float(line.split(";")[1]) for line in (workdir / "results/predictions/testset.txt").read_text().splitlines()
    ]
    assert len(alphas) == 30 and 0.1 <= min(alphas) and max(alphas) <= 1.9
    table = json.loads((workdir / "results/intervals/intervals.json").read_text())
    assert table["level"] == 0.9


def test_the_segments_task_runs_end_to_end_and_is_scored_by_the_challenges_scorer(tmp_path):
    workdir = workflow_copy(tmp_path)
    shutil.copy(REPO / "tests" / "segments_micro.yaml", workdir)
    run = snakemake(workdir, "--cores", "2", "--configfile", "segments_micro.yaml", timeout=600)
    assert run.returncode == 0, run.output[-3000:]
    results = workdir / "segments-micro" / "results"
    manifest = json.loads((results / "segments" / "ensemble" / "manifest.json").read_text())
    assert manifest["task"] == "segments" and set(manifest["segmentation"]) == {"threshold", "gap", "state_mix"}
    assert sum(manifest["segmentation"]["state_mix"]) == pytest.approx(1.0, abs=1e-5)  # the training mix of states
    for recipe in ("defaults", "varied", "benchmark"):
        scores = json.loads((results / "evaluation" / "segments" / f"test_{recipe}.json").read_text())
        assert scores["predicted"] == scores["tracks"] == 60
        assert set(scores["all"]) >= {"jaccard", "cp_rmse", "alpha_mae", "log10_k_mae", "state_f1"}
    assert not list(results.glob("models/alpha/**/*.pt"))  # alpha is not trained when not named
