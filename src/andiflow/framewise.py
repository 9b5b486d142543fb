"""Networks that answer at every frame of a track (the segments task): raw positions [batch, 2, T] in
any unit in, per-frame outputs [batch, T, 7] out: the probability that a new segment starts at the
frame, alpha, log10 K (K in the positions' unit^2 / frame^alpha), and the probability of each state
(phenom.STATES). Any T from 2 frames; trained on windows of `min_length` to the shards' length.

The networks see the track's shape only: steps over their RMS, and each step's log squared size
relative to the mean squared step. log10 K is the network's output plus log10 of the mean squared
step, so a track in nm gives the K of the same track in um times 10^6: the answer does not depend on
the unit, and nothing but the frame interval and the unit is needed to state K physically.

Encoders (the bake-off of benchmarks/segments_encoders.py):
- `dilated`: residual blocks of dilated convolutions (dilation 1, 2, 4, ... cycling), after the
  per-frame networks of the 2024 challenge's prototypes;
- `unet`: a 1-D U-Net, as the 2024 leaders (U-AnD-ME, AnDi-J): strided convolutions down, transposed
  ones up, skips across;
- `bilstm`: a bidirectional LSTM over convolved step features.
"""

import torch
import torch.nn.functional as F
from torch import nn

STATES = 4  # phenom.STATES: immobile, confined, free, directed
OUTPUTS = 3 + STATES  # changepoint, alpha, log10 K, the states
CP_WIDTH = 1.0  # frames: the changepoint target is a Gaussian of this width around each true changepoint


