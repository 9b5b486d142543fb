import numpy as np
import pytest

from andiflow import settings
from andiflow.simulate import Recipe


@pytest.fixture
def recipe():
    return Recipe.from_settings(settings.resolve()["data"])


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def network(folder, task, dim, length, fold, model_settings, state_dict=None, **meta):
    """A network file in the one layout (folder/<task>/<dim>D/L<length>/fold<k>.pt), random unless given
    its weights."""
    from andiflow.manifest import member_path
    from andiflow.model import build, save_checkpoint

    path = folder / member_path(task, dim, length, fold, "pt")
    metric = {"alpha": "valid_mae", "diffusion_model": "valid_error"}[task]
    meta = {"epoch": 0, metric: 0.5, "n_train": 1, "warm_start": None, **meta}
    state_dict = state_dict if state_dict is not None else build(model_settings).state_dict()
    save_checkpoint(path, model_settings, state_dict, length=length, fold=fold, task=task, **meta)
    return path


def assemble(folder, *, name="test", scale=1.0, clip=(0.05, 2.0), windows="head_tail", onnx_weights="float16",
             median="grid", intervals=None, temperature=None, settings=None):  # fmt: skip
    """An ensemble folder from the networks lying in it in the one layout, as the workflow's export,
    models-manifest and ensemble steps make one."""
    from andiflow.export import export_onnx
    from andiflow.manifest import manifest_of, members_of, write_manifest
    from andiflow.model import load_checkpoint

    files = sorted(folder.rglob("fold*.pt"))
    for file in files:
        model, meta = load_checkpoint(file)
        model.median = median
        export_onnx(model, meta["length"], file.with_suffix(".onnx"), onnx_weights)
    members = members_of(files, folder, onnx_weights, median)
    manifest = manifest_of(members, name=name, clip=clip, windows=windows, settings=settings or {}, command="none",
                           scale=scale, intervals=intervals, temperature=temperature)  # fmt: skip
    write_manifest(folder, manifest)
    return manifest
