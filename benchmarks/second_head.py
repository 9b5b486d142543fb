"""The diffusion_model task's network: its own (the workflow's choice) or a second head on the alpha
network (one encoder, two outputs, the sum of both cross-entropies as the loss), at equal data and epochs.
Prints, per length, the validation MAE of alpha and the validation error rate of the diffusion model
of each, and the CPU seconds it took to train. With --dim 2 or 3, the two heads read all axes, which
also tests an alpha network of the dimension against HNU's per-axis reading of a 1D one.

    python benchmarks/second_head.py                       # L = 100 and 300, ~15 min on one thread
    python benchmarks/second_head.py --dim 3 --lengths 100

The encoder and recipe are config/convlstm-cpu.yaml's (convlstm, distribution output, batch 128, lr
1e-3 falling along a cosine, bf16); the data are 1D trajectories of the 2020 recipe, fresh for each
length, the same for every run (the first --n-valid validate).
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from torch import nn

from andiflow import settings
from andiflow.heads import HEADS
from andiflow.model import build
from andiflow.simulate import Recipe, training_shard
from andiflow.tasks import MODELS
from andiflow.train import cosine_schedule

CONFIG = settings.resolve(
    yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "convlstm-cpu.yaml").read_text())
)


class TwoHeads(nn.Module):
    """The alpha network with a second head on its pooled features: the diffusion model's
    log-probabilities (heads.HEADS["classes"])."""

    def __init__(self, alpha_net):
        super().__init__()
        self.net = alpha_net
        features = alpha_net.fc[1].in_features
        self.classes = nn.Sequential(nn.Dropout(p=alpha_net.fc[0].p), nn.Linear(features, len(MODELS)))

    def features(self, x):
        return self.net.pool(self.net.steps(x))

    def loss(self, x, targets):
        alpha, model = targets
        features = self.features(x)
        return self.net.head.loss(self.net, self.net.fc(features).float(), alpha) + HEADS["classes"].loss(
            None, self.classes(features).float(), model
        )

    def forward(self, x):
        return self.net(x), HEADS["classes"].forward(None, self.classes(self.features(x)).float())


class OneHead(nn.Module):
    """A network of one task, with the loss and outputs of TwoHeads' interface. A 1D alpha network
    reads a 2D/3D trajectory as HNU did: each axis alone, the estimates averaged."""

    def __init__(self, net, task: str):
        super().__init__()
        self.net, self.task = net, task

    def loss(self, x, targets):
        return self.net.loss(x, targets[0] if self.task == "alpha" else targets[1])

    def forward(self, x):
        if self.task == "alpha":
            per_axis = x.dim() == 3 and self.net.axes == 1
            out = self.net(x.flatten(0, 1)).view(x.shape[:2]).mean(dim=1) if per_axis else self.net(x)
            return out, None
        return None, self.net(x)


def train(network, x, targets, epochs: int, seed: int) -> float:
    """Adam, batch 128, cosine schedule, bf16 autocast; returns the CPU seconds spent."""
    tr = dict(CONFIG["train"], max_epochs=epochs)
    schedule = cosine_schedule(tr, len(x))
    optimizer = torch.optim.Adam(network.parameters(), lr=tr["learning_rate"])
    shuffle = torch.Generator().manual_seed(seed)
    start = time.process_time()
    network.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=shuffle)
        for batch, i in enumerate(range(0, len(x), tr["batch_size"])):
            rows = order[i : i + tr["batch_size"]]
            for group in optimizer.param_groups:
                group["lr"] = schedule(epoch, batch)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = network.loss(x[rows], [t[rows] for t in targets])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return time.process_time() - start


def scores(network, x, alpha, model) -> tuple[float, float]:
    """(validation MAE of alpha, validation error rate of the model); NaN for what it does not give."""
    network.eval()
    with torch.inference_mode():
        pairs = [network(x[i : i + 256]) for i in range(0, len(x), 256)]
    estimate, log_p = ([p[k] for p in pairs] for k in (0, 1))
    mae = torch.mean(torch.abs(torch.cat(estimate) - alpha)).item() if estimate[0] is not None else math.nan
    error = (torch.cat(log_p).argmax(-1) != model).float().mean().item() if log_p[0] is not None else math.nan
    return mae, error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--n-train", type=int, default=100_000)
    parser.add_argument("--n-valid", type=int, default=5_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--dim",
        type=int,
        default=1,
        help="2 or 3: the diffusion_model network and the two heads read all axes; alpha alone is "
        "trained on as many 1D trajectories and reads each axis (HNU's reading)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    recipe = Recipe.from_settings(CONFIG["data"])
    print(f"# benchmarks/second_head.py: {args.n_train:,} training and {args.n_valid:,} validation trajectories,")
    print(f"# {args.epochs} epochs, 1 thread, torch {torch.__version__}, {args.dim}D validation trajectories")
    print(f"{'length':>6} {'network':<28} {'valid MAE':>9} {'valid error':>11} {'CPU s':>7}")
    train_rows, valid_rows = slice(args.n_valid, None), slice(None, args.n_valid)
    for length in args.lengths:
        data = {
            d: tensors(training_shard(length, args.n_train + args.n_valid, 1000 * d + length, recipe, d))
            for d in {1, args.dim}
        }
        axes = args.dim
        runs = {
            "alpha alone": (OneHead, "alpha", 1, "alpha"),
            "model alone (the workflow's)": (OneHead, "diffusion_model", axes, "diffusion_model"),
            "two heads, one encoder": (TwoHeads, "alpha", axes, None),
        }
        for name, (kind, task, reads, head) in runs.items():
            torch.manual_seed(length)
            net = build(settings.model_settings(CONFIG, task, reads))
            network = kind(net, head) if head else kind(net)
            x, alpha, model = data[reads]
            seconds = train(network, x[train_rows], [alpha[train_rows], model[train_rows]], args.epochs, seed=length)
            x, alpha, model = data[args.dim]
            mae, error = scores(network, x[valid_rows], alpha[valid_rows], model[valid_rows])
            print(f"{length:>6} {name:<28} {mae:9.4f} {error:11.4f} {seconds:7.0f}", flush=True)


def tensors(shard: dict) -> tuple[torch.Tensor, ...]:
    """(positions, alpha, model) of a shard's arrays."""
    return tuple(
        torch.from_numpy(shard[c].astype(np.int64) if c == "model" else shard[c])
        for c in ("positions", "alpha", "model")
    )


if __name__ == "__main__":
    main()
