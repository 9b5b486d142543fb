"""The ensembles andiflow ships: their files agree with their manifests and cards, their ONNX files give
what their PyTorch models give, their outputs on a fixed set are pinned, they are in the wheel, and
`andiflow predict` uses the default one when no models are named."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from andiflow.api import DEFAULT, SHIPPED, load_ensemble, shipped_ensembles
from andiflow.card import model_card
from andiflow.cli import main
from andiflow.ensemble import Ensemble
from andiflow.manifest import read_manifest, sha256
from andiflow.population_net import PopulationNetwork
from andiflow.segmenter import is_segments
from andiflow.steps import population_descriptions

REPO = Path(__file__).resolve().parents[1]
PINNED = Path(__file__).with_name("pinned")
SEGMENTS_ENSEMBLES = [name for name in shipped_ensembles() if is_segments(SHIPPED / name)]
ALPHA_ENSEMBLES = [name for name in shipped_ensembles() if name not in SEGMENTS_ENSEMBLES]
POPULATION_FILES = ("population.json", "population.onnx", "population_precision.json", "population_precision.onnx")


def fixed_set() -> list[np.ndarray]:
    """24 random walks, 1D to 3D, 10 to 1,500 points, with steps of three sizes over time: a set whose
    predictions move when windows, z-scoring, the models or the scale change."""
    rng = np.random.default_rng(2020)
    lengths = [10, 11, 19, 30, 49, 75, 99, 150, 200, 299, 450, 700, 999, 1500] * 2
    return [
        np.cumsum(rng.normal(size=(1 + i % 3, n)) * rng.choice([0.1, 1, 5]) ** np.linspace(0, 1, n), axis=1)
        for i, n in enumerate(lengths[:24])
    ]


@pytest.mark.parametrize("name", ALPHA_ENSEMBLES)
def test_members_match_their_checksums_and_load(name):
    manifest, folder = read_manifest(SHIPPED / name)
    assert manifest["name"] == name and manifest["scale"] > 0 and manifest["intervals"]["level"] == 0.9
    for member in manifest["members"]:
        assert sha256(folder / member["onnx"]) == member["onnx_sha256"], member["onnx"]
    lengths = [length for length, _ in manifest["settings"]["data"]["lengths"]]
    assert sorted(load_ensemble(name).lengths.tolist()) == lengths
    # nothing else ships: a rebuild's copy leaves no stale member (e.g. a fold no longer used)
    named = {m["onnx"] for m in manifest["members"]} | {"manifest.json", "MODEL_CARD.md", "evaluation.json"}
    files = {f.relative_to(folder).as_posix() for f in Path(str(folder)).rglob("*") if f.is_file()}
    assert files - named <= {"model_evaluation.json", *POPULATION_FILES}, sorted(files - named)[:5]
    for precision, description in enumerate(POPULATION_FILES[::2]):  # its networks, of it and unchanged
        if description in files:
            PopulationNetwork(folder, sha256(folder / "manifest.json"), bool(precision))


@pytest.mark.parametrize("name", ALPHA_ENSEMBLES)
def test_onnx_members_give_what_their_pytorch_models_give(name):
    """The PyTorch files stay in the workflow folder that made them (config `workdir`), committed."""
    manifest, _ = read_manifest(SHIPPED / name)
    models = REPO / manifest["settings"]["workdir"] / "results" / "models"
    for member in manifest["members"]:
        assert sha256(models / member["file"]) == member["sha256"], member["file"]
    trajectories = fixed_set()
    onnx, torch = load_ensemble(name), Ensemble.load(models / "manifest.json", backend="torch")
    Ensemble.load(models / "manifest.json")  # the workflow's rebuild runs this manifest in ONNX Runtime
    by_onnx, by_torch = onnx.raw_alpha(trajectories)["alpha"], torch.raw_alpha(trajectories)["alpha"]
    np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5, rtol=0)
    if onnx.has("diffusion_model"):
        by_onnx, by_torch = onnx.mean_log_probabilities(trajectories), torch.mean_log_probabilities(trajectories)
        np.testing.assert_allclose(by_onnx, by_torch, atol=1e-5, rtol=0)  # before the ensemble's temperatures


@pytest.mark.parametrize("name", ALPHA_ENSEMBLES)
def test_outputs_on_a_fixed_set_are_pinned(name):
    """Regenerate after an intended change: python tests/test_pretrained.py"""
    est = load_ensemble(name).estimate(fixed_set(), level=0.9)
    pinned = json.loads((PINNED / f"{name}.json").read_text())
    assert set(pinned) == set(est) - {"model"}  # the model's probabilities too, where it classifies
    for key in pinned:
        np.testing.assert_allclose(est[key], pinned[key], atol=2e-5, rtol=0, err_msg=key)


@pytest.mark.parametrize("name", ALPHA_ENSEMBLES)
def test_card_is_what_the_manifest_and_the_test_set_evaluation_say(name):
    manifest, folder = read_manifest(SHIPPED / name)
    evaluation = json.loads((folder / "evaluation.json").read_text())
    models = folder / "model_evaluation.json"
    model_evaluation = json.loads(models.read_text()) if models.is_file() else None
    populations = [json.loads(file.read_text()) for file in population_descriptions([folder])]
    card = model_card(manifest, evaluation, model_evaluation, populations)
    assert (folder / "MODEL_CARD.md").read_text() == card


@pytest.mark.parametrize("name", ALPHA_ENSEMBLES)
def test_each_shipped_ensemble_is_small(name):
    """At most 15 MB (the 2D issue's limit): the default's 34 alpha networks of each dimension and 51
    classifiers, with int8 weight matrices, weigh 13 MB."""
    assert sum(f.stat().st_size for f in Path(str(SHIPPED / name)).rglob("*") if f.is_file()) <= 15e6


def test_the_wheel_carries_the_shipped_ensembles(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("andiflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in shipped_ensembles():
        manifest = json.loads((SHIPPED / name / "manifest.json").read_text())
        evaluations = [f.name for f in (SHIPPED / name).iterdir() if f.name.endswith("evaluation.json")]
        expected = ["manifest.json", "MODEL_CARD.md", *evaluations] + [m["onnx"] for m in manifest["members"]]
        expected += [manifest["andij"]["onnx"]] if "andij" in manifest else []
        expected += [f.name for f in (SHIPPED / name).iterdir() if f.name.startswith("population.")]
        assert {f"andiflow/ensembles/{name}/{file}" for file in expected} <= names


def test_predict_without_models_uses_the_default_ensemble(tmp_path, rng, capsys):
    task = tmp_path / "task1.txt"
    task.write_text("".join(f"{d};" + ";".join(map(str, rng.normal(size=d * 60).cumsum())) + "\n" for d in (1, 2, 3)))
    assert main(["predict", str(task), "--interval", "0.9"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith(f"andiflow: using the shipped ensemble {DEFAULT}: lengths 10, ")
    assert "warning" not in captured.err.lower()
    rows = [line.split(";") for line in captured.out.splitlines()]
    assert [r[0] for r in rows] == ["1", "2", "3"] and all(len(r) == 4 for r in rows)
    assert all(float(low) <= float(alpha) <= float(high) for _, alpha, low, high in rows)


def test_card_counts_gpu_trained_members_apart_from_thread_time():
    manifest, folder = read_manifest(SHIPPED / "convlstm-cpu")
    evaluation = json.loads((folder / "evaluation.json").read_text())
    member = manifest["members"][0]
    member["training"].update(trained_on="NVIDIA H200", seconds=25.0)
    seconds = {"cpu": 0.0, "NVIDIA H200": 0.0}
    for m in manifest["members"]:
        seconds[m["training"].get("trained_on", "cpu")] += m["training"]["seconds"]
    card = model_card(manifest, evaluation)
    assert f"| alpha 1D | {member['length']} | {member['fold']} |" in card and "| 25 (NVIDIA H200) |" in card
    cpu, gpu = seconds["cpu"], seconds["NVIDIA H200"]
    assert f"{cpu:,.0f} s of training x 1 thread(s) = {cpu / 3600:.2f} thread-hours; " in card
    assert f"{gpu:,.0f} s of training on NVIDIA H200, summed over jobs = {gpu / 3600:.2f} GPU-job-hours" in card
    assert "except the models whose seconds name NVIDIA H200, trained there" in card


def segment_tracks() -> list[np.ndarray]:
    """Fixed 2D tracks [2, T] whose steps change scale midway, for the segments ensembles' pinned lines."""
    rng = np.random.default_rng(11)
    tracks = []
    for T in (20, 57, 120, 200):
        scale = np.where(np.arange(T) < T // 2, 1.0, 0.1)
        tracks.append((rng.normal(size=(2, T)) * scale).cumsum(axis=1))
    return tracks


def segment_lines(name) -> list[str]:
    from andiflow.tracks import Tracks

    found = Tracks([], [])
    for i, t in enumerate(segment_tracks()):
        found.add(i, t, 2)
    return load_ensemble(name).challenge_lines(found)[0]


@pytest.mark.parametrize("name", SEGMENTS_ENSEMBLES)
def test_segments_ensembles_are_small_pinned_and_carded(name):
    from andiflow import segments_score

    folder = Path(str(SHIPPED / name))
    assert sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) <= 10e6
    assert segment_lines(name) == (PINNED / f"{name}.txt").read_text().splitlines()
    manifest = json.loads((folder / "manifest.json").read_text())
    evaluations = json.loads((folder / "evaluation.json").read_text())
    workdir = yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text())["workdir"]  # its config's
    models = REPO / workdir / "results" / "models" / "segments" / "2D"
    histories = {int(p.stem[4:]): pd.read_csv(p) for p in sorted(models.glob("L*/fold*.csv"))}
    assert (folder / "MODEL_CARD.md").read_text() == segments_score.card(manifest, evaluations, histories)


if __name__ == "__main__":
    PINNED.mkdir(exist_ok=True)
    for name in SEGMENTS_ENSEMBLES:
        (PINNED / f"{name}.txt").write_text("".join(line + "\n" for line in segment_lines(name)))
        print(f"pinned {name}: {PINNED / name}.txt")
    for name in ALPHA_ENSEMBLES:
        est = load_ensemble(name).estimate(fixed_set(), level=0.9)
        pinned = {key: np.round(values, 6).tolist() for key, values in est.items() if key != "model"}
        (PINNED / f"{name}.json").write_text(json.dumps(pinned, indent=1) + "\n")
        print(f"pinned {name}: {PINNED / name}.json")
