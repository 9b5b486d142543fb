"""The encoders andiflow can train, built from the `model` section of the configuration, and the one
checkpoint format they are saved in.

An encoder maps [batch, length] z-scored positions to [batch] alpha; built with `axes` = d > 1, it
reads the d axes of a trajectory at once, as channels ([batch, d, length]), as the model task's 2D
and 3D classifiers do. `model.kind` picks one, with its own section of keys:

- `lstm`: HNU's network, a 3-layer LSTM over the positions, dropout, one linear output.
- `wavenet`: WADNet's encoder (HNU's successor): gated dilated convolutions over the positions, then
  HNU's LSTM on their features.
- `convlstm`: beyond HNU, for accuracy per CPU-second: the displacements scaled by their RMS (as RANDI
  and AnDi-J read a trajectory), two convolutions, blocks of `block` steps folded into one LSTM step,
  so the recurrence runs (length - 1) / block steps; the last and the mean LSTM outputs feed the head.

`model.output` says what the head gives: `regression` (HNU: one number, MSE loss) or `distribution`
(beyond HNU, after AnDi-J: a probability over the alpha grid, cross-entropy loss, read out as its
median, which minimises the absolute error: the grid value where the cumulative probability reaches
one half, or with `infer.median: interpolated` the grouped-data median, continuous). The `model`
task (tasks.py) gives `classes`: a probability per diffusion model, cross-entropy loss. Adding an
encoder means a class here, its name in KINDS, and its section in the schema.
"""

import io
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from andiflow.atomic import atomic_path
from andiflow.ensemble import BATCH_VALUES
from andiflow.errors import ModelFileError


