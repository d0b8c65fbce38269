"""The pooled linear probe for every target at once, in one streaming pass over a zarr store.

Per target k the pass accumulates, in float64 and over the rows where the states and target k
are complete: the count n, Σx, Σy, Σy², XᵀX and Xᵀy (data shifted by a reference value taken from
the first block, to keep the centred moments accurate). The standardised ridge problem of
`hydroprobe.probes.fit_linear_probe` is then solved from these moments alone, so the weights
are the same (to rounding) while memory is bounded by one block of the store, never the store.
Rows are grouped by which targets they have, so a block where every target is present costs one
Gram matrix for all targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from hydroprobe.errors import InputDataError
from hydroprobe.probes import LinearProbe


@dataclass
class Moments:
    """Shifted sufficient statistics of one target's least-squares problem."""

    x_shift: np.ndarray
    y_shift: float
    n: int = 0
    sx: np.ndarray = None
    sy: float = 0.0
    syy: float = 0.0
    xtx: np.ndarray = None
    xty: np.ndarray = None

    def __post_init__(self):
        d = self.x_shift.size
        self.sx = np.zeros(d) if self.sx is None else self.sx
        self.xtx = np.zeros((d, d)) if self.xtx is None else self.xtx
        self.xty = np.zeros(d) if self.xty is None else self.xty

    def solve(self, ridge: float = 0.0) -> LinearProbe:
        """The standardised ridge solution (as `fit_linear_probe`) from the moments."""
        d = self.x_shift.size
        if self.n <= d:
            raise InputDataError(f"linear probe: only {self.n} complete training rows for {d} features")
        mx, my = self.sx / self.n, self.sy / self.n
        cov = self.xtx / self.n - np.outer(mx, mx)
        cxy = self.xty / self.n - mx * my
        var_y = self.syy / self.n - my * my
        std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        std = np.where(std > 0, std, 1.0)
        y_std = float(np.sqrt(max(var_y, 0.0)))
        if y_std == 0:
            raise InputDataError("linear probe: the target has no variance in the training period")
        gram = self.n * cov / np.outer(std, std) + ridge * self.n * np.eye(d)
        weights = np.linalg.solve(gram, self.n * cxy / (std * y_std))
        return LinearProbe(self.x_shift + mx, std, float(self.y_shift + my), y_std, weights, 0.0)


def accumulate_block(moments: dict, x: np.ndarray, y: np.ndarray, names: list[str]) -> None:
    """Add one block: x (rows, dim) states, y (rows, targets) to the per-target moments
    (created on first use, shifts from this block)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    feat_ok = np.isfinite(x).all(axis=1)
    have = np.isfinite(y) & feat_ok[:, None]  # (rows, targets)
    if not have.any():
        return
    codes = have @ (1 << np.arange(len(names), dtype=np.int64))
    for code in np.unique(codes[codes > 0]):
        rows = codes == code if (codes != code).any() else slice(None)
        members = [k for k in range(len(names)) if code >> k & 1]
        xs_raw, ys_raw = x[rows], y[rows]
        for k in members:
            if names[k] not in moments:
                moments[names[k]] = Moments(xs_raw.mean(axis=0), float(ys_raw[:, k].mean()))
        x_shift = moments[names[members[0]]].x_shift
        if all(np.array_equal(moments[names[k]].x_shift, x_shift) for k in members):
            xs = xs_raw - x_shift
            gram, sx = xs.T @ xs, xs.sum(axis=0)
            shared = True
        else:
            shared = False
        for k in members:
            m = moments[names[k]]
            if not shared:
                xs = xs_raw - m.x_shift
                gram, sx = xs.T @ xs, xs.sum(axis=0)
            yk = ys_raw[:, k] - m.y_shift
            m.n += len(yk)
            m.sx += sx
            m.xtx += gram
            m.xty += xs.T @ yk
            m.sy += float(yk.sum())
            m.syy += float(yk @ yk)


def iter_blocks(store: str | Path, variable: str = "c", time_index=None, max_block_mb: float = 32.0):
    """Yield (time slice, basin slice, block (time, basin, dim) float32) over the store,
    reading whole zarr chunks and grouping basin chunks up to `max_block_mb`."""
    arr = zarr.open_group(str(store), mode="r")[variable]
    n_t, n_b, n_d = arr.shape
    ct, cb = arr.chunks[0], arr.chunks[1]
    t0, t1 = (0, n_t) if time_index is None else time_index
    per_basin_chunk = ct * cb * n_d * arr.dtype.itemsize / 2**20
    group = max(1, int(max_block_mb // max(per_basin_chunk, 1e-9)))
    for ts in range(t0 - t0 % ct, t1, ct):
        tsl = slice(max(ts, t0), min(ts + ct, t1))
        for bs in range(0, n_b, cb * group):
            bsl = slice(bs, min(bs + cb * group, n_b))
            yield tsl, bsl, arr[tsl, bsl, :]


def fit_linear_probes_streaming(store: str | Path, targets: xr.Dataset, target_names, train_period,
                                variable: str = "c", ridge: float = 0.0,
                                max_block_mb: float = 32.0) -> dict[str, LinearProbe]:
    """Fit the pooled linear probe of every target in `target_names` in ONE pass over the
    states `variable` (time, basin, dim) of the zarr `store`, train period only.

    `targets` holds the targets on (basin, time) (may be lazy, e.g. the basin dataset; only the
    block matching each states block is loaded). Returns {target: LinearProbe}, equal to
    `fit_linear_probe` on the same rows."""
    target_names = list(target_names)
    coords = xr.open_zarr(str(store), consolidated=False)  # lazy: only coordinates are read
    times = pd.DatetimeIndex(coords["time"].values)
    basins = coords["basin"].values
    missing = np.setdiff1d(basins, targets["basin"].values)
    if missing.size:
        raise InputDataError(f"probe targets have no series for basin {int(missing[0])}")
    in_train = (times >= pd.Timestamp(train_period[0])) & (times <= pd.Timestamp(train_period[1]))
    idx = np.flatnonzero(in_train)
    if idx.size == 0:
        raise InputDataError(f"no state lies in the train period {train_period}")
    t0, t1 = int(idx[0]), int(idx[-1]) + 1  # times are sorted: the period is one index range
    b_pos = targets.get_index("basin").get_indexer(basins)
    t_pos = targets.get_index("time").get_indexer(times)
    moments: dict[str, Moments] = {}
    for tsl, bsl, block in iter_blocks(store, variable, (t0, t1), max_block_mb):
        tp, bp = t_pos[tsl], b_pos[bsl]
        ys = []
        for name in target_names:
            da = targets[name].transpose("time", "basin")
            vals = np.full((len(tp), len(bp)), np.nan)
            ok = tp >= 0
            if ok.any():
                vals[ok] = np.asarray(da.isel(time=tp[ok], basin=bp).values, dtype=np.float64)
            ys.append(vals.reshape(-1))
        accumulate_block(moments, block.reshape(-1, block.shape[-1]), np.stack(ys, axis=1), target_names)
    out = {}
    for name in target_names:
        if name not in moments:
            raise InputDataError(f"linear probe: no complete training rows for target '{name}'")
        out[name] = moments[name].solve(ridge)
    return out
