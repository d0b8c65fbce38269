"""NSE* loss (Kratzert et al. 2019, HESS 23, 5089): basin-averaged NSE as a training loss.

loss = mean over valid (sample, step) of (ŷ − y)² / (σ_b + eps)², σ_b the training-period std
of the target of the sample's basin (in the same units as ŷ and y). NaN targets are masked.
"""

from __future__ import annotations

import torch


def nse_star_loss(y_hat: torch.Tensor, y: torch.Tensor, sigma: torch.Tensor, eps: float) -> torch.Tensor:
    """y_hat, y: (B,) or (B, n); sigma: (B,) per-sample basin σ. Returns a scalar tensor.

    Averages over every finite target; all-NaN targets give a 0 loss that carries no gradient.
    """
    y_hat = y_hat.float()
    y = y.float()
    if y.dim() == 1:
        y, y_hat = y[:, None], y_hat[:, None]
    weight = 1.0 / (sigma.float()[:, None] + eps) ** 2
    mask = torch.isfinite(y)
    sq = (y_hat - torch.where(mask, y, torch.zeros_like(y))) ** 2 * weight
    sq = torch.where(mask, sq, torch.zeros_like(sq))
    n = mask.sum()
    return sq.sum() / n.clamp(min=1)
