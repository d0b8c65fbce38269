"""Assemble the single ``basin_dataset.zarr`` that everything downstream reads.

It puts on one (basin, time) grid the LSTM inputs and target of Lees et al. (2022) — CAMELS-GB
daily catchment means (precipitation, pet/peti in mm/day, temperature in °C; target
``discharge_spec`` in mm/day with its NaN gaps kept, since the loss simply skips them) — and
the probe targets, the ERA5-Land basin series (``swvl1..4`` m³/m³, ``sd`` m w.e.), which are
put on the CAMELS time axis (1970-10-01…2015-09-30) and are NaN outside the ERA5 years. Static
catchment attributes (e.g. ``area``, ``p_mean``) are per-basin and must be complete: a NaN
static would silently poison normalisation and every prediction of that basin.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe import data_warnings
from hydroprobe.config import ConfigError, check_basins_in_data
from hydroprobe.errors import InputDataError
from hydroprobe.periods import check_within, overlap, period_slice
from hydroprobe.sources.camels_gb import list_gauge_ids, read_attributes, read_timeseries
from hydroprobe.sources.columns import static_arrays

UNITS = {
    "precipitation": "mm/day",
    "pet": "mm/day",
    "peti": "mm/day",
    "temperature": "degC",
    "discharge_spec": "mm/day",
    "discharge_vol": "m3/s",
    "swvl1": "m3 m-3",
    "swvl2": "m3 m-3",
    "swvl3": "m3 m-3",
    "swvl4": "m3 m-3",
    "sd": "m of water equivalent",
}


def _select_basins(camels_dir, era5_basins: xr.Dataset, basins: list[int] | None) -> list[int]:
    camels_ids = set(list_gauge_ids(camels_dir))
    era5_ids = {int(b) for b in era5_basins["basin"].values}
    if basins is None:
        # Default: every basin that has ERA5-Land series (those whose boundaries were used).
        basins = sorted(era5_ids)
    else:
        basins = [int(b) for b in basins]
        check_basins_in_data(basins, camels_ids, f"CAMELS-GB time series in {camels_dir}")
    for b in basins:
        if b not in camels_ids:
            raise InputDataError(f"basin {b}: no CAMELS-GB time series in {camels_dir}")
        if b not in era5_ids:
            raise InputDataError(f"basin {b}: not in the ERA5-Land basin series")
    if not basins:
        raise InputDataError("no basin selected for the basin dataset")
    return basins


def _dynamic(camels_dir, basins, columns) -> tuple[dict[str, np.ndarray], pd.DatetimeIndex]:
    time = None
    stacks: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    for b in basins:
        df = read_timeseries(camels_dir, b, columns)
        if time is None:
            time = df.index
        elif not df.index.equals(time):
            df = df.reindex(time)
        for c in columns:
            stacks[c].append(df[c].to_numpy(dtype=np.float32))
    return {c: np.stack(v) for c, v in stacks.items()}, pd.DatetimeIndex(time, name="time")


def _statics(camels_dir, basins, static_inputs) -> dict[str, np.ndarray]:
    if not static_inputs:
        return {}
    attrs = read_attributes(camels_dir, static_inputs)
    return static_arrays(attrs, basins, static_inputs, f"CAMELS-GB attribute tables in {camels_dir}")


def read_camels_gb_inputs(
    camels_dir: str | os.PathLike, basins: list[int], columns: list[str], static_inputs: list[str]
) -> xr.Dataset:
    """The CAMELS-GB part of the basin dataset: (basin, time) float32 time-series ``columns`` on
    the first basin's time axis (NaN gaps kept) and (basin,) statics from the attribute tables."""
    dynamic, time = _dynamic(camels_dir, basins, columns)
    data = {c: (("basin", "time"), v) for c, v in dynamic.items()}
    for col, values in _statics(camels_dir, basins, static_inputs).items():
        data[col] = (("basin",), values)
    return xr.Dataset(
        data,
        coords={"basin": np.asarray(basins, dtype=np.int32), "time": time.values.astype("datetime64[ns]")},
    )


