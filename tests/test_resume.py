"""A training process killed mid-run (SIGTERM as SLURM sends at its time limit, or SIGKILL) and run
again continues after its last finished epoch and ends with the weights of an uninterrupted run."""

import json
import signal
import subprocess
import sys

import pandas as pd
import pytest
import torch

from andiflow.cli import main

SETTINGS = json.dumps({"train": {"max_epochs": 5, "batch_size": 128}, "data": {"shard_size": 4000}})


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shards")
    assert main(["generate", "--length", "30", "--n", "4000", "-o", str(folder), "--settings", SETTINGS]) == 0
    return folder / "shard0.h5"


def train_command(shard, output):
    return [
        sys.executable,
        "-m",
        "andiflow.cli",
        "train",
        str(shard),
        "--fold",
        "0",
        "-o",
        str(output),
        "--threads",
        "1",
        "--settings",
        SETTINGS,
    ]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_training_resumes_to_the_same_weights(tmp_path, shard, sig):
    whole = tmp_path / "whole" / "L30" / "fold0.pt"
    subprocess.run(train_command(shard, whole), check=True, capture_output=True)

    resumed = tmp_path / "resumed" / "L30" / "fold0.pt"
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
    output = tmp_path / "L30" / "fold0.pt"
    subprocess.run(train_command(shard, output), check=True, capture_output=True)
    output.unlink()
    stale = output.with_suffix(".resume.pt")
    torch.save({"length": 30, "fold": 0, "n_train": 1, "n_valid": 1, "config_digest": "other"}, stale)
    rerun = subprocess.run(train_command(shard, output), check=True, capture_output=True, text=True)
    assert "made for other data or settings; starting from epoch 0" in rerun.stdout
    assert "Epoch: 0 LR: 0.001000" in rerun.stdout


def test_killed_generation_leaves_no_shard_and_reruns_bit_identical(tmp_path):
    """Killed while it simulates its second shard: the first is whole, the second absent; run again,
    both are bit-identical to an uninterrupted run."""

    def command(folder):
        return [
            sys.executable,
            "-m",
            "andiflow.cli",
            "generate",
            "--length",
            "300",
            "--n",
            "24000",
            "-o",
            str(folder),
            "--settings",
            '{"data": {"shard_size": 12000}}',
        ]

    process = subprocess.Popen(command(tmp_path / "killed"), stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().startswith("L=300 shard 1/2")
    process.kill()
    assert process.wait() == -9
    assert (tmp_path / "killed" / "shard0.h5").exists()
    assert not (tmp_path / "killed" / "shard1.h5").exists()
    subprocess.run(command(tmp_path / "killed"), check=True, capture_output=True)
    subprocess.run(command(tmp_path / "clean"), check=True, capture_output=True)
    for shard in ("shard0.h5", "shard1.h5"):
        assert (tmp_path / "killed" / shard).read_bytes() == (tmp_path / "clean" / shard).read_bytes()
    assert not list((tmp_path / "killed").glob(".*.tmp"))
