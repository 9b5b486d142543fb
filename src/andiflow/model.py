"""The encoders andiflow can train, built from the `model` section of the configuration, and the one
checkpoint format they are saved in.

An encoder maps [batch, length] z-scored positions to per-step features; built with `axes` = d > 1,
it reads the d axes of a trajectory at once, as channels ([batch, d, length]), as the classifiers of
the diffusion_model task and alpha's networks of 2D and 3D do. The head of the network's task
(heads.py) reads the features the encoder pools. `model.kind` picks one, with its own section of keys:

- `lstm`: HNU's network, a 3-layer LSTM over the positions, dropout, one linear output.
- `wavenet`: WADNet's encoder (HNU's successor): gated dilated convolutions over the positions, then
  HNU's LSTM on their features.
- `convlstm`: beyond HNU, for accuracy per CPU-second: the displacements scaled by their RMS (as RANDI
  and AnDi-J read a trajectory), two convolutions, blocks of `block` steps folded into one LSTM step,
  so the recurrence runs (length - 1) / block steps; the last and the mean LSTM outputs are pooled.

The segments task's per-frame networks are in framewise.py. Adding an encoder means a class here,
its name in KINDS, and its section in the schema.
"""

import io
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from andiflow.atomic import atomic_path
from andiflow.errors import ModelFileError
from andiflow.framewise import FRAME_KINDS
from andiflow.heads import HEADS


class Estimator(nn.Module):
    """What every encoder shares. An encoder gives per-step features (`steps`: [batch, steps,
    channels]) and pools them as it was trained (`pool`); the head of its task (heads.HEADS[output])
    reads the pooled features through `fc` (dropout and one linear layer). A task reading every step
    would attach its head to `steps` instead."""

    def __init__(self, features: int, dropout: float, axes: int, output: str = "regression", grid=None, classes=None):
        super().__init__()
        self.axes, self.output, self.head = axes, output, HEADS[output]
        self.median = "grid"  # how a distribution is read out (heads.MEDIANS); not saved: inference sets it
        self.fc = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(features, self.head.size(grid, classes)))
        self.head.attach(self, grid)

    def steps(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def pool(self, steps: torch.Tensor) -> torch.Tensor:
        """The last step's features (HNU's)."""
        return steps[:, -1]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.steps(x))).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: normalised positions -> [batch] predicted alpha, or [batch, classes] log-probabilities."""
        return self.head.forward(self, self.logits(x))

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """A distribution model's probabilities over the alpha grid, [batch, grid]."""
        return torch.softmax(self.logits(x), dim=-1)

    def loss(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.head.loss(self, self.logits(x), target)

    def scores(self, out: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
        """(validation loss, validation metric) of outputs `out` (forward's)."""
        return self.head.scores(out, target)


class AnDiLSTM(Estimator):
    """HNU's network."""

    def __init__(self, hidden_size: int = 64, num_layers: int = 3, dropout: float = 0.2, axes: int = 1, **output):
        super().__init__(hidden_size, dropout, axes, **output)
        self.lstm = nn.LSTM(axes, hidden_size, num_layers, batch_first=True)

    def steps(self, x):
        out, _ = self.lstm(channels(x).transpose(1, 2))  # zero initial states, as HNU's h0/c0
        return out


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

    def steps(self, x):
        h = self.conv_in(channels(x))
        total = h
        for layer in self.gated:
            h = self.mix(layer(h))
            total = total + h
        out, _ = self.lstm(self.drop(self.norm(total)).transpose(1, 2))
        return out


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

    def steps(self, x):
        x = channels(x)
        steps = x[..., 1:] - x[..., :-1]
        rms = torch.sqrt(torch.mean(steps**2, dim=(1, 2), keepdim=True)) + 1e-8
        h = F.gelu(self.conv1(F.pad(steps / rms, (self.block - 1, 0))))
        h = h + F.gelu(self.conv2(h))
        # blocks counted from the last step back, so the last LSTM step ends at the last displacement
        # and the zero steps in front fill the first block; fixed-size ops only, so it exports to ONNX
        blocks = self.blocks(h.flip(-1)).flip(-1)
        out, _ = self.lstm(F.gelu(blocks).transpose(1, 2))
        return out

    def pool(self, steps):
        """The last and the mean LSTM outputs."""
        return torch.cat([steps[:, -1], steps.mean(dim=1)], dim=-1)


KINDS = {"lstm": AnDiLSTM, "wavenet": WaveNetLSTM, "convlstm": ConvLSTM}


def build(settings: dict) -> Estimator:
    """A fresh model from its settings (settings_of); files saved before `output` existed regress."""
    options = dict(settings)
    return (KINDS | FRAME_KINDS)[options.pop("kind")](**options)


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


def predict_in_batches(model, x: torch.Tensor, batch_values: int, device=None) -> torch.Tensor:
    """Model outputs (or a model method's) for x [n, length] or [n, axes, length], in batches of at
    most `batch_values` numbers, which bounds the memory cuDNN asks for at long lengths. Batches are
    moved to `device` if given."""
    batch = max(1, batch_values // x[0].numel())
    with torch.inference_mode():
        return torch.cat(
            [model(x[i : i + batch].to(device) if device else x[i : i + batch]) for i in range(0, len(x), batch)]
        )
