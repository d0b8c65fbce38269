"""Cell states from one pass over each basin's series: the fast alternative to one window per day.

The paper's state at day t is the end of a ``seq_length``-day window run from a zero state, so a
period of T days costs T x seq_length LSTM steps. Run continuously, the series costs T steps: the
state at t is the one the LSTM carries after every earlier day of the pass. The pass starts from a
zero state ``seq_length`` days before the first day asked for, so that day's state equals the
window mode's; later days differ only by what the state remembers from beyond one window.

A day with a missing input restarts the state at zero after it, and a day counts as valid only
once ``seq_length`` complete days lie behind it: the same days are valid as in the window mode.
"""

from __future__ import annotations

import numpy as np
import torch

from hydroprobe.model.lstm import HydroLSTM
from hydroprobe.model.windows import WindowData


def continuous_states(
    model: HydroLSTM,
    data: WindowData,
    seq_length: int,
    end_idx: torch.Tensor,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(c, h, valid) at the days ``end_idx`` of ``data``: c and h float32 (day, basin, dim),
    valid bool (day, basin). Call under ``torch.inference_mode``."""
    n_basins, n_days, _ = data.x.shape
    hidden = model.hidden_size
    x = torch.nan_to_num(data.x, nan=0.0).to(device)  # a missing day's input never reaches a kept state
    input_ok = data.input_ok.numpy()
    has_gap = ~input_ok.all(axis=0)  # days on which some basin restarts
    kept_row = np.full(n_days, -1)
    kept_row[end_idx.numpy()] = np.arange(end_idx.numel())
    out_c = torch.empty((end_idx.numel(), n_basins, hidden), dtype=torch.float32, device=device)
    out_h = torch.empty_like(out_c)
    valid = np.zeros((end_idx.numel(), n_basins), dtype=bool)
    run = np.zeros(n_basins, dtype=np.int64)  # complete days in a row ending at t
    h = torch.zeros((1, n_basins, hidden), dtype=torch.float32, device=device)
    c = torch.zeros_like(h)
    for t in range(int(end_idx.max()) + 1):
        _, (h, c) = model.lstm(x[:, t : t + 1], (h, c))
        if has_gap[t]:
            gap = torch.from_numpy(~input_ok[:, t]).to(device)
            h[:, gap] = 0.0
            c[:, gap] = 0.0
        run = np.where(input_ok[:, t], run + 1, 0)
        row = kept_row[t]
        if row >= 0:
            out_c[row] = c[0]
            out_h[row] = h[0]
            valid[row] = run >= seq_length
    return out_c.cpu().numpy(), out_h.cpu().numpy(), valid
