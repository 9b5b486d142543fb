"""A trained network as an ONNX file that prediction runs without PyTorch: its weights stored compactly
(`ensemble.onnx_weights`), rounded in PyTorch the same way so that both runtimes agree."""

import copy
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from andiflow.atomic import atomic_path
from andiflow.errors import ModelFileError

WEIGHT_STORAGES = ("float16", "int8")  # how an ONNX export stores its weight tensors (ensemble.onnx_weights)
COMPACT_MIN_SIZE = 64  # tensors of fewer numbers are stored as float32
OUTPUTS = {"classes": ["log_probabilities"], "distribution": ["alpha", "probabilities"], "frames": ["frames"]}


def round_weights(model: nn.Module, storage: str | None) -> nn.Module:
    """Round, in place, every parameter of at least COMPACT_MIN_SIZE numbers to what `storage` keeps
    (as float32): float16 precision; or, for int8, each matrix (2 axes or more) to one of 255 steps of
    its largest magnitude / 127 and each vector to float16. One scale per tensor, because the ONNX
    export reorders and concatenates some tensors (the LSTM's gates and biases), which leaves a
    tensor's largest magnitude as it is. None (files from before this setting) leaves the model as it is."""
    if storage is None:
        return model
    if storage not in WEIGHT_STORAGES:
        raise ModelFileError(f"unknown ONNX weight storage {storage!r}; known: {', '.join(WEIGHT_STORAGES)}")
    with torch.no_grad():
        for p in model.parameters():
            if p.numel() < COMPACT_MIN_SIZE:
                continue
            if storage == "int8" and p.dim() > 1:
                step = p.abs().max() / 127
                if step > 0:  # an all-zero matrix is stored as it is
                    p.copy_(torch.round(p / step) * step)
            else:
                p.copy_(p.half().float())
    return model


