"""Load a checkpoint and run the LSTM sequence-to-one over windows of the basin dataset."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch
import xarray as xr

from hydroprobe.model.checkpoints import load_checkpoint
from hydroprobe.model.device import configure_cpu, resolve_device
from hydroprobe.model.lstm import HydroLSTM, build_model
from hydroprobe.model.normalisation import Normalisation
from hydroprobe.model.windows import WindowData, build_window_data, complete_windows, gather_windows


def load_model(path: str | os.PathLike, device: str | torch.device | None = "cpu") -> tuple[HydroLSTM, dict]:
    """(model in eval mode on ``device``, the checkpoint dict). ``device`` "auto"/None → cuda if
    available, else cpu."""
    device = resolve_device(device)
    ckpt = load_checkpoint(path)
    model = build_model(ckpt["model_config"])
    model.load_state_dict(ckpt["state_dict"])
    model.to(device).eval()
    return model, ckpt


def window_data_for(dataset: xr.Dataset, ckpt: dict, start, end) -> WindowData:
    """The normalised inputs from ``seq_length − 1`` days before ``start`` up to ``end``."""
    norm = Normalisation.from_dict(ckpt["normalisation"])
    seq_length = int(ckpt["model_config"]["seq_length"])
    lo = pd.Timestamp(start) - pd.Timedelta(days=seq_length - 1)
    return build_window_data(dataset, norm, start=lo, end=pd.Timestamp(end))


def iter_basin_windows(
    data: WindowData, seq_length: int, end_idx: torch.Tensor, batch_windows: int
) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """For each basin i: (i, positions into ``end_idx`` of complete windows, their (B, L, F)
    inputs), in batches of ``batch_windows``."""
    ok = complete_windows(data, seq_length)[:, end_idx]
    for i in range(len(data.basins)):
        pos = torch.nonzero(ok[i]).flatten()
        for s in range(0, pos.numel(), int(batch_windows)):
            p = pos[s : s + int(batch_windows)]
            ends = end_idx[p]
            yield i, p, gather_windows(data.x, torch.full_like(ends, i), ends, seq_length)


def iter_window_batches(
    data: WindowData, seq_length: int, end_idx: torch.Tensor, batch_windows: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of exactly ``batch_windows`` complete windows (the last one may be smaller),
    filled across basin boundaries in (basin, day) order: (basin indices, positions into
    ``end_idx``), the basin indices non-decreasing. Full batches whatever the period length,
    so the working memory of a forward pass does not depend on it."""
    ok = complete_windows(data, seq_length)[:, end_idx]
    size = int(batch_windows)
    bs: list[torch.Tensor] = []
    ps: list[torch.Tensor] = []
    n = 0
    for i in range(len(data.basins)):
        pos = torch.nonzero(ok[i]).flatten()
        s = 0
        while s < pos.numel():
            take = min(size - n, pos.numel() - s)
            bs.append(torch.full((take,), i, dtype=torch.long))
            ps.append(pos[s : s + take])
            n += take
            s += take
            if n == size:
                yield torch.cat(bs), torch.cat(ps)
                bs, ps, n = [], [], 0
    if n:
        yield torch.cat(bs), torch.cat(ps)


def final_states_streamed(
    model: HydroLSTM,
    x: torch.Tensor,
    basin_idx: torch.Tensor,
    end_idx: torch.Tensor,
    seq_length: int,
    device: torch.device,
    step_chunk: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(h_n, c_n), each (B, hidden): the states after the ``seq_length``-day windows of ``x``
    (basin, time, features) ending at ``end_idx`` of basins ``basin_idx``, from a zero state —
    what ``model.lstm`` returns for the gathered windows, but fed ``step_chunk`` days at a time with
    (h, c) carried over, so neither the gathered inputs nor the LSTM's per-step outputs and gate
    buffers are ever held for the whole window: working memory ∝ B × step_chunk. With ``x``
    already on ``device`` the windows are gathered there."""
    basin_idx, end_idx = basin_idx.to(x.device), end_idx.to(x.device)
    state = None
    for s in range(0, int(seq_length), int(step_chunk)):
        k = min(int(step_chunk), int(seq_length) - s)
        xb = gather_windows(x, basin_idx, end_idx - (int(seq_length) - s - k), k).to(device)
        _, state = model.lstm(xb, state)
    h_n, c_n = state
    return h_n[0], c_n[0]


def predict_discharge(
    checkpoint_path: str | os.PathLike,
    dataset: xr.Dataset,
    period: tuple[str, str],
    batch_windows: int,
    threads: int | None = None,
    device: str | torch.device | None = "auto",
) -> xr.DataArray:
    """Simulated target (original units) on (basin, time) for the days of ``period``:
    the prediction at t comes from the window of ``seq_length`` days ending at t (zero initial
    state). Windows with incomplete inputs give NaN."""
    configure_cpu(threads)
    model, ckpt = load_model(checkpoint_path, device)
    device = next(model.parameters()).device
    model_config = ckpt["model_config"]
    norm = Normalisation.from_dict(ckpt["normalisation"])
    data = window_data_for(dataset, ckpt, period[0], period[1])
    keep = (data.times >= pd.Timestamp(period[0])) & (data.times <= pd.Timestamp(period[1]))
    end_idx = torch.from_numpy(np.flatnonzero(keep))
    out = np.full((len(data.basins), end_idx.numel()), np.nan, dtype=np.float32)
    with torch.inference_mode():
        for i, pos, xb in iter_basin_windows(data, int(model_config["seq_length"]), end_idx, batch_windows):
            y = model(xb.to(device), last_n=1)[:, -1].float().cpu().numpy()
            out[i, pos.numpy()] = y * norm.target_std + norm.target_mean
    if model_config["clip_target_at_zero"]:
        out = np.where(np.isfinite(out), np.maximum(out, 0.0), out)
    return xr.DataArray(
        out,
        dims=("basin", "time"),
        coords={"basin": data.basins.astype(np.int32), "time": data.times[keep]},
        name=f"{model_config['target']}_sim",
    )
