"""The encoders andiflow can train, built from the `model` section of the configuration, and the one
checkpoint format they are saved in.

`lstm` is HNU's network: a 3-layer LSTM over the normalised positions, dropout, one linear output
(no activation). An encoder is a module mapping [batch, length] positions to [batch] alpha; adding
one means a class here, its name in KINDS, and its keys in the schema.
"""

import io
from pathlib import Path

import torch
from torch import nn

from andiflow.atomic import atomic_path
from andiflow.errors import ModelFileError


class AnDiLSTM(nn.Module):
    def __init__(self, hidden_size: int = 64, num_layers: int = 3, dropout: float = 0.2):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(hidden_size, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [batch, length] normalised positions -> [batch] predicted alpha."""
        out, _ = self.lstm(x.unsqueeze(-1))  # zero initial states, as HNU's h0/c0
        return self.fc(out[:, -1]).squeeze(-1)


KINDS = {"lstm": AnDiLSTM}


def build(settings: dict) -> nn.Module:
    """A fresh model from the `model` section: its `kind` and that kind's keys."""
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


def predict_in_batches(model: nn.Module, x: torch.Tensor, batch_values: int, device=None) -> torch.Tensor:
    """Model outputs for x [n, length], in batches of at most `batch_values` numbers (batch x length),
    which bounds the memory cuDNN asks for at long lengths. Batches are moved to `device` if given."""
    batch = max(1, batch_values // x.shape[1])
    with torch.inference_mode():
        return torch.cat(
            [model(x[i : i + batch].to(device) if device else x[i : i + batch]) for i in range(0, len(x), batch)]
        )
