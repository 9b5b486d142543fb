"""A training process killed mid-run (SIGTERM as SLURM sends at its time limit, or SIGKILL) and run
again continues after its last finished epoch and ends with the weights of an uninterrupted run; a
snapshot made for other data, settings, recipe or trainer is not continued."""

import json
import signal
import subprocess
import sys

import pandas as pd
import pytest
import torch

from andiflow import settings
from andiflow import train as training
from andiflow.normalize import zscore
from andiflow.simulate import simulate
from andiflow.steps import main

# every key the generate and train steps read, as the workflow passes them: nothing is filled in
CONFIG = settings.resolve({"train": {"max_epochs": 5, "batch_size": 128}, "data": {"shard_size": 4000}})
SETTINGS = json.dumps(
    {
        "seed": CONFIG["seed"],
        "data": {k: CONFIG["data"][k] for k in ("shard_size", "alphas", "noise_sigmas")},
        "model": CONFIG["model"],
        "train": CONFIG["train"],
    }
)


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    path = tmp_path_factory.mktemp("shards") / "shard0.h5"
    assert (
        main(["generate", "--length", "30", "--n", "4000", "--shard", "0", "-o", str(path), "--settings", SETTINGS])
        == 0
    )
    return path


def train_command(shard, output, settings_json=SETTINGS):
    return [
        sys.executable,
        "-m",
        "andiflow.steps",
        "train",
        str(shard),
        "--task",
        "alpha",
        "--fold",
        "0",
        "-o",
        str(output),
        "--history",
        str(output.with_suffix(".csv")),
        "--threads",
        "1",
        "--settings",
        settings_json,
    ]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_training_resumes_to_the_same_weights(tmp_path, shard, sig):
    whole = tmp_path / "whole" / "alpha" / "1D" / "L30" / "fold0.pt"
    subprocess.run(train_command(shard, whole), check=True, capture_output=True)

    resumed = tmp_path / "resumed" / "alpha" / "1D" / "L30" / "fold0.pt"
    process = subprocess.Popen(train_command(shard, resumed), stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("Epoch: 2 "):
            process.send_signal(sig)
            break
    process.wait(timeout=60)
    assert process.returncode != 0
    assert not resumed.exists(), "a killed job must not leave a model file"
    assert resumed.with_suffix(".resume.pt").exists()

    rerun = subprocess.run(train_command(shard, resumed), check=True, capture_output=True, text=True)
    assert "resuming after epoch" in rerun.stdout
    assert not resumed.with_suffix(".resume.pt").exists()
    a = torch.load(whole, weights_only=True)
    b = torch.load(resumed, weights_only=True)
    assert a["epoch"] == b["epoch"] and a["valid_mae"] == b["valid_mae"]
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    columns = ["epoch", "lr", "valid_loss", "valid_mae"]  # all but the seconds each epoch took
    assert pd.read_csv(whole.with_suffix(".csv"))[columns].equals(pd.read_csv(resumed.with_suffix(".csv"))[columns])


def test_a_resume_file_for_other_settings_is_not_used(tmp_path, shard):
    output = tmp_path / "alpha" / "1D" / "L30" / "fold0.pt"
    subprocess.run(train_command(shard, output), check=True, capture_output=True)
    output.unlink()
    stale = output.with_suffix(".resume.pt")
    torch.save({"length": 30, "fold": 0, "n_train": 1, "n_valid": 1, "config_digest": "other"}, stale)
    rerun = subprocess.run(train_command(shard, output), check=True, capture_output=True, text=True)
    assert "made for other data or settings; starting from epoch 0" in rerun.stdout
    assert "Epoch: 0 LR: 0.001000" in rerun.stdout


def test_a_step_given_no_value_for_a_key_training_reads_fails_naming_it(tmp_path, shard, capsys):
    given = json.loads(SETTINGS)
    del given["train"]["max_epochs"]
    output = tmp_path / "m.pt"
    command = train_command(shard, output, json.dumps(given))[3:]  # the arguments after `-m andiflow.steps`
    assert main(command) == 2
    assert "this step was given no value for train.max_epochs" in capsys.readouterr().err
    assert not output.exists() and not output.with_suffix(".csv").exists()


def test_a_snapshot_of_another_recipe_or_trainer_is_not_continued(tmp_path, recipe, monkeypatch):
    t = simulate(300, 12, 1, seed=5, recipe=recipe)
    x, config = zscore(t.positions[:, 0]), settings.resolve({"train": {"max_epochs": 2, "batch_size": 64}})
    config["model"]["hidden_size"] = 8
    a = {"alphas": recipe.alphas.tolist(), "noise_sigmas": [0.1, 0.5, 1.0], "generator_version": 1}
    b = dict(a, noise_sigmas=[0.1])
    snapshot = tmp_path / "fold0.resume.pt"

    def run(recipe_of_data, resume_path=snapshot):
        lines = []
        best, history = training.train_fold(
            x, t.alpha, 0, config, log=lines.append, resume_path=resume_path, recipe=recipe_of_data
        )
        return best, history, lines

    made, _, _ = run(a)
    _, history, lines = run(a)  # the same recipe: continued (here: already done)
    assert f"resuming after epoch 1 from {snapshot}" in lines
    assert all(s.endswith(" (before resume)") for s in lines if s.startswith("Epoch: "))  # no epoch trained
    assert [h["epoch"] for h in history] == [0, 1]

    best, history, lines = run(b)  # recipe B: trained again from epoch 0, as if no snapshot were there
    assert lines[0] == f"{snapshot}: made for other data or settings; starting from epoch 0"
    assert lines[1].startswith("Epoch: 0 LR: 0.001000 ") and [h["epoch"] for h in history] == [0, 1]
    fresh, _, _ = run(b, resume_path=None)
    assert best["config_digest"] != made["config_digest"]
    for key in fresh["state_dict"]:
        assert torch.equal(best["state_dict"][key], fresh["state_dict"][key]), key

    assert "resuming after epoch 1" in run(b)[2][0]  # now B's snapshot is continued
    monkeypatch.setattr(training, "TRAINER_VERSION", training.TRAINER_VERSION + 1)
    lines = run(b)[2]  # another trainer: from epoch 0
    assert "starting from epoch 0" in lines[0] and lines[1].startswith("Epoch: 0 ")


def test_killed_generation_leaves_no_shard_and_reruns_bit_identical(tmp_path):
    """Killed while it simulates its second shard (the workflow's two generate steps of a length, one
    after the other): the first is whole, the second absent; run again, both are bit-identical to an
    uninterrupted run."""
    shard_settings = json.dumps({"seed": 2020, "data": dict(json.loads(SETTINGS)["data"], shard_size=12000)})

    def arguments(folder, k):
        output = str(folder / f"shard{k}.h5")
        return [
            "generate",
            "--length",
            "300",
            "--n",
            "24000",
            "--shard",
            str(k),
            "-o",
            output,
            "--settings",
            shard_settings,
        ]

    def command(folder, k):
        return [sys.executable, "-m", "andiflow.steps", *arguments(folder, k)]

    both = (
        f"from andiflow.steps import main; [main(a) for a in {[arguments(tmp_path / 'killed', k) for k in (0, 1)]!r}]"
    )
    process = subprocess.Popen([sys.executable, "-c", both], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().startswith("L=300 1D shard 1/2")
    process.kill()
    assert process.wait() == -9
    assert (tmp_path / "killed" / "shard0.h5").exists()
    assert not (tmp_path / "killed" / "shard1.h5").exists()
    for k in (0, 1):
        subprocess.run(command(tmp_path / "killed", k), check=True, capture_output=True)
        subprocess.run(command(tmp_path / "clean", k), check=True, capture_output=True)
    for shard in ("shard0.h5", "shard1.h5"):
        assert (tmp_path / "killed" / shard).read_bytes() == (tmp_path / "clean" / shard).read_bytes()
    assert not list((tmp_path / "killed").glob(".*.tmp"))