class Estimator(nn.Module):
    """What every encoder shares: the head (`fc`: dropout and one linear layer) and the output."""

    def __init__(self, features: int, dropout: float, axes: int, output: str = "regression", grid=None, classes=None):
        super().__init__()
        self.axes, self.output = axes, output
        self.median = "grid"  # how a distribution is read out (MEDIANS); not saved: inference sets it
        size = {"regression": 1, "distribution": len(grid or ()), "classes": len(classes or ())}[output]
        self.fc = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(features, size))
        if output == "distribution":
            self.register_buffer("grid", torch.tensor(grid, dtype=torch.float32))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x)).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: normalised positions -> [batch] predicted alpha, or [batch, classes] log-probabilities."""
        out = self.logits(x)
        if self.output == "regression":
            return out.squeeze(-1)
        if self.output == "classes":
            return torch.log_softmax(out, dim=-1)
        p = torch.softmax(out, dim=-1)
        cumulative = torch.cumsum(p, dim=-1)
        k = (cumulative < 0.5).sum(dim=-1).clamp(max=len(self.grid) - 1)
        if self.median == "grid":
            return self.grid[k]
        # each grid value the middle of a bin one grid step wide (the grid is uniform), its probability
        # spread evenly over the bin: the median is where the bin of k reaches one half
        step = self.grid[1] - self.grid[0]
        p_k, up_to_k = p.gather(-1, k[:, None])[:, 0], cumulative.gather(-1, k[:, None])[:, 0]
        return self.grid[k] + step * ((0.5 - up_to_k) / p_k.clamp(min=1e-12) + 0.5)

    def loss(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The training loss: MSE of the estimate, cross-entropy against the grid value of alpha, or
        cross-entropy against the class index."""
        out = self.logits(x)
        if self.output == "regression":
            return F.mse_loss(out.squeeze(-1), target)
        if self.output == "distribution":
            target = torch.argmin(torch.abs(target[:, None] - self.grid[None, :]), dim=-1)
        return F.cross_entropy(out, target)

    def scores(self, out: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
        """(validation loss, validation metric) of outputs `out` (forward's): for alpha, (MSE, MAE)
        of the estimate, as HNU; for classes, (cross-entropy, error rate)."""
        if self.output == "classes":
            return F.nll_loss(out, target).item(), (out.argmax(dim=-1) != target).float().mean().item()
        return torch.mean((out - target) ** 2).item(), torch.mean(torch.abs(out - target)).item()


class AnDiLSTM(Estimator):
    """HNU's network."""

    def __init__(self, hidden_size: int = 64, num_layers: int = 3, dropout: float = 0.2, axes: int = 1, **output):
        super().__init__(hidden_size, dropout, axes, **output)
        self.lstm = nn.LSTM(axes, hidden_size, num_layers, batch_first=True)

    def features(self, x):
        out, _ = self.lstm(channels(x).transpose(1, 2))  # zero initial states, as HNU's h0/c0
        return out[:, -1]


def channels(x: torch.Tensor) -> torch.Tensor:
    """[batch, axes, length] from positions [batch, length] (one axis) or [batch, axes, length]."""
    return x.unsqueeze(1) if x.dim() == 2 else x


class GatedConv(nn.Module):
    """tanh(filter) * sigmoid(gate), both dilated convolutions of kernel 3 over a zero-padded input."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.dilation = dilation
        self.filter = nn.Conv1d(channels, channels, 3)
        self.gate = nn.Conv1d(channels, channels, 3)

    def forward(self, x):
        return torch.tanh(self._conv(self.filter, x)) * torch.sigmoid(self._conv(self.gate, x))

    def _conv(self, conv, x):
        if self.dilation >= x.shape[-1]:  # the outer taps see only padding: the centre tap alone
            return F.conv1d(x, conv.weight[:, :, 1:2], conv.bias)
        return F.conv1d(x, conv.weight, conv.bias, padding=self.dilation, dilation=self.dilation)


class WaveNetLSTM(Estimator):
    """WADNet: Conv1d(1, f, 3) -> gated dilated convolutions (dilation 2^0 .. 2^(n-1)), each followed
    by one shared 1x1 convolution and summed into a residual -> BatchNorm -> dropout -> LSTM -> head."""

    def __init__(
        self, features: int, dilations: int, hidden_size: int, num_layers: int, dropout: float, axes: int = 1, **output
    ):
        super().__init__(hidden_size, dropout, axes, **output)
        self.conv_in = nn.Conv1d(axes, features, 3, padding=1)
        self.gated = nn.ModuleList(GatedConv(features, 2**i) for i in range(dilations))
        self.mix = nn.Conv1d(features, features, 1)
        self.norm = nn.BatchNorm1d(features)
        self.drop = nn.Dropout(dropout)
        self.lstm = nn.LSTM(features, hidden_size, num_layers, batch_first=True)

    def features(self, x):
        h = self.conv_in(channels(x))
        total = h
        for layer in self.gated:
            h = self.mix(layer(h))
            total = total + h
        out, _ = self.lstm(self.drop(self.norm(total)).transpose(1, 2))
        return out[:, -1]


class ConvLSTM(Estimator):
    """Displacements over their RMS -> Conv1d(k3) -> Conv1d(k3, dilation 2) -> blocks of `block` steps
    (a strided convolution) -> LSTM -> [last output, mean output] -> head. The RMS is over all axes,
    so a 2D/3D classifier sees how the axes' steps compare."""

    def __init__(
        self, features: int, block: int, hidden_size: int, num_layers: int, dropout: float, axes: int = 1, **output
    ):
        super().__init__(2 * hidden_size, dropout, axes, **output)
        self.block = block
        self.conv1 = nn.Conv1d(axes, features, 3, padding=1)
        self.conv2 = nn.Conv1d(features, features, 3, padding=2, dilation=2)
        self.blocks = nn.Conv1d(features, features, block, stride=block)
        self.lstm = nn.LSTM(features, hidden_size, num_layers, batch_first=True)

    def features(self, x):
        x = channels(x)
        steps = x[..., 1:] - x[..., :-1]
        rms = torch.sqrt(torch.mean(steps**2, dim=(1, 2), keepdim=True)) + 1e-8
        h = F.gelu(self.conv1(F.pad(steps / rms, (self.block - 1, 0))))
        h = h + F.gelu(self.conv2(h))
        # blocks counted from the last step back, so the last LSTM step ends at the last displacement
        # and the zero steps in front fill the first block; fixed-size ops only, so it exports to ONNX
        blocks = self.blocks(h.flip(-1)).flip(-1)
        out, _ = self.lstm(F.gelu(blocks).transpose(1, 2))
        return torch.cat([out[:, -1], out.mean(dim=1)], dim=-1)


KINDS = {"lstm": AnDiLSTM, "wavenet": WaveNetLSTM, "convlstm": ConvLSTM}


def build(settings: dict) -> Estimator:
    """A fresh model from its settings (settings_of); files saved before `output` existed regress."""
    options = dict(settings)
    return KINDS[options.pop("kind")](**options)


def weights(model: nn.Module) -> dict:
    """A copy of the model's weights on the CPU."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def save_checkpoint(path, settings: dict, state_dict: dict, **meta) -> None:
    """A model file: its kind and settings, its weights, and what made it (length, fold, epoch, ...).
    Saved through memory: torch.save names the archive inside after the file, and the temporary
    file's name differs from run to run, so the same model would not give the same bytes."""
    buffer = io.BytesIO()
    torch.save(dict(meta, model=dict(settings), state_dict=state_dict), buffer)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(buffer.getvalue())


def load_checkpoint(path) -> tuple[nn.Module, dict]:
    """(model in eval mode, metadata) of a model file; never executes code from it (weights_only)."""
    path = Path(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        model = build(checkpoint["model"])
        model.load_state_dict(checkpoint["state_dict"])
    except Exception as err:  # torch raises several types for unreadable, unsafe or foreign files
        raise ModelFileError(f"{path}: not a readable andiflow model ({type(err).__name__}: {err})") from None
    return model.eval(), {k: v for k, v in checkpoint.items() if k != "state_dict"}


def load_by_length(folder) -> dict[int, list[nn.Module]]:
    """The models of a folder of L<length>/fold<k>.pt (a workflow's results/models): length -> its
    models in fold order."""
    models = {}
    for path in sorted(Path(folder).glob("L*/fold*.pt")):
        models.setdefault(int(path.parent.name[1:]), []).append(load_checkpoint(path)[0])
    return dict(sorted(models.items()))


class TorchMember:
    """One member in PyTorch (on the CPU or a GPU): z-scored windows [n, Tn] -> raw alpha [n] (or
    log-probabilities [n, classes])."""

    def __init__(self, model: nn.Module, device: str = "cpu", batch_values: int = BATCH_VALUES):
        self.model, self.device, self.batch_values = model.to(device), device, batch_values

    @classmethod
    def load(cls, path, entry: dict, device="cpu", batch_values=BATCH_VALUES) -> "TorchMember":
        """The model file of a manifest entry, checked to hold the length and fold the entry names."""
        model, meta = load_checkpoint(path)
        if (meta.get("length"), meta.get("fold")) != (entry["length"], entry["fold"]):
            raise ModelFileError(
                f"{path}: holds length {meta.get('length')} fold {meta.get('fold')}, "
                f"the manifest says length {entry['length']} fold {entry['fold']}"
            )
        round_weights(model, entry.get("onnx_weights"))  # the values its ONNX export holds: both runtimes agree
        model.median = entry.get("median", "grid")
        if model.median not in MEDIANS:
            raise ModelFileError(f"{path}: its manifest names an unknown median {model.median!r}, not one of {MEDIANS}")
        return cls(model, device, batch_values)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return predict_in_batches(self.model, torch.from_numpy(x), self.batch_values, self.device).cpu().numpy()


MEDIANS = ("grid", "interpolated")  # how a distribution member is read out (infer.median)
WEIGHT_STORAGES = ("float16", "int8")  # how an ONNX export stores its weight tensors (infer.onnx_weights)
COMPACT_MIN_SIZE = 64  # tensors of fewer numbers are stored as float32


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


def export_onnx(model: nn.Module, length: int, path, storage: str = "float16") -> None:
    """The model as an ONNX file that takes z-scored positions [batch, length] ([batch, axes, length]
    for a model of several axes) of any batch and length and gives alpha [batch] (or
    log-probabilities [batch, classes]); written whole or not at all, the same bytes for the same
    model. The weights are stored as `storage` says (round_weights) and cast back to float32 in the
    graph: float16 halves the file, int8 quarters it; the model computes in float32 with the rounded
    weights, which round_weights gives PyTorch too."""
    import copy
    import warnings

    import onnx

    model = round_weights(copy.deepcopy(model).eval(), storage)
    example = torch.zeros(2, length) if model.axes == 1 else torch.zeros(2, model.axes, length)
    output = "log_probabilities" if model.output == "classes" else "alpha"
    with warnings.catch_warnings(), io.BytesIO() as buffer:
        warnings.simplefilter("ignore")  # the exporter's notes on tracing and on LSTM batch sizes
        torch.onnx.export(
            model,
            (example,),
            buffer,
            dynamo=False,
            input_names=["positions"],
            output_names=[output],
            dynamic_axes={"positions": {0: "batch", example.dim() - 1: "length"}, output: {0: "batch"}},
        )
        exported = onnx.load_from_string(buffer.getvalue())
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


def predict_in_batches(model: nn.Module, x: torch.Tensor, batch_values: int, device=None) -> torch.Tensor:
    """Model outputs for x [n, length] or [n, axes, length], in batches of at most `batch_values`
    numbers, which bounds the memory cuDNN asks for at long lengths. Batches are moved to `device` if
    given."""
    batch = max(1, batch_values // x[0].numel())
    with torch.inference_mode():
        return torch.cat(
            [model(x[i : i + batch].to(device) if device else x[i : i + batch]) for i in range(0, len(x), batch)]
        )
