"""Controls for the probes: what skill would a probe show without the thing probed?

- `shuffle_basins`: the states of each basin given to another basin (a derangement when possible).
- `shift_states`: the states of 180 days earlier paired with today's target.
- `input_features`: the previous 64 days of raw inputs as features, the paper's baseline
  (`lazy_input_features`: the same, computed a basin group at a time as it is read).
- `selectivity`: trained minus control, per basin and as medians.
All work on states laid out as the workflow stores them: (time, basin, dim).
"""

from __future__ import annotations

from collections.abc import Iterator

import dask
import dask.array
import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError

DYNAMIC_INPUTS = ("precipitation", "pet", "peti", "temperature")


def derangement(n: int, seed: int) -> np.ndarray:
    """A seeded random permutation of range(n) with no fixed point (identity for n < 2)."""
    rng = np.random.default_rng(seed)
    if n < 2:
        return np.arange(n)
    for _ in range(1000):  # acceptance ≈ 1/e per draw
        perm = rng.permutation(n)
        if not (perm == np.arange(n)).any():
            return perm
    return np.roll(np.arange(n), 1)  # pragma: no cover


def shuffle_basins(states, seed: int):
    """Permute the basin labels of `states` (DataArray or Dataset with a `basin` dim): basin i
    gets the series of basin perm[i], perm a seeded derangement. Coordinates stay in order."""
    n = states.sizes["basin"]
    perm = derangement(n, seed)
    shuffled = states.isel(basin=perm)
    return shuffled.assign_coords(basin=states["basin"].values)


def shift_states(states, days: int = 180):
    """States moved `days` later in time: the value at t is the state of t − days (calendar
    days, by label, so gaps in the time axis are respected); NaN where no such state exists."""
    times = pd.DatetimeIndex(states["time"].values)
    shifted = states.reindex(time=times - pd.Timedelta(days=days))
    return shifted.assign_coords(time=times)


def input_features(
    dataset: xr.Dataset, variables=("precipitation",), lags: int = 64, times=None
) -> xr.DataArray:
    """Raw-input features on (time, basin, dim): for each variable the values of days
    t, t−1, …, t−lags+1 (the window the LSTM's state at t has seen last), NaN where a day is
    missing. `variables="all"` takes every dynamic input present (`DYNAMIC_INPUTS`).
    `dim` runs variable-major: dim = i_variable · lags + lag; coords `variable`, `lag` name it.
    `times` restricts the output days (lags still reach before them)."""
    variables = _input_variables(dataset, variables)
    out_times = _output_days(dataset, times)
    values = _lagged_windows(dataset, variables, lags, out_times)
    return _features_array(values, out_times, dataset["basin"].values, variables, lags)


