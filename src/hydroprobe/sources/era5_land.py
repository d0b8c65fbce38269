"""Open ERA5-Land NetCDF downloads (Muñoz Sabater 2019) as one lazy daily gridded dataset.

The probe targets of Lees et al. (2022) are ERA5-Land volumetric soil water of the four
layers (`swvl1..4`, m³/m³; 0-7, 7-28, 28-100, 100-289 cm) and snow depth water equivalent
(`sd`, m w.e.). All are *instantaneous* fields, so a daily value is the mean of the hourly
values of the UTC day (what Lees et al. did with ``resample(time="D").mean()``). `daily_means`
is that rule, for this reader and for the hourly-to-daily step after a CDS download; it refuses
accumulated fields such as `tp`, which this reader is not meant for.

Both the new-CDS layout (``valid_time``, ``number``/``expver`` coordinates, seconds since 1970,
latitude descending) and the legacy one (``time``, hours since 1900) are accepted; the
result is always ``(time, latitude, longitude)`` with latitude ascending, dask-chunked over
time so that decades of data never need to fit in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from hydroprobe.errors import InputDataError

# Accumulated ERA5-Land fields (sums since 00 UTC): a mean of their hourly values is meaningless.
ACCUMULATED = frozenset(
    {
        "tp",
        "pev",
        "e",
        "sf",
        "smlt",
        "ro",
        "sro",
        "ssro",
        "evabs",
        "evaow",
        "evatc",
        "evavt",
        "es",
        "slhf",
        "sshf",
        "ssr",
        "str",
        "ssrd",
        "strd",
    }
)
_RENAME = {"valid_time": "time", "lat": "latitude", "lon": "longitude"}
_DROP = ("number", "expver", "step", "surface", "depthBelowLandLayer")
TIME_CHUNK = 366


def _normalise(ds: xr.Dataset, path: Path, variable: str) -> xr.DataArray:
    ds = ds.rename({k: v for k, v in _RENAME.items() if k in ds.variables or k in ds.dims})
    if variable not in ds.data_vars:
        raise InputDataError(
            f"{path}: variable {variable!r} not found (has {', '.join(map(str, ds.data_vars))})"
        )
    da = ds[variable]
    for name in _DROP:
        if name in da.dims and da.sizes[name] == 1:
            da = da.squeeze(name, drop=True)
    da = da.drop_vars([c for c in _DROP if c in da.coords])
    if set(da.dims) != {"time", "latitude", "longitude"}:
        raise InputDataError(f"{path}: {variable} has dims {da.dims}, expected (time, latitude, longitude)")
    if not np.issubdtype(da["time"].dtype, np.datetime64):
        raise InputDataError(f"{path}: time coordinate of {variable} is not decodable to dates")
    return da.transpose("time", "latitude", "longitude")


def _open_variable(era5_dir: Path, variable: str, years: list[int] | None) -> xr.DataArray:
    folder = era5_dir / variable
    if not folder.is_dir():
        raise InputDataError(f"ERA5-Land variable folder {folder} not found")
    # skip hidden files: the atomic writers' temporaries (".tmp-*") are never complete data
    files = sorted(p for p in folder.glob("*.nc") if not p.name.startswith("."))
    if not files:
        raise InputDataError(f"no .nc file in ERA5-Land variable folder {folder}")
    parts = []
    for path in files:
        try:
            ds = xr.open_dataset(path, chunks={})
        except (OSError, ValueError) as err:
            raise InputDataError(f"{path}: cannot open as NetCDF ({err})") from None
        da = _normalise(ds, path, variable)
        if years is not None:
            da = da.sel(time=da["time"].dt.year.isin(years))
            if da.sizes["time"] == 0:
                continue
        parts.append(da)
    if not parts:
        raise InputDataError(f"{folder}: no {variable} data for years {sorted(years)}")
    da = xr.concat(parts, dim="time", join="exact") if len(parts) > 1 else parts[0]
    da = da.sortby("time")
    _, first = np.unique(da["time"].values, return_index=True)
    if first.size != da.sizes["time"]:
        da = da.isel(time=np.sort(first))
    return da


def _wrap_longitude(da: xr.DataArray) -> xr.DataArray:
    lon = da["longitude"]
    if float(lon.max()) > 180:
        da = da.assign_coords(longitude=((lon + 180) % 360) - 180)
    return da.sortby("longitude")


def daily_means(da: xr.DataArray, time_dim: str = "time") -> xr.DataArray:
    """UTC daily means of an instantaneous ERA5-Land field; the one hourly-to-daily rule.

    ERA5-Land stamps an instantaneous value (soil water ``swvl1..4``, snow ``sd``) with the
    instant it holds (``valid_time``), so the daily value of day D is the mean of the values
    stamped 00:00 ... 23:00 UTC of D, stamped 00 UTC of D (Lees et al. 2022 did the same with
    ``resample(time="D").mean()``). The time step is the axis' median spacing (1 h for
    ``reanalysis-era5-land``); a day is complete when all ``86400 s / step`` of its steps are
    on the axis.

    **Incomplete days are NaN.** A day that lacks any of its time steps (the ragged end of
    ERA5T, a piece that failed) is NaN everywhere, and a missing (NaN) hourly value makes that
    cell's day NaN: the mean of part of a day is biased by the diurnal cycle (top-layer soil
    water and snow follow the sun), so it is not passed off as a daily mean. The day stays on
    the time axis so that the gap is visible; days without any time step are not added.

    Data with at most one value per day (the CDS daily statistics, the synthetic world) are
    daily already: their values are kept and stamped 00 UTC of their day.

    Accumulated variables (`ACCUMULATED`: ``tp``, ``pev``, ...) are refused when sub-daily: they
    sum from 00 UTC, so the total of day D is the value stamped 00 UTC of D+1, not a mean.
    Coordinates along time other than the time itself (``expver``) are dropped.
    """
    da = da.drop_vars([c for c in da.coords if c != time_dim and time_dim in da[c].dims])
    times = da[time_dim].values
    days = times.astype("datetime64[D]")
    unique_days, per_day_count = np.unique(days, return_counts=True)
    if per_day_count.size == 0 or per_day_count.max() <= 1:
        return da.assign_coords({time_dim: days.astype("datetime64[ns]")})
    if da.name in ACCUMULATED:
        raise InputDataError(
            f"{da.name} is accumulated from 00 UTC: its daily total is the value at 00 UTC of the "
            "next day, not a mean of hourly values"
        )
    step_s = int(np.median(np.diff(np.unique(times)).astype("timedelta64[s]").astype(np.int64)))
    if step_s <= 0 or 86400 % step_s:
        raise InputDataError(f"{da.name}: time step of {step_s} s does not divide a day")
    daily = da.resample({time_dim: "1D"}).mean(skipna=False, keep_attrs=True)
    daily = daily.sel({time_dim: unique_days.astype("datetime64[ns]")})
    complete = xr.DataArray(
        per_day_count == 86400 // step_s, dims=time_dim, coords={time_dim: daily[time_dim]}
    )
    return daily.where(complete)


def open_era5_land(
    era5_dir: str | os.PathLike, variables: list[str], years: list[int] | None = None
) -> xr.Dataset:
    """Lazy daily ERA5-Land fields ``(time, latitude, longitude)``, one data variable each.

    Files are read from ``<era5_dir>/<short_name>/*.nc``; several files per variable (e.g.
    one per year) are concatenated along time. ``years`` restricts the time axis. Latitude is
    sorted ascending and longitude to -180..180. Float32 is kept (m³/m³ or m w.e.).
    """
    era5_dir = Path(era5_dir)
    years = None if years is None else [int(y) for y in years]
    arrays = {}
    for variable in variables:
        da = _open_variable(era5_dir, variable, years)
        da = _wrap_longitude(da.sortby("latitude"))
        da = daily_means(da, "time")
        arrays[variable] = da.chunk({"time": TIME_CHUNK, "latitude": -1, "longitude": -1})
    first_name, first = next(iter(arrays.items()))
    for name, da in arrays.items():
        for dim in ("latitude", "longitude"):
            if not np.array_equal(da[dim].values, first[dim].values):
                raise InputDataError(
                    f"{era5_dir / name}: {dim} grid of {name} differs from that of {first_name}"
                )
    ds = xr.Dataset(arrays)  # outer join on time: NaN where a variable lacks a day
    ds = ds.sortby("time")
    for name in ds.data_vars:
        ds[name].encoding = {}
    return ds