class WithProbabilities(nn.Module):
    """A distribution model giving alpha (its readout) and its probabilities over the alpha grid."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.model.logits(x)  # once, for both outputs
        return self.model.head.forward(self.model, logits), torch.softmax(logits, dim=-1)


def export_onnx(model: nn.Module, length: int, path, storage: str = "float16") -> None:
    """The model as an ONNX file that takes z-scored positions [batch, length] ([batch, axes, length]
    for a model of several axes) of any batch and length and gives alpha [batch] (a distribution
    model also its probabilities over the alpha grid, [batch, grid]; a classifier log-probabilities
    [batch, classes]; a segments network, raw positions in, `frames` [batch, length, 7],
    framewise.py); written whole or not at all, the same bytes for the same
    model. The weights are stored as `storage` says (round_weights) and cast back to float32 in the
    graph: float16 halves the file, int8 quarters it; the model computes in float32 with the rounded
    weights, which round_weights gives PyTorch too."""
    model = round_weights(copy.deepcopy(model).eval(), storage)
    example = torch.zeros(2, length) if model.axes == 1 else torch.randn(2, model.axes, length).cumsum(-1)
    outputs = OUTPUTS.get(model.output, ["alpha"])
    exported_model = WithProbabilities(model) if model.output == "distribution" else model
    per_frame = {"frames": {0: "batch", 1: "length"}}
    axes = {"positions": {0: "batch", example.dim() - 1: "length"}}
    axes |= {o: per_frame.get(o, {0: "batch"}) for o in outputs}
    write_onnx(exported_model, example, path, ["positions"], outputs, axes)


def write_onnx(module: nn.Module, example: torch.Tensor, path, inputs, outputs, axes, opset=None, compact=True) -> None:
    """module traced on example as an ONNX file (inputs and outputs named, their `axes` of any size),
    written whole or not at all, the same bytes for the same module; `compact`: its large weights
    stored small (_store_compact, for weights already rounded by round_weights) and its inner tensors
    renamed short."""
    import onnx

    with warnings.catch_warnings(), io.BytesIO() as buffer:
        warnings.simplefilter("ignore")  # the exporter's notes on tracing and on LSTM batch sizes
        torch.onnx.export(
            module,
            (example,),
            buffer,
            dynamo=False,
            **({"opset_version": opset} if opset else {}),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
        )
        exported = onnx.load_from_string(buffer.getvalue())
    if compact:
        _store_compact(exported)
        _short_names(exported)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(exported.SerializeToString())


def _store_compact(exported) -> None:
    """float32 initializers of COMPACT_MIN_SIZE numbers or more, already rounded by round_weights,
    become int8 ones times their step where their values are such multiples, else float16 ones (exact
    for values rounded to float16), each made float32 again by nodes at the front of the graph."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []
    for tensor in exported.graph.initializer:
        values = numpy_helper.to_array(tensor)
        if tensor.data_type != TensorProto.FLOAT or values.size < COMPACT_MIN_SIZE:
            initializers.append(tensor)
            continue
        step = np.float32(np.abs(values).max() / 127) if values.any() else np.float32(1)
        steps = np.round(values / step)
        name = tensor.name
        if np.allclose(steps * step, values, rtol=0, atol=step * 1e-4):  # within float32 rounding of the step
            initializers += [
                numpy_helper.from_array(steps.astype(np.int8), f"{name}_int8"),
                numpy_helper.from_array(np.array(step, np.float32), f"{name}_step"),
            ]
            nodes += [
                helper.make_node("Cast", [f"{name}_int8"], [f"{name}_steps"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [f"{name}_steps", f"{name}_step"], [name]),
            ]
        else:
            initializers.append(numpy_helper.from_array(values.astype(np.float16), f"{name}_float16"))
            nodes.append(helper.make_node("Cast", [f"{name}_float16"], [name], to=TensorProto.FLOAT))
    nodes += list(exported.graph.node)
    del exported.graph.initializer[:], exported.graph.node[:]
    exported.graph.initializer.extend(initializers)
    exported.graph.node.extend(nodes)


def _short_names(exported) -> None:
    """Every tensor but the graph's input and output renamed to a short number, and the nodes left
    unnamed: the exporter's names (/lstm/LSTM_output_0) take a tenth of a small model's file."""
    graph = exported.graph
    kept = {t.name for t in (*graph.input, *graph.output)}
    names = {}

    def short(name):
        return name if name in kept or not name else names.setdefault(name, f"{len(names)}")

    for tensor in graph.initializer:
        tensor.name = short(tensor.name)
    for node in graph.node:
        node.name = ""
        node.input[:] = [short(n) for n in node.input]
        node.output[:] = [short(n) for n in node.output]


class AnDiJ(nn.Module):
    """Segments networks as AnDi-J (the AnDi challenge's Fiji plugin) runs a custom segmentation model:
    raw positions `input` [1, T, 2] in; per frame `alpha`, `logD` (log10 K; NaN where immobile is the
    most probable state), `cp` (1 at the first frame of each new segment: a peak of the members' mean
    changepoint probability at or above `threshold`, the highest within `gap` - 1 frames either side,
    at least `gap` frames from both ends: segment.changepoints without its greedy order) and
    `diffusive_state` [1, T, 4] (the state probabilities); the members' outputs averaged."""

    def __init__(self, models: list, threshold: float, gap: int):
        super().__init__()
        self.models, self.threshold, self.gap = nn.ModuleList(models), threshold, gap

    def forward(self, x: torch.Tensor):
        frames = torch.stack([m(x.transpose(1, 2)) for m in self.models]).mean(dim=0)  # [1, T, 7]
        p, alpha, log_k, states = frames[..., 0], frames[..., 1], frames[..., 2], frames[..., 3:]
        highest = torch.nn.functional.max_pool1d(p[:, None], 2 * self.gap - 1, stride=1, padding=self.gap - 1)[:, 0]
        index = torch.cumsum(torch.ones_like(p), dim=1) - 1  # from the input's own length, not a traced one
        inside = (index >= self.gap) & (index <= index[:, -1:] - self.gap + 1)
        cp = ((p >= self.threshold) & (p >= highest) & inside).float()
        immobile = states.argmax(dim=-1) == 0
        log_d = torch.where(immobile, torch.full_like(log_k, float("nan")), log_k)
        return alpha.clamp(0, 2), log_d, cp, states


def export_andij(models: list, threshold: float, gap: int, path, storage: str = "float16") -> None:
    """One ONNX file of the segments networks by AnDi-J's contract (AnDiJ), opset 17."""
    wrapped = AnDiJ([round_weights(copy.deepcopy(m).eval(), storage) for m in models], threshold, gap).eval()
    names = ["alpha", "logD", "cp", "diffusive_state"]
    axes = {"input": {1: "T"}} | {n: {1: "T"} for n in names}
    write_onnx(wrapped, torch.randn(1, 50, 2).cumsum(1), path, ["input"], names, axes, opset=17)
