"""Move a workflow's trained networks from the layouts before andiflow-ensemble/2 into the one layout,
<task>/<dim>D/L<length>/fold<k>, without retraining:

    L<length>/fold<k>.*            -> alpha/1D/L<length>/fold<k>.*
    <d>D/L<length>/fold<k>.*       -> alpha/<d>D/L<length>/fold<k>.*
    model/<d>D/L<length>/fold<k>.* -> diffusion_model/<d>D/L<length>/fold<k>.*

and name the task inside every network's file: `diffusion_model` where it said `model`, `alpha`
where files from before the second task named none (the weights are untouched). The folder's old
manifest.json is removed: the workflow writes the new one. Run once:

    python workflow/scripts/migrate_layout.py results/models
"""

import re
import sys
from pathlib import Path

import torch

from andiflow.model import save_checkpoint

OLD = re.compile(
    r"^(?:(?P<model>model/)?(?P<dim>[123])D/)?L(?P<length>\d+)/fold(?P<fold>\d+)\.(?P<suffix>pt|csv|onnx)$"
)


def migrate(folder: Path) -> int:
    moved = 0
    for path in sorted(folder.rglob("*")):
        match = OLD.match(path.relative_to(folder).as_posix())
        if not match:
            continue
        task = "diffusion_model" if match["model"] else "alpha"
        target = (
            folder / task / f"{match['dim'] or 1}D" / f"L{match['length']}" / f"fold{match['fold']}.{match['suffix']}"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
        if match["suffix"] == "pt":
            checkpoint = torch.load(target, map_location="cpu", weights_only=True)
            named = {"model": "diffusion_model", None: "alpha"}.get(checkpoint.get("task"))
            if named:
                state = checkpoint.pop("state_dict")
                save_checkpoint(target, checkpoint.pop("model"), state, **{**checkpoint, "task": named})
        moved += 1
    for empty in sorted(folder.rglob("*"), reverse=True):
        if empty.is_dir() and not any(empty.iterdir()):
            empty.rmdir()
    (folder / "manifest.json").unlink(missing_ok=True)
    return moved


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {migrate(Path(name))} files moved into <task>/<dim>D/L<length>/fold<k>")
