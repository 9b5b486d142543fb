"""An ensemble's one format: a folder whose manifest.json names every member and holds how they
combine (scale, clip, windows, interval table, temperatures), the settings that made them and the
command that rebuilds them.

Every member entry names its task, dimension, length and fold, its PyTorch file and ONNX export (each
with a checksum, relative to the folder, laid out as <task>/<dim>D/L<length>/fold<k>), how its ONNX
weights are stored, a distribution member's readout (`median`) and its training record. Only the
members the manifest names are used, and a member whose checksum differs is refused.
"""

import hashlib
import json
import shutil
from pathlib import Path

from andiflow.atomic import atomic_path
from andiflow.errors import ModelFileError
from andiflow.tasks import TASKS

MANIFEST = "manifest.json"
FORMAT = "andiflow-ensemble/2"


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def member_path(task: str, dim: int, length: int, fold: int, suffix: str) -> str:
    """A member's file in an ensemble folder, or a trained network's in a workflow's results/models."""
    return f"{task}/{dim}D/L{length}/fold{fold}.{suffix}"


def read_manifest(path) -> tuple[dict, Path]:
    """(manifest, folder) of an ensemble folder or of its manifest.json."""
    path = Path(path)
    file = path / MANIFEST if path.is_dir() else path
    if not file.is_file():
        raise ModelFileError(
            f"{path}: no ensemble here (an ensemble is a folder with {MANIFEST}, "
            "as the workflow writes in results/ensemble)"
        )
    try:
        manifest = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{file}: not a readable manifest ({err})") from None
    if manifest.get("format") != FORMAT:
        hint = " (made before the one model layout: rebuild it with the workflow)" if manifest.get("format") else ""
        raise ModelFileError(f"{file}: format {manifest.get('format')!r}, expected {FORMAT!r}{hint}")
    return manifest, file.parent


def manifest_of(members: list, *, name, clip, windows, settings, command, scale=None, intervals=None, temperature=None):
    """A manifest: its members (members_of), how they combine, and what made them."""
    return dict(
        format=FORMAT,
        name=name,
        members=members,
        scale=scale,
        clip=list(clip),
        windows=windows,
        intervals=intervals,
        temperature=temperature,
        settings=settings,
        command=command,
    )


def write_manifest(folder, manifest: dict) -> None:
    with atomic_path(Path(folder) / MANIFEST) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1) + "\n")


def members_of(model_files, folder, onnx_weights: str, median: str) -> list[dict]:
    """The manifest entries of trained networks (.pt, with their ONNX exports and epoch tables beside
    them) that lie in `folder` in the one layout, sorted by task, dimension, length and fold."""
    from andiflow.model import load_checkpoint

    folder, members = Path(folder), []
    for file in map(Path, model_files):
        model, meta = load_checkpoint(file)
        task, dim = TASKS[meta["task"]], meta["model"].get("axes", 1)
        expected = folder / member_path(task.name, dim, meta["length"], meta["fold"], "pt")
        if file.resolve() != expected.resolve():
            raise ModelFileError(
                f"{file}: holds {task.name} {dim}D L{meta['length']} fold {meta['fold']}, not {expected}"
            )
        onnx = file.with_suffix(".onnx")
        members.append(
            dict(
                task=task.name,
                dim=dim,
                length=meta["length"],
                fold=meta["fold"],
                file=file.relative_to(folder).as_posix(),
                sha256=sha256(file),
                onnx=onnx.relative_to(folder).as_posix(),
                onnx_sha256=sha256(onnx),
                onnx_weights=onnx_weights,
                **({"median": median} if model.output == "distribution" else {}),
                training=_training_record(file, meta),
            )
        )
    order = list(TASKS)
    return sorted(members, key=lambda e: (order.index(e["task"]), e["dim"], e["length"], e["fold"]))


def networks_of(folder, task: str, dim: int) -> dict:
    """The trained networks of one task and dimension lying in `folder` in the one layout (a workflow's
    results/models): length -> its networks (PyTorch, eval mode) in fold order."""
    from andiflow.model import load_checkpoint

    found = {}
    for path in Path(folder).glob(member_path(task, dim, "*", "*", "pt")):
        if not path.stem.removeprefix("fold").isdigit():  # fold<k>.resume.pt: training's snapshot
            continue
        model, meta = load_checkpoint(path)
        found.setdefault(meta["length"], {})[meta["fold"]] = model
    return {length: [of[k] for k in sorted(of)] for length, of in sorted(found.items())}


def copy_members(manifest: dict, source, folder, keys=("file", "onnx")) -> None:
    """Copy the files of every member the manifest names (its PyTorch file and ONNX export, or those of
    `keys`) from an ensemble folder `source` into `folder`, in the same layout."""
    for entry in manifest["members"]:
        for key in keys:
            target = Path(folder) / entry[key]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(source) / entry[key], target)


def _training_record(file: Path, meta: dict) -> dict:
    """What the member's training saw: epochs, samples, seconds, best validation metric, warm start, and
    what it was trained on (cpu or the GPU's name)."""
    metric = TASKS[meta["task"]].metric
    record = {
        "best_epoch": meta["epoch"],
        metric: round(meta[metric], 5),
        "n_train": meta["n_train"],
        "warm_start": meta.get("warm_start"),
        **({"trained_on": meta["trained_on"]} if "trained_on" in meta else {}),
    }
    history = file.with_suffix(".csv")
    if history.is_file():
        import pandas as pd

        table = pd.read_csv(history)
        record.update(
            epochs=len(table), samples=int(table["samples"].iloc[-1]), seconds=round(float(table["seconds"].sum()), 1)
        )
    return record