def basin_groups(n_basins: int, n_days: int, n_dim: int, max_block_mb: float) -> Iterator[slice]:
    """Consecutive basin groups whose `n_days` days of `n_dim` float32 values fit `max_block_mb`
    (at least one basin each: a basin's series is the smallest block)."""
    per_basin_mb = max(n_days, 1) * n_dim * 4 / 2**20
    size = max(1, int(max_block_mb // max(per_basin_mb, 1e-9)))
    for b0 in range(0, n_basins, size):
        yield slice(b0, min(b0 + size, n_basins))


def lazy_input_features(
    dataset: xr.Dataset,
    variables=("precipitation",),
    lags: int = 64,
    times=None,
    max_chunk_mb: float = 64.0,
) -> xr.DataArray:
    """`input_features` as a lazy (dask) array of the same dims, coords and values, built a
    group of basins at a time on read: each chunk holds whole series of at most `max_chunk_mb`
    of float32 features (at least one basin), so a reader of a few basins computes only theirs
    and no chunk needs more than its basins' inputs."""
    variables = _input_variables(dataset, variables)
    out_times = _output_days(dataset, times)
    basins = dataset["basin"].values
    n_dim = len(variables) * lags
    chunks = []
    for group_basins in basin_groups(len(basins), len(out_times), n_dim, max_chunk_mb):
        group = dataset[variables].isel(basin=group_basins)
        chunk = dask.delayed(_group_windows)(group, variables, lags, out_times)
        shape = (len(out_times), group.sizes["basin"], n_dim)
        chunks.append(dask.array.from_delayed(chunk, shape=shape, dtype=np.float32))
    values = (
        dask.array.concatenate(chunks, axis=1) if chunks else np.empty((len(out_times), 0, n_dim), np.float32)
    )
    return _features_array(values, out_times, basins, variables, lags)


def _group_windows(group: xr.Dataset, variables, lags, out_times) -> np.ndarray:
    # the inputs of one chunk's basins are read in the computing thread: no nested parallel reads
    with dask.config.set(scheduler="synchronous"):
        return _lagged_windows(group.load(), variables, lags, out_times)


def _input_variables(dataset: xr.Dataset, variables) -> list[str]:
    """The variables asked for (`"all"`: every dynamic input present), each checked present."""
    if isinstance(variables, str):
        variables = [v for v in DYNAMIC_INPUTS if v in dataset] if variables == "all" else [variables]
    variables = list(variables)
    missing = [v for v in variables if v not in dataset]
    if missing:
        raise InputDataError(f"input features: the basin dataset has no variable '{missing[0]}'")
    if not variables:
        raise InputDataError(
            f"input features: the basin dataset has none of the dynamic inputs {', '.join(DYNAMIC_INPUTS)}"
        )
    return variables


def _daily_axis(dataset: xr.Dataset) -> pd.DatetimeIndex:
    """The dataset's days as a contiguous daily axis (gaps filled, so lags count calendar days)."""
    t_all = pd.DatetimeIndex(dataset["time"].values)
    return pd.date_range(t_all.min(), t_all.max(), freq="D")


def _output_days(dataset: xr.Dataset, times) -> pd.DatetimeIndex:
    """The feature days: `times`, each checked within the dataset's time axis (default: all)."""
    full = _daily_axis(dataset)
    out_times = full if times is None else pd.DatetimeIndex(times)
    if (full.get_indexer(out_times) < 0).any():
        raise InputDataError("input features: a requested day lies outside the dataset's time axis")
    return out_times


def _lagged_windows(dataset: xr.Dataset, variables, lags: int, out_times) -> np.ndarray:
    """The features' values (time, basin, variables × lags) float32 on `out_times`."""
    full = _daily_axis(dataset)
    pos = full.get_indexer(out_times)
    n_basins = dataset.sizes["basin"]
    out = np.empty((len(out_times), n_basins, len(variables) * lags), dtype=np.float32)
    for i, name in enumerate(variables):
        series = dataset[name].transpose("time", "basin").reindex(time=full).values.astype(np.float32)
        # NaN before the first day, then row t + lags − 1 of the padded series is day t: the window
        # of `lags` rows ending there, reversed, is lag 0, 1, …, lags − 1 (one gather per variable)
        padded = np.concatenate([np.full((lags - 1, n_basins), np.nan, np.float32), series])
        windows = np.lib.stride_tricks.sliding_window_view(padded, lags, axis=0)  # (time, basin, lags)
        out[:, :, i * lags : (i + 1) * lags] = windows[pos, :, ::-1]
    return out


def _features_array(values, out_times, basins, variables, lags: int) -> xr.DataArray:
    return xr.DataArray(
        values,
        dims=("time", "basin", "dim"),
        coords={
            "time": out_times,
            "basin": basins,
            "dim": np.arange(values.shape[-1]),
            "variable": ("dim", np.repeat(variables, lags)),
            "lag": ("dim", np.tile(np.arange(lags), len(variables))),
        },
        name="inputs",
    )


def selectivity(
    trained_scores: pd.DataFrame, control_scores: pd.DataFrame, metrics=("r", "nse")
) -> tuple[pd.DataFrame, pd.Series]:
    """Trained minus control per basin, and the medians.

    Both frames have `basin` and the metric columns (as from `score_per_basin`). Returns
    (per basin: `basin`, `<m>_trained`, `<m>_control`, `delta_<m>` for each metric; medians:
    `median_delta_<m>` over basins where both are finite, plus `median_<m>_trained/control` and
    `n_basins` per metric as `n_basins_<m>`)."""
    merged = trained_scores[["basin", *metrics]].merge(
        control_scores[["basin", *metrics]], on="basin", how="inner", suffixes=("_trained", "_control")
    )
    medians = {}
    for m in metrics:
        merged[f"delta_{m}"] = merged[f"{m}_trained"] - merged[f"{m}_control"]
        both = merged[f"delta_{m}"].notna()
        medians[f"median_delta_{m}"] = (
            float(merged.loc[both, f"delta_{m}"].median()) if both.any() else np.nan
        )
        medians[f"median_{m}_trained"] = (
            float(merged.loc[both, f"{m}_trained"].median()) if both.any() else np.nan
        )
        medians[f"median_{m}_control"] = (
            float(merged.loc[both, f"{m}_control"].median()) if both.any() else np.nan
        )
        medians[f"n_basins_{m}"] = int(both.sum())
    return merged, pd.Series(medians)
