"""Open ERA5-Land NetCDF downloads (Muñoz Sabater 2019) as one lazy daily gridded dataset.

The probe targets of Lees et al. (2022) are ERA5-Land volumetric soil water of the four
layers (`swvl1..4`, m³/m³; 0-7, 7-28, 28-100, 100-289 cm) and snow depth water equivalent
(`sd`, m w.e.). All are *instantaneous* fields, so a daily value is the mean of the hourly
values of the UTC day (what Lees et al. did with ``resample(time="D").mean()``); this would be
wrong for accumulated fields such as `tp`, which this reader is not meant for.

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


def _to_daily(da: xr.DataArray) -> xr.DataArray:
    times = da["time"].values
    days = times.astype("datetime64[D]")
    if np.unique(days).size < times.size:
        # Hourly (sub-daily) instantaneous values -> UTC daily mean.
        da = da.resample(time="1D").mean(skipna=True)
        da = da.sel(time=np.isin(da["time"].values.astype("datetime64[D]"), np.unique(days)))
    else:
        da = da.assign_coords(time=days.astype("datetime64[ns]"))
    return da


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
        da = _to_daily(da)
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
