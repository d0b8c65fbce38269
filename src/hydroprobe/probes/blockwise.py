"""Probes on a states store read block by block: memory bounded by a block, never the store.

A block is a group of basins over one period's days (the extraction stores each basin's whole
series as one zarr chunk, so a basin group reads whole chunks once). Controls are index maps,
applied as each block is read: `shuffle` takes each basin's series from another basin (the same
seeded derangement as `controls.shuffle_basins`), `shift` the state of `shift_days` earlier (by
label, as `controls.shift_states`). The raw-input baselines and the joint probe come as lazy
(dask) features computed a basin group at a time (`controls.lazy_input_features`), under no control.

- `fit_linear_probes_blockwise`: the pooled linear probe of every target in one pass over the
  train period: one float64 Gram per block shared by all targets (`streaming.block_grams`),
  solved from the summed moments; equal to `fit.fit_linear_probe` to rounding.
- `fit_offset_probes_blockwise`: the same with one intercept per basin (`fit.fit_offset_probe`):
  each basin's train series lies in one block, so its rows are centred there.
- `sample_train_rows`: a seeded random subsample of the train rows, for the probes whose
  estimators need their rows in memory (mlp, sgd_elasticnet).
- `score_blockwise`: per-basin test scores, a basin group at a time: each basin's whole test
  series is in one block, so the scores are exactly `fit.score_per_basin`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.periods import in_periods
from hydroprobe.probes.controls import basin_groups, derangement
from hydroprobe.probes.fit import BasinScaler, LinearProbe, OffsetProbe, PooledProbe, score_per_basin
from hydroprobe.probes.streaming import Moments, _blas_single_thread, add_block, block_grams

BLOCK_MB = 64.0  # float32 states per block; a few of these (casts, the gathered rows) are live at once


@dataclass(frozen=True)
class StateBlocks:
    """The states (time, basin, dim) a probe job sees, under its control, read block by block.

    `values` is the stored variable (lazy); the job's day i and basin j hold the stored state at
    day `source_times[i]` (-1: none, NaN) and basin `source_basins[j]`."""

    values: xr.DataArray
    source_times: np.ndarray
    source_basins: np.ndarray

    @classmethod
    def of(cls, states: xr.DataArray, control: str, seed: int = 0, shift_days: int = 0) -> StateBlocks:
        """The states under `control` (none, shuffle with the probes' `seed`, shift by `shift_days`)."""
        states = states.transpose("time", "basin", "dim")
        times = pd.DatetimeIndex(states["time"].values)
        source_times = np.arange(len(times))
        source_basins = np.arange(states.sizes["basin"])
        if control == "shuffle":
            source_basins = derangement(len(source_basins), seed)
        elif control == "shift":
            source_times = times.get_indexer(times - pd.Timedelta(days=shift_days))
        return cls(states, source_times, source_basins)

    @property
    def times(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.values["time"].values)

    @property
    def basins(self) -> np.ndarray:
        return self.values["basin"].values

    def days_in(self, period) -> np.ndarray:
        """Positions of the job's days within `period` (inclusive dates)."""
        return np.flatnonzero(in_periods(self.times, [tuple(period)]))

    def basin_groups(self, n_days: int, max_block_mb: float = BLOCK_MB) -> Iterator[slice]:
        """Consecutive basin groups whose `n_days` days of states fit `max_block_mb`."""
        return basin_groups(self.values.sizes["basin"], n_days, self.values.sizes["dim"], max_block_mb)

    def block(self, days: np.ndarray, basins: slice) -> np.ndarray:
        """The job's states on `days` (positions) and the `basins` group, float32 (time, basin, dim)."""
        src_t = self.source_times[days]
        src_b = self.source_basins[basins]
        ok = src_t >= 0
        out = np.full((len(days), len(src_b), self.values.sizes["dim"]), np.nan, dtype=np.float32)
        if ok.any():
            lo, hi = int(src_t[ok].min()), int(src_t[ok].max()) + 1
            contiguous = (np.diff(src_b) == 1).all()
            b_sel = slice(int(src_b[0]), int(src_b[-1]) + 1) if contiguous else src_b
            raw = np.asarray(self.values.isel(time=slice(lo, hi), basin=b_sel).values)
            out[ok] = raw[src_t[ok] - lo]
        return out


def block_targets(dataset: xr.Dataset, targets, blocks: StateBlocks, days, basins: slice) -> np.ndarray:
    """The `targets` (time, basin, target) float64 on a block's days and basins, NaN where the
    dataset has no value (as `fit.aligned_target`)."""
    names = blocks.basins[basins]
    times = blocks.times[days]
    out = np.empty((len(times), len(names), len(targets)))
    for k, target in enumerate(targets):
        y = dataset[target].sel(basin=names).transpose("time", "basin").reindex(time=times)
        out[..., k] = np.asarray(y.values, dtype=np.float64)
    return out


def _check_basins(dataset: xr.Dataset, targets, blocks: StateBlocks) -> None:
    for target in targets:
        missing = np.setdiff1d(blocks.basins, dataset[target]["basin"].values)
        if missing.size:
            raise InputDataError(f"probe target '{target}' has no series for basin {int(missing[0])}")


def _train_blocks(dataset, targets, blocks, train_period, target_scaling, max_block_mb):
    """Yield (basins, states, scaled targets, {target: scaler of these basins}) per train block."""
    _check_basins(dataset, targets, blocks)
    days = blocks.days_in(train_period)
    if days.size == 0:
        raise InputDataError(f"no state lies in the train period {tuple(train_period)}")
    for basins in blocks.basin_groups(len(days), max_block_mb):
        y = block_targets(dataset, targets, blocks, days, basins)
        scalers = {t: BasinScaler.fit(y[..., k], target_scaling) for k, t in enumerate(targets)}
        for k, t in enumerate(targets):
            y[..., k] = scalers[t].forward(y[..., k])
        yield basins, blocks.block(days, basins), y, scalers


def _joined(parts: dict[str, list[BasinScaler]]) -> dict[str, BasinScaler]:
    return {
        t: BasinScaler(np.concatenate([s.mean for s in p]), np.concatenate([s.std for s in p]))
        for t, p in parts.items()
    }


def fit_linear_probes_blockwise(
    dataset: xr.Dataset,
    targets,
    blocks: StateBlocks,
    train_period,
    *,
    ridge: float = 0.0,
    target_scaling: str = "global",
    max_block_mb: float = BLOCK_MB,
) -> dict[str, tuple[LinearProbe, BasinScaler]]:
    """The pooled linear probe of each of `targets` (variables of `dataset` on (basin, time)) on
    the train period, from one pass over `blocks`: {target: (probe on the scaled target, the
    per-basin target scaler)}, equal to `fit.probe_linear`'s fit to rounding."""
    targets = list(targets)
    moments: dict[str, Moments] = {}
    scalers: dict[str, list[BasinScaler]] = {t: [] for t in targets}
    work: dict = {}
    with _blas_single_thread():  # small products: one BLAS thread is faster on a shared node
        for _, x, y, block_scalers in _train_blocks(
            dataset, targets, blocks, train_period, target_scaling, max_block_mb
        ):
            add_block(moments, *block_grams(x, y, work), targets)
            for t in targets:
                scalers[t].append(block_scalers[t])
    joined = _joined(scalers)
    out = {}
    for t in targets:
        if t not in moments:
            raise InputDataError(f"linear probe: no complete training rows for target '{t}'")
        out[t] = (moments[t].solve(ridge), joined[t])
    return out


@dataclass
class _OffsetSums:
    """One target's sums for the per-basin-intercept probe: over complete rows, shifted by `shift`
    (Σx, Σx² per dim, for the feature scaler; Σy, Σy²), and within each basin (rows centred on the
    basin's own means: W = Σ(x-x̄_b)(x-x̄_b)ᵀ, V = Σ(x-x̄_b)(y-ȳ_b)), with each basin's means."""

    shift: np.ndarray
    n: int = 0
    sx: float = 0.0
    sxx: float = 0.0
    sy: float = 0.0
    syy: float = 0.0
    within_xx: float = 0.0
    within_xy: float = 0.0

    def add(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add a block x (time, basin, dim), y (time, basin); returns its basins' row counts and
        mean x and y (NaN without rows)."""
        rows = np.isfinite(x).all(axis=2) & np.isfinite(y)
        n_b = rows.sum(axis=0)
        xr_ = np.where(rows[..., None], x.astype(np.float64) - self.shift, 0.0)
        yr = np.where(rows, y, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            x_bar = xr_.sum(axis=0) / n_b[:, None]
            y_bar = yr.sum(axis=0) / n_b
        self.n += int(n_b.sum())
        self.sx = self.sx + xr_.sum(axis=(0, 1))
        self.sxx = self.sxx + (xr_**2).sum(axis=(0, 1))
        self.sy += float(yr.sum())
        self.syy += float((yr**2).sum())
        xc = np.where(rows[..., None], xr_ - np.nan_to_num(x_bar), 0.0)[rows]
        yc = np.where(rows, yr - np.nan_to_num(y_bar), 0.0)[rows]
        self.within_xx = self.within_xx + xc.T @ xc
        self.within_xy = self.within_xy + xc.T @ yc
        return n_b, x_bar + self.shift, y_bar


def fit_offset_probes_blockwise(
    dataset: xr.Dataset,
    targets,
    blocks: StateBlocks,
    train_period,
    *,
    ridge: float = 0.0,
    target_scaling: str = "global",
    max_block_mb: float = BLOCK_MB,
) -> dict[str, OffsetProbe]:
    """The per-basin-intercept probe (`fit.fit_offset_probe` on the states of `blocks`) of each
    of `targets`, from one pass over the train period; equal to it to rounding."""
    targets = list(targets)
    sums: dict[str, _OffsetSums] = {}
    means: dict[str, list] = {t: [] for t in targets}
    scalers: dict[str, list[BasinScaler]] = {t: [] for t in targets}
    d = blocks.values.sizes["dim"]
    with _blas_single_thread():  # small products: one BLAS thread is faster on a shared node
        for _, x, y, block_scalers in _train_blocks(
            dataset, targets, blocks, train_period, target_scaling, max_block_mb
        ):
            for k, t in enumerate(targets):
                if t not in sums:
                    ok = np.isfinite(x).all(axis=2)
                    sums[t] = _OffsetSums(x[ok].mean(axis=0).astype(np.float64) if ok.any() else np.zeros(d))
                means[t].append(sums[t].add(x, y[..., k]))
                scalers[t].append(block_scalers[t])
    joined = _joined(scalers)
    out = {}
    for t in targets:
        s = sums[t]
        n_b = np.concatenate([m[0] for m in means[t]])
        if s.n <= d + len(n_b):
            raise InputDataError(f"offset probe: only {s.n} complete training rows")
        mx = s.sx / s.n
        std = np.sqrt(np.clip(s.sxx / s.n - mx**2, 0.0, None))
        std = np.where(std > 0, std, 1.0)
        y_std = float(np.sqrt(max(s.syy / s.n - (s.sy / s.n) ** 2, 0.0)))
        if y_std == 0:
            raise InputDataError("offset probe: the target has no variance in the training period")
        mean = mx + s.shift
        gram = s.within_xx / np.outer(std, std) + ridge * s.n * np.eye(d)
        weights = np.linalg.solve(gram, s.within_xy / (std * y_std))
        z_bar = (np.concatenate([m[1] for m in means[t]]) - mean) / std
        y_bar = np.concatenate([m[2] for m in means[t]]) / y_std
        intercept = (y_bar - z_bar @ weights) * y_std
        out[t] = OffsetProbe(mean, std, y_std, weights, intercept, joined[t])
    return out


def sample_train_rows(
    dataset: xr.Dataset,
    target: str,
    blocks: StateBlocks,
    train_period,
    *,
    max_rows: int,
    seed: int,
    target_scaling: str = "global",
    max_block_mb: float = BLOCK_MB,
) -> tuple[np.ndarray, np.ndarray, BasinScaler]:
    """(states rows (rows, dim) float32, scaled target (rows,), per-basin target scaler) of the
    train period: every (day, basin) row when there are at most `max_rows`, in the order of the
    in-memory probes (day-major), else `max_rows` rows drawn without replacement with
    `numpy.random.default_rng(seed)` (kept in that order). Rows with a missing state or target
    are kept here and dropped by the fit, so a subsample may hold fewer complete rows."""
    n_days = len(blocks.days_in(train_period))
    n_b = blocks.values.sizes["basin"]
    n_rows = n_days * n_b
    chosen = None
    if n_rows > max_rows:
        chosen = np.sort(np.random.default_rng(seed).choice(n_rows, size=max_rows, replace=False))
    n_kept = n_rows if chosen is None else len(chosen)
    # the rows are written straight to their day-major place: one copy of them is ever held
    x_rows = np.empty((n_kept, blocks.values.sizes["dim"]), dtype=np.float32)
    y_rows = np.empty(n_kept)
    scalers = []
    for basins, x, y, block_scalers in _train_blocks(
        dataset, [target], blocks, train_period, target_scaling, max_block_mb
    ):
        scalers.append(block_scalers[target])
        # row (day, basin) of the whole period is day * n_b + basin
        pos = (np.arange(n_days)[:, None] * n_b + np.arange(basins.start, basins.stop)[None, :]).ravel()
        if chosen is None:
            keep, place = np.ones(pos.size, bool), pos
        else:
            keep = np.isin(pos, chosen, assume_unique=True)
            place = np.searchsorted(chosen, pos[keep])
        x_rows[place] = x.reshape(-1, x.shape[-1])[keep]
        y_rows[place] = y[..., 0].reshape(-1)[keep]
    return x_rows, y_rows, _joined({target: scalers})[target]


def score_blockwise(
    dataset: xr.Dataset,
    blocks: StateBlocks,
    predictors: Mapping[str, Callable[[np.ndarray, slice], np.ndarray]],
    test_period,
    max_block_mb: float = BLOCK_MB,
) -> dict[str, pd.DataFrame]:
    """Per-basin test scores (`fit.score_per_basin`) of each target's predictor, a basin group
    at a time. `predictors[target](states (time, basin, dim), basins slice)` gives the
    prediction (time, basin) in target units."""
    targets = list(predictors)
    days = blocks.days_in(test_period)
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in targets}
    with _blas_single_thread():
        for basins in blocks.basin_groups(len(days), max_block_mb):
            x = blocks.block(days, basins)
            y = block_targets(dataset, targets, blocks, days, basins)
            for k, t in enumerate(targets):
                parts[t].append(score_per_basin(y[..., k], predictors[t](x, basins), blocks.basins[basins]))
    return {t: pd.concat(p, ignore_index=True) for t, p in parts.items()}


def pooled_predictor(probe: PooledProbe | OffsetProbe):
    """The prediction of a pooled probe on a block (as its `predict` on the whole states): its
    per-basin parts (target scaler, intercepts) taken on the block's basins."""

    def predict(x: np.ndarray, basins: slice) -> np.ndarray:
        scaler = BasinScaler(probe.basin_scaler.mean[basins], probe.basin_scaler.std[basins])
        per_basin = {"basin_scaler": scaler}
        if isinstance(probe, OffsetProbe):
            per_basin["intercept"] = probe.intercept[basins]
        return replace(probe, **per_basin).predict(x.astype(np.float64))

    return predict