def frame_features(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(features [batch, 4, T], log10 of the mean squared step [batch, 1, 1]) of positions [batch, 2, T]:
    each frame's step from the frame before (0 at frame 0) over the steps' RMS, its log10 squared size
    relative to the mean, and a channel marking frame 0, which has no step."""
    steps = F.pad(x[..., 1:] - x[..., :-1], (1, 0))
    squared = (steps**2).sum(dim=1, keepdim=True)
    mean = squared.sum(dim=-1, keepdim=True) / (squared.shape[-1] - 1) + 1e-12
    first = torch.zeros_like(squared)
    first[..., 0] = 1.0
    features = torch.cat([steps / mean.sqrt(), torch.log10(squared / mean + 1e-3), first], dim=1)
    return features, torch.log10(mean)


class FrameEstimator(nn.Module):
    """What every per-frame encoder shares: the features, the heads (a 1x1 convolution to OUTPUTS
    channels), the loss and the validation scores. Encoders give features [batch, channels, T]."""

    output = "frames"
    axes = 2

    def __init__(self, channels: int, dropout: float, min_length: int):
        super().__init__()
        self.min_length = min_length
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Conv1d(channels, OUTPUTS, 1))

    def encode(self, features: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """[batch, OUTPUTS, T]: the changepoint logit, alpha, log10 K, the state logits."""
        features, scale = frame_features(x)
        out = self.head(self.encode(features)).float()
        return torch.cat([out[:, :2], out[:, 2:3] + scale, out[:, 3:]], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[batch, T, OUTPUTS]: P(changepoint), alpha, log10 K, P(state) at each frame."""
        out = self.logits(x)
        return torch.cat([torch.sigmoid(out[:, :1]), out[:, 1:3], torch.softmax(out[:, 3:], dim=1)], 1).transpose(1, 2)

    def loss(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """target [batch, 4, T]: changepoint (0/1), alpha, K, state. In training, every batch is cut to
        a window of random length (min_length to T) at a random start, as a field of view cuts tracks."""
        if self.training:
            x, target = random_window(x, target, self.min_length)
        return frame_loss(self.logits(x), target)

    def scores(self, out: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
        """(validation loss, validation error) of forward's outputs: the loss is the sum of the
        changepoint BCE, alpha MAE, log10 K MAE and state cross-entropy; the error the same with the
        state's error rate for its cross-entropy."""
        out = out.transpose(1, 2)
        cp, alpha, log_k, p = out[:, 0], out[:, 1], out[:, 2], out[:, 3:]
        bce = F.binary_cross_entropy(cp.clamp(1e-6, 1 - 1e-6), changepoint_target(target[:, 0])).item()
        state = target[:, 3].long()
        ce = F.nll_loss(torch.log(p.clamp(min=1e-9)), state).item()
        wrong = (p.argmax(dim=1) != state).float().mean().item()
        mae = (alpha - target[:, 1]).abs().mean().item() + _log_k_error(log_k, target[:, 2]).item()
        return bce + mae + ce, bce + mae + wrong


def _log_k_error(log_k: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """MAE of log10 K over the frames where K > 0 (immobile frames are labelled K = 0)."""
    moving = k > 0
    if not moving.any():
        return log_k.sum() * 0
    return (log_k[moving] - torch.log10(k[moving])).abs().mean()


def changepoint_target(changepoint: torch.Tensor) -> torch.Tensor:
    """[batch, T] in [0, 1]: a Gaussian of width CP_WIDTH frames around each changepoint."""
    reach = 3
    offsets = torch.arange(-reach, reach + 1, dtype=torch.float32, device=changepoint.device)
    kernel = torch.exp(-(offsets**2) / (2 * CP_WIDTH**2))
    spread = F.conv1d(changepoint[:, None].float(), kernel.view(1, 1, -1), padding=reach)
    return spread[:, 0].clamp(max=1.0)


def frame_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    cp = F.binary_cross_entropy_with_logits(logits[:, 0], changepoint_target(target[:, 0]))
    alpha = F.smooth_l1_loss(logits[:, 1], target[:, 1], beta=0.1)
    log_k = _log_k_error(logits[:, 2], target[:, 2])
    state = F.cross_entropy(logits[:, 3:], target[:, 3].long())
    return cp + alpha + log_k + state


def random_window(x: torch.Tensor, target: torch.Tensor, min_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The same random window of every track of a batch (drawn from torch's generator: seeded); a
    changepoint at the window's first frame is dropped, as it starts the window."""
    length = x.shape[-1]
    size = int(torch.randint(min(min_length, length), length + 1, ()))
    start = int(torch.randint(0, length - size + 1, ()))
    x, target = x[..., start : start + size], target[..., start : start + size].clone()
    target[:, 0, 0] = 0
    return x, target


class Dilated(FrameEstimator):
    """Conv1d(k3) -> `blocks` residual blocks x + conv1x1(gelu(conv_k3,dilated(gelu(x)))), dilations
    1, 2, 4, ... up to 64, then again."""

    def __init__(self, channels: int, blocks: int, dropout: float, min_length: int):
        super().__init__(channels, dropout, min_length)
        self.conv_in = nn.Conv1d(4, channels, 3, padding=1)
        self.dilated = nn.ModuleList(
            nn.Conv1d(channels, channels, 3, padding=2 ** (i % 7), dilation=2 ** (i % 7)) for i in range(blocks)
        )
        self.mix = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in range(blocks))

    def encode(self, features):
        h = self.conv_in(features)
        for dilated, mix in zip(self.dilated, self.mix):
            h = h + mix(F.gelu(dilated(F.gelu(h))))
        return F.gelu(h)


class UNet(FrameEstimator):
    """A 1-D U-Net: at each of `levels` levels two convolutions, then a stride-2 convolution down
    (channels doubling); back up by transposed convolutions, each joined to the skip of its level."""

    def __init__(self, channels: int, levels: int, dropout: float, min_length: int):
        super().__init__(channels, dropout, min_length)
        widths = [channels * 2**i for i in range(levels + 1)]
        self.conv_in = nn.Conv1d(4, channels, 3, padding=1)
        self.down_blocks = nn.ModuleList(_double_conv(w, w) for w in widths[:-1])
        self.downs = nn.ModuleList(nn.Conv1d(w, 2 * w, 3, stride=2, padding=1) for w in widths[:-1])
        self.bottom = _double_conv(widths[-1], widths[-1])
        self.ups = nn.ModuleList(nn.ConvTranspose1d(2 * w, w, 2, stride=2) for w in widths[:-1])
        self.up_blocks = nn.ModuleList(_double_conv(2 * w, w) for w in widths[:-1])

    def encode(self, features):
        h = self.conv_in(features)
        skips = []
        for block, down in zip(self.down_blocks, self.downs):
            h = block(h)
            skips.append(h)
            h = F.gelu(down(h))
        h = self.bottom(h)
        for up, block, skip in zip(reversed(self.ups), reversed(self.up_blocks), reversed(skips)):
            h = F.gelu(up(h))[..., : skip.shape[-1]]  # an odd length comes back one frame longer
            h = block(torch.cat([h, skip], dim=1))
        return h


def _double_conv(c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, 3, padding=1), nn.GELU(), nn.Conv1d(c_out, c_out, 3, padding=1), nn.GELU()
    )


class BiLSTM(FrameEstimator):
    """Two convolutions over the step features, then a bidirectional LSTM."""

    def __init__(self, hidden_size: int, num_layers: int, dropout: float, min_length: int):
        super().__init__(2 * hidden_size, dropout, min_length)
        self.conv = nn.Sequential(
            nn.Conv1d(4, hidden_size, 3, padding=1), nn.GELU(), nn.Conv1d(hidden_size, hidden_size, 3, padding=1)
        )
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers, batch_first=True, bidirectional=True)

    def encode(self, features):
        out, _ = self.lstm(F.gelu(self.conv(features)).transpose(1, 2))
        return out.transpose(1, 2)


FRAME_KINDS = {"dilated": Dilated, "unet": UNet, "bilstm": BiLSTM}
