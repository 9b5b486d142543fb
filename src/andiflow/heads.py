"""The heads a network can end in, named by its task (tasks.Task.head): what the last layer's outputs
mean, the training loss, and the validation scores. Each head reads the logits of the network's `fc`
layer (dropout and one linear layer over the pooled features of its encoder).

- `regression` (HNU's alpha): one number, MSE loss; scored by (MSE, MAE).
- `distribution` (alpha beyond HNU, after AnDi-J): a probability over the alpha grid, cross-entropy
  against the grid value nearest the true alpha, read out as its median, which minimises the absolute
  error: the grid value where the cumulative probability reaches one half, or (`median:
  interpolated`) the grouped-data median, continuous; scored as regression.
- `classes` (the diffusion model): a log-probability per class, cross-entropy; scored by
  (cross-entropy, error rate).
"""

import torch
import torch.nn.functional as F

MEDIANS = ("grid", "interpolated")  # how a distribution member is read out (ensemble.median)


class Regression:
    def size(self, grid, classes) -> int:
        return 1

    def attach(self, model, grid) -> None:
        pass

    def forward(self, model, logits: torch.Tensor) -> torch.Tensor:
        return logits.squeeze(-1)

    def loss(self, model, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(logits.squeeze(-1), target)

    def scores(self, out: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
        return torch.mean((out - target) ** 2).item(), torch.mean(torch.abs(out - target)).item()


class Distribution(Regression):
    def size(self, grid, classes) -> int:
        return len(grid or ())

    def attach(self, model, grid) -> None:
        model.register_buffer("grid", torch.tensor(grid, dtype=torch.float32))

    def forward(self, model, logits: torch.Tensor) -> torch.Tensor:
        p = torch.softmax(logits, dim=-1)
        cumulative = torch.cumsum(p, dim=-1)
        k = (cumulative < 0.5).sum(dim=-1).clamp(max=len(model.grid) - 1)
        if model.median == "grid":
            return model.grid[k]
        # each grid value the middle of a bin one grid step wide (the grid is uniform), its probability
        # spread evenly over the bin: the median is where the bin of k reaches one half
        step = model.grid[1] - model.grid[0]
        p_k, up_to_k = p.gather(-1, k[:, None])[:, 0], cumulative.gather(-1, k[:, None])[:, 0]
        return model.grid[k] + step * ((0.5 - up_to_k) / p_k.clamp(min=1e-12) + 0.5)

    def loss(self, model, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        nearest = torch.argmin(torch.abs(target[:, None] - model.grid[None, :]), dim=-1)
        return F.cross_entropy(logits, nearest)


class Classes:
    def size(self, grid, classes) -> int:
        return len(classes or ())

    def attach(self, model, grid) -> None:
        pass

    def forward(self, model, logits: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(logits, dim=-1)

    def loss(self, model, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target)

    def scores(self, out: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
        return F.nll_loss(out, target).item(), (out.argmax(dim=-1) != target).float().mean().item()


HEADS = {"regression": Regression(), "distribution": Distribution(), "classes": Classes()}
