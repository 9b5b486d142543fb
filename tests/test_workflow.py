"""The whole DAG on a micro config, in a copy of the workflow as a user's clone would have it."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path):
    shutil.copy(REPO / "Snakefile", tmp_path)
    for folder in ("workflow", "config"):
        shutil.copytree(REPO / folder, tmp_path / folder)  # follows the schema's symlink
    shutil.copy(REPO / "tests" / "micro.yaml", tmp_path)
    return tmp_path


def snakemake(workdir, *args, timeout=300):
    return subprocess.run(["snakemake", *args], cwd=workdir, capture_output=True, text=True, timeout=timeout)


def test_whole_workflow_on_micro_config(workdir):
    run = snakemake(workdir, "--cores", "2", "--configfile", "micro.yaml")
    assert run.returncode == 0, run.stderr[-3000:]
    results = workdir / "results"
    for length in (10, 20):
        for fold in (0, 1):
            assert (results / f"models/L{length}/fold{fold}.pt").is_file()
            assert (results / f"models/L{length}/fold{fold}.csv").read_text().startswith("epoch,lr,valid_loss")
    assert not list((results / "shards").glob("raw/*/*.h5")), "raw shards are temp() and must be gone"
    assert len(list((results / "shards").glob("L*/shard*.h5"))) == 4
    scale = json.loads((results / "calibration/scale.json").read_text())
    assert 0.9 <= scale["scale"] <= 1.1
    predictions = (results / "predictions/testset.txt").read_text().splitlines()
    assert len(predictions) == 30 and [p[0] for p in predictions[::10]] == ["1", "2", "3"]
    evaluation = json.loads((results / "evaluation/testset.json").read_text())
    assert set(evaluation["lstm"]["by_dim"]) == {"1", "2", "3"}
    assert "MAE of results/predictions/testset.txt" in run.stdout + run.stderr
    rerun = snakemake(workdir, "--cores", "2", "--configfile", "micro.yaml", "-n")
    assert "Nothing to be done" in rerun.stdout + rerun.stderr


def test_paper_config_plans_the_full_method(workdir):
    run = snakemake(workdir, "-n", "--configfile", "config/paper.yaml")
    assert run.returncode == 0, run.stderr[-3000:]
    counts = {}
    for line in run.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    assert counts["train"] == 43 * 3
    assert counts["generate"] == counts["normalize"] == 1115
    assert counts["calibrate"] == counts["calibration_set"] == 1
