"""The seed's network: a 3-layer LSTM over the positions, dropout, one linear output (no activation)."""

import torch
from torch import nn


class AnDiLSTM(nn.Module):
    def __init__(self, hidden_size: int = 64, num_layers: int = 3, dropout: float = 0.2):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(hidden_size, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [batch, length] normalised positions -> [batch] predicted alpha."""
        out, _ = self.lstm(x.unsqueeze(-1))  # zero initial states, as the seed's h0/c0
        return self.fc(out[:, -1]).squeeze(-1)


def predict_in_batches(model: nn.Module, x: torch.Tensor, batch_values: int, device=None) -> torch.Tensor:
    """Model outputs for x [n, length], in batches of at most `batch_values` numbers (batch x length),
    which bounds the memory cuDNN asks for at long lengths. Batches are moved to `device` if given."""
    batch = max(1, batch_values // x.shape[1])
    with torch.inference_mode():
        return torch.cat([model(x[i : i + batch].to(device) if device else x[i : i + batch])
                          for i in range(0, len(x), batch)])
