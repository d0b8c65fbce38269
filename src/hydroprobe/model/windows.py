"""All basins' normalised inputs as one in-memory tensor, and windows gathered from it.

``WindowData.x`` is (basin, time, features) float32: the dynamic inputs, then the static
attributes repeated at every step, all standardised with the training-period statistics.
A sample is (basin index, end-day index); its window is the ``seq_length`` days ending there.
Batches are gathered with one advanced-indexing operation, never a per-sample Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.model.normalisation import Normalisation
from hydroprobe.periods import in_periods


@dataclass
class WindowData:
    x: torch.Tensor  # (basin, time, features) float32, NaN where an input is missing
    y: torch.Tensor  # (basin, time) float32 normalised target, NaN where missing
    input_ok: torch.Tensor  # (basin, time) bool: every feature finite
    basins: np.ndarray  # int32 gauge ids
    times: pd.DatetimeIndex

    @property
    def n_features(self) -> int:
        return int(self.x.shape[-1])


def build_window_data(
    dataset: xr.Dataset,
    norm: Normalisation,
    start=None,
    end=None,
) -> WindowData:
    """Normalise ``dataset`` (optionally only days start…end, inclusive) into a WindowData."""
    ds = dataset.sel(time=slice(start, end)) if (start is not None or end is not None) else dataset
    missing = [n for n in [*norm.dynamic_inputs, *norm.static_inputs] if n not in ds.variables]
    if missing:
        raise InputDataError(f"basin dataset lacks input variable(s) {', '.join(missing)}")
    n_b, n_t = ds.sizes["basin"], ds.sizes["time"]
    n_dyn, n_stat = len(norm.dynamic_inputs), len(norm.static_inputs)
    x = np.empty((n_b, n_t, n_dyn + n_stat), dtype=np.float32)
    for k, name in enumerate(norm.dynamic_inputs):
        v = ds[name].transpose("basin", "time").values.astype(np.float32)
        x[:, :, k] = (v - norm.dynamic_mean[name]) / norm.dynamic_std[name]
    for k, name in enumerate(norm.static_inputs):
        v = ds[name].values.astype(np.float32).reshape(n_b)
        x[:, :, n_dyn + k] = ((v - norm.static_mean[name]) / norm.static_std[name])[:, None]
    if norm.target in ds.variables:
        q = ds[norm.target].transpose("basin", "time").values.astype(np.float32)
        y = (q - norm.target_mean) / norm.target_std
    else:
        y = np.full((n_b, n_t), np.nan, dtype=np.float32)
    xt = torch.from_numpy(x)
    return WindowData(
        x=xt,
        y=torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)),
        input_ok=torch.isfinite(xt).all(dim=-1),
        basins=ds["basin"].values.astype(np.int32),
        times=pd.DatetimeIndex(ds["time"].values),
    )


def complete_windows(data: WindowData, seq_length: int) -> torch.Tensor:
    """(basin, time) bool: the window of ``seq_length`` days ending at t lies inside the data
    and has complete inputs."""
    bad = (~data.input_ok).to(torch.int32)
    cs = torch.nn.functional.pad(bad.cumsum(dim=1), (1, 0))  # cs[:, t+1] = bad count in 0..t
    n_t = bad.shape[1]
    ok = torch.zeros_like(data.input_ok)
    if n_t >= seq_length:
        n_bad = cs[:, seq_length:] - cs[:, : n_t - seq_length + 1]
        ok[:, seq_length - 1 :] = n_bad == 0
    return ok


def period_mask(times: pd.DatetimeIndex, period) -> torch.Tensor:
    """(time,) bool tensor for the inclusive period (start, end)."""
    return torch.from_numpy(in_periods(times, [period]))


def valid_samples(
    data: WindowData,
    seq_length: int,
    period,
    predict_last_n: int,
    target_mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(basin_idx, end_idx) int64 of the training samples: windows ending in ``period`` with
    complete inputs and at least one finite target among the last ``predict_last_n`` days
    (``target_mask`` (basin, time) restricts which targets count)."""
    ok = complete_windows(data, seq_length) & period_mask(data.times, period)[None, :]
    y_ok = torch.isfinite(data.y) if target_mask is None else (torch.isfinite(data.y) & target_mask)
    n = int(predict_last_n)
    cs = torch.nn.functional.pad(y_ok.to(torch.int32).cumsum(dim=1), (1, 0))
    t = torch.arange(data.y.shape[1])
    lo = (t - n + 1).clamp(min=0)
    ok &= (cs[:, t + 1] - cs[:, lo]) > 0
    b, e = torch.nonzero(ok, as_tuple=True)
    return b, e


def gather_windows(
    x: torch.Tensor, basin_idx: torch.Tensor, end_idx: torch.Tensor, length: int
) -> torch.Tensor:
    """(B, length, ...) windows of ``x`` (basin, time, ...) ending at ``end_idx``."""
    steps = torch.arange(-int(length) + 1, 1, device=end_idx.device)
    return x[basin_idx[:, None], end_idx[:, None] + steps[None, :]]
