"""The ensemble andiflow ships: its files agree with its manifest and card, it is in the wheel, and
`andiflow predict` uses it when no models are named."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from andiflow.card import model_card
from andiflow.cli import SHIPPED, main
from andiflow.ensemble import Ensemble, read_manifest, sha256

REPO = Path(__file__).resolve().parents[1]


def test_members_match_their_checksums_and_load():
    manifest, folder = read_manifest(SHIPPED)
    assert manifest["name"] == "andiflow-pretrained-cpu" and manifest["scale"] > 0
    for member in manifest["members"]:
        assert sha256(folder / member["file"]) == member["sha256"], member["file"]
    ensemble = Ensemble.load(SHIPPED)
    assert ensemble.min_length == 10 and manifest["intervals"]["level"] == 0.9
    lengths = [length for length, _ in manifest["settings"]["data"]["lengths"]]
    assert sorted(ensemble.lengths.tolist()) == lengths


def test_card_is_what_the_manifest_and_the_test_set_evaluation_say():
    manifest, folder = read_manifest(SHIPPED)
    evaluation = json.loads((folder / "evaluation.json").read_text())
    assert (folder / "MODEL_CARD.md").read_text() == model_card(manifest, evaluation)


def test_the_shipped_files_are_smaller_than_10_mb():
    assert sum(f.stat().st_size for f in Path(str(SHIPPED)).rglob("*") if f.is_file()) < 10e6


def test_the_wheel_carries_the_shipped_ensemble(tmp_path):
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
    manifest, _ = read_manifest(SHIPPED)
    expected = ["manifest.json", "MODEL_CARD.md", "evaluation.json"] + [m["file"] for m in manifest["members"]]
    assert {f"andiflow/pretrained/{name}" for name in expected} <= names


def test_predict_without_models_uses_the_shipped_ensemble(tmp_path, rng, capsys):
    task = tmp_path / "task1.txt"
    task.write_text("".join(f"{d};" + ";".join(map(str, rng.normal(size=d * 60).cumsum())) + "\n" for d in (1, 2, 3)))
    assert main(["predict", str(task), "--interval", "0.9"]) == 0
    captured = capsys.readouterr()
    assert "using the shipped ensemble andiflow-pretrained-cpu: lengths 10, 20" in captured.err
    rows = [line.split(";") for line in captured.out.splitlines()]
    assert [r[0] for r in rows] == ["1", "2", "3"] and all(len(r) == 4 for r in rows)
    assert all(float(low) <= float(alpha) <= float(high) for _, alpha, low, high in rows)
