import math

import numpy as np
import onnxruntime
import pytest
import torch
import torch.nn.functional as F

from andiflow import settings
from andiflow.export import export_onnx, round_weights
from andiflow.heads import HEADS
from andiflow.model import KINDS, GatedConv, build, load_checkpoint, save_checkpoint
from andiflow.tasks.alpha import alpha_grid
from andiflow.train import cosine_schedule

GRID = alpha_grid({"start": 0.05, "stop": 2.0, "step": 0.05})


def _settings(kind, **model):
    return settings.model_settings(settings.resolve({"model": dict(kind=kind, **model)}))


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("output", ["regression", "distribution"])
def test_every_kind_builds_from_its_section_trains_and_reloads(tmp_path, kind, output):
    torch.manual_seed(0)
    model_settings = _settings(kind, output=output, hidden_size=8, wavenet={"dilations": 3})
    model = build(model_settings)
    x, alpha = torch.randn(6, 30), torch.tensor(GRID[:6], dtype=torch.float32)
    loss = model.loss(x, alpha)
    loss.backward()
    assert loss.item() > 0 and all(p.grad is not None for p in model.parameters() if p.requires_grad)
    save_checkpoint(tmp_path / "m.pt", model_settings, model.state_dict(), length=30, fold=0)
    loaded, meta = load_checkpoint(tmp_path / "m.pt")
    assert meta["model"] == model_settings and type(loaded) is KINDS[kind]
    torch.testing.assert_close(loaded(x), model.eval()(x))