def build_basin_dataset(
    camels_dir: str | os.PathLike,
    era5_basins: xr.Dataset,
    dynamic_inputs: list[str],
    target: str,
    static_inputs: list[str],
    basins: list[int] | None = None,
) -> xr.Dataset:
    """(basin, time) float32 dynamics + target + ERA5-Land probe targets, (basin,) statics.

    ``pet`` is always included when the CAMELS files have it (the evaluation and plots use it
    even when it is not a model input). ``basins`` defaults to every basin of `era5_basins`.
    """
    basins = _select_basins(camels_dir, era5_basins, basins)
    columns = list(dict.fromkeys([*dynamic_inputs, "pet", target]))
    header = read_timeseries(camels_dir, basins[0]).columns
    if "pet" not in header and "pet" not in dynamic_inputs:
        columns.remove("pet")
    ds = read_camels_gb_inputs(camels_dir, basins, columns, static_inputs)
    era5 = era5_basins.sel(basin=basins)
    era5 = era5.assign_coords(time=pd.DatetimeIndex(era5["time"].values).normalize())
    era5 = era5.reindex(time=pd.DatetimeIndex(ds["time"].values))
    for name in era5.data_vars:
        ds[str(name)] = (("basin", "time"), era5[name].values.astype(np.float32))
    for name in ds.data_vars:
        if name in UNITS:
            ds[name].attrs["units"] = UNITS[name]
    ds.attrs.update(
        dynamic_inputs=list(dynamic_inputs),
        target=target,
        static_inputs=list(static_inputs),
        probe_targets=[str(v) for v in era5.data_vars],
    )
    # the gaps the aggregation went on with travel on with the data
    return data_warnings.attach(ds, data_warnings.read(era5_basins))


def _basin_name(ds: xr.Dataset, index: int) -> str:
    """``basin 39001``, or the Caravan id (``basin camelsgb_39001``) where the dataset has one."""
    ids = ds["gauge_id"].values if "gauge_id" in ds.coords else ds["basin"].values
    return f"basin {ids[index]}"


def _dates_with_data(ds: xr.Dataset, names: list[str]) -> pd.DatetimeIndex:
    """The days on which any basin has a finite value of any of ``names``."""
    finite = np.zeros(ds.sizes["time"], dtype=bool)
    for name in names:
        finite |= ds[name].notnull().any("basin").values
    return pd.DatetimeIndex(ds["time"].values[finite])


def check_against_periods(ds: xr.Dataset, periods: dict, data: str, stage: str) -> xr.Dataset:
    """Fit the config's ``periods`` to the basin dataset ``ds`` built from ``data`` (e.g.
    ``"CAMELS-GB time series in resources/camels_gb"``), in the job that builds it, before
    anything trains.

    Stops (`ConfigError` naming ``periods.<name>``) on a period not inside the dataset's dates,
    on a training or test period with no day of the probe targets (the probes fit on the one,
    are scored on the other), and on a training period where no basin has the target. Goes on,
    with a data warning attached to the returned dataset, where the probe targets cover only
    part of the training or test period and for each basin without the target in the training
    period (it is left out of training, but its states are still extracted and probed).
    """
    times = pd.DatetimeIndex(ds["time"].values)
    check_within(periods, times[0], times[-1], data)
    found: list[data_warnings.DataWarning] = []
    probe_targets = sorted(ds.attrs.get("probe_targets", []))
    probe_days = _dates_with_data(ds, probe_targets)
    for name in ("train", "test"):
        start, end = (pd.Timestamp(day) for day in periods[name])
        span = "no day" if probe_days.empty else f"{probe_days[0]:%Y-%m-%d}…{probe_days[-1]:%Y-%m-%d}"
        used = None if probe_days.empty else overlap((start, end), probe_days[0], probe_days[-1])
        if used is None:
            raise ConfigError(
                f"config key 'periods.{name}': {start:%Y-%m-%d}…{end:%Y-%m-%d} has no day of the "
                f"probe targets {', '.join(probe_targets)} (they have {span})"
            )
        if used != (start, end):
            data_warnings.warn(
                found,
                stage,
                f"periods.{name}",
                f"{start:%Y-%m-%d}…{end:%Y-%m-%d} reaches outside the probe targets' dates ({span}): "
                f"the probes use {used[0]:%Y-%m-%d}…{used[1]:%Y-%m-%d} only",
            )
    target = ds.attrs["target"]
    start, end = periods["train"]
    has_target = ds[target].sel(time=period_slice(periods["train"])).notnull().any("time").values
    if not has_target.any():
        raise ConfigError(
            f"config key 'periods.train': {start}…{end} has no {target} in any basin of the {data}"
        )
    for index in np.flatnonzero(~has_target):
        data_warnings.warn(
            found,
            stage,
            _basin_name(ds, index),
            f"no {target} in periods.train {start}…{end}: left out of training "
            "(its states are still extracted and probed)",
        )
    return data_warnings.attach(ds, found)
