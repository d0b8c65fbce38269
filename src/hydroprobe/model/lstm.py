"""The rainfall-runoff LSTM: one LSTM layer, dropout on its output, a linear head.

Equivalent to neuralhydrology's ``CudaLSTM`` as used by Lees et al. (2022): ``nn.LSTM`` picks
cuDNN on a GPU automatically. PyTorch orders the four gates i, f, g, o in the stacked weights;
the forget gate is the second block of ``hidden_size`` rows.
"""

from __future__ import annotations

import torch
from torch import nn


class HydroLSTM(nn.Module):
    """One-layer LSTM (batch_first) with output dropout and a linear regression head."""

    def __init__(
        self,
        n_inputs: int,
        hidden_size: int,
        output_dropout: float,
        initial_forget_bias: float,
    ) -> None:
        super().__init__()
        self.n_inputs = int(n_inputs)
        self.hidden_size = int(hidden_size)
        self.initial_forget_bias = float(initial_forget_bias)
        self.lstm = nn.LSTM(self.n_inputs, self.hidden_size, num_layers=1, batch_first=True)
        self.dropout = nn.Dropout(float(output_dropout))
        self.head = nn.Linear(self.hidden_size, 1)
        self._init_forget_bias()

    def _init_forget_bias(self) -> None:
        """Effective forget-gate bias (bias_ih + bias_hh) = ``initial_forget_bias``."""
        h = self.hidden_size
        with torch.no_grad():
            self.lstm.bias_ih_l0[h : 2 * h].zero_()
            self.lstm.bias_hh_l0[h : 2 * h].fill_(self.initial_forget_bias)

    def forward(self, x: torch.Tensor, last_n: int | None = None) -> torch.Tensor:
        """x (B, T, n_inputs) -> y (B, T) for every step, or (B, last_n) for the last steps."""
        out, _ = self.lstm(x)
        if last_n is not None:
            out = out[:, -int(last_n) :]
        return self.head(self.dropout(out)).squeeze(-1)


def build_model(model_config: dict) -> HydroLSTM:
    """The model described by a checkpoint's ``model_config`` dict."""
    return HydroLSTM(
        n_inputs=model_config["n_inputs"],
        hidden_size=model_config["hidden_size"],
        output_dropout=model_config["output_dropout"],
        initial_forget_bias=model_config["initial_forget_bias"],
    )