@pytest.mark.parametrize("storage", ["float16", "int8"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_reads_the_axes_of_a_3d_trajectory_at_once_and_exports_them(tmp_path, kind, storage):
    config = settings.resolve({"model": dict(kind=kind, hidden_size=8, wavenet={"dilations": 2})})
    model = build(settings.model_settings(config, "diffusion_model", axes=3)).eval()
    x = torch.randn(4, 3, 25)
    log_p = model(x)
    assert log_p.shape == (4, 5)
    assert not torch.allclose(model(x[:, [1, 0, 2]]), log_p)  # each axis has its own input weights
    export_onnx(model, 20, tmp_path / "m.onnx", storage)
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    expected = round_weights(model, storage)(x).detach().numpy()
    np.testing.assert_allclose(session.run(None, {"positions": x.numpy()})[0], expected, atol=1e-4)


def test_a_kind_gets_only_its_own_section():
    wavenet = _settings("wavenet", convlstm={"features": 7})
    assert wavenet["features"] == 32 and "block" not in wavenet and "grid" not in wavenet
    assert set(_settings("lstm")) == {"kind", "output", "hidden_size", "num_layers", "dropout"}


def test_files_written_before_outputs_existed_load_as_regression(tmp_path):
    old = {"kind": "lstm", "hidden_size": 4, "num_layers": 3, "dropout": 0.2}
    save_checkpoint(tmp_path / "m.pt", old, build(old).state_dict(), length=10, fold=0)
    model, _ = load_checkpoint(tmp_path / "m.pt")
    assert model.output == "regression" and model(torch.randn(2, 10)).shape == (2,)


def test_distribution_reads_out_the_median_of_the_grid():
    model = build(_settings("convlstm", output="distribution")).eval()
    logits = torch.full((2, len(GRID)), -1e4)
    logits[0, [3, 10, 30]] = 0.0  # three equal bins: the median is the middle one
    logits[1, [5, 6]] = torch.tensor([0.0, math.log(3)])  # 1/4, 3/4: the second
    assert model.head is HEADS["distribution"]
    np.testing.assert_allclose(model.head.forward(model, logits).numpy(), [GRID[10], GRID[6]], atol=1e-6)
    model.logits = lambda x: logits  # and the network's forward reads its logits out so
    np.testing.assert_allclose(model(torch.zeros(2, 10)).numpy(), [GRID[10], GRID[6]], atol=1e-6)


def test_interpolated_median_spreads_each_grid_value_over_its_bin_and_exports(tmp_path):
    model = build(_settings("convlstm", output="distribution", hidden_size=8)).eval()
    model.median = "interpolated"
    logits = torch.full((3, len(GRID)), -1e4)
    logits[0, 10] = 0.0  # all on one value: its bin's middle, the value itself
    logits[1, [5, 6]] = 0.0  # halves: the edge between the two bins
    logits[2, [5, 6]] = torch.tensor([0.0, math.log(3)])  # 1/4, 3/4: a third into the second bin
    step = GRID[1] - GRID[0]
    expected = [GRID[10], GRID[5] + step / 2, GRID[6] - step / 2 + step / 3]
    np.testing.assert_allclose(HEADS["distribution"].forward(model, logits).numpy(), expected, atol=1e-6)
    export_onnx(model, 20, tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    x = torch.randn(4, 30)
    out = session.run(None, {"positions": x.numpy()})[0]
    np.testing.assert_allclose(out, round_weights(model, "float16")(x).detach().numpy(), atol=1e-5)
    model.median = "grid"  # within half a step of the grid median
    assert np.abs(out - model(x).detach().numpy()).max() <= step / 2 + 1e-6


def test_convlstm_reads_any_length_and_ignores_scale_and_offset():
    model = build(_settings("convlstm")).eval()
    for length in (3, 10, 11, 999):
        assert model(torch.randn(2, length)).shape == (2,)
    x = torch.randn(3, 50)
    torch.testing.assert_close(model(x), model(5 * x + 2), atol=1e-5, rtol=0)


def test_a_gated_layer_whose_dilation_passes_the_series_equals_the_zero_padded_convolution():
    torch.manual_seed(0)
    layer, x = GatedConv(4, dilation=64), torch.randn(2, 4, 20)
    padded = torch.tanh(F.conv1d(x, layer.filter.weight, layer.filter.bias, padding=64, dilation=64))
    padded = padded * torch.sigmoid(F.conv1d(x, layer.gate.weight, layer.gate.bias, padding=64, dilation=64))
    torch.testing.assert_close(layer(x), padded)


def test_cosine_schedule_falls_from_the_rate_to_zero_and_needs_max_epochs():
    train = dict(settings.resolve()["train"], max_epochs=2, batch_size=10, schedule="cosine")
    lr = cosine_schedule(train, 100)  # 10 batches an epoch
    assert lr(0, 0) == pytest.approx(1e-3) and lr(1, 0) == pytest.approx(5e-4) and lr(1, 9) < 3e-5
    with pytest.raises(Exception, match="needs train.max_epochs"):
        cosine_schedule(dict(train, max_epochs=None), 100)


def test_int8_storage_keeps_an_all_zero_matrix_and_both_runtimes_agree(tmp_path):
    config = settings.resolve({"model": dict(kind="lstm", hidden_size=8)})
    model = build(settings.model_settings(config, "alpha")).eval()
    torch.nn.init.zeros_(model.lstm.weight_hh_l0)
    export_onnx(model, 20, tmp_path / "m.onnx", "int8")
    rounded = round_weights(model, "int8")
    assert not any(torch.isnan(p).any() for p in rounded.parameters()) and not rounded.lstm.weight_hh_l0.any()
    x = torch.randn(3, 20)
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"positions": x.numpy()})[0], rounded(x).detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("axes", [1, 3])
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_gives_per_step_features_that_its_pool_and_fc_read(kind, axes):
    torch.manual_seed(0)
    config = settings.resolve({"model": dict(kind=kind, hidden_size=8, wavenet={"dilations": 2})})
    model = build(settings.model_settings(config, "alpha", axes=axes)).eval()
    x = torch.randn(4, 30) if axes == 1 else torch.randn(4, axes, 30)
    steps = model.steps(x)
    # lstm and wavenet: one LSTM step per position; convlstm: one per block of 4 of the 29 displacements
    assert steps.shape == (4, {"lstm": 30, "wavenet": 30, "convlstm": 8}[kind], 8)
    pooled = model.pool(steps)
    assert pooled.shape == (4, model.fc[-1].in_features)
    torch.testing.assert_close(model.logits(x), model.fc(pooled))
    torch.testing.assert_close(model(x), model.head.forward(model, model.fc(pooled)))
