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

import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.sources.era5_land_units import UNITS, conversion_text, to_era5_land_unit

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
# Dataset attribute of `open_era5_land`: variable -> the days its folder lacks within the span
# of the data read (JSON), e.g. {"swvl1": "years 1990-1991 missing from era5/swvl1"}.
MISSING_TIME = "era5_land_missing_time"

log = logging.getLogger("hydroprobe")


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _check_not_truncated(path: Path) -> None:
    """A truncated classic (NetCDF-3) file opens and reads zeros where its data are cut off;
    scipy's reader maps every variable onto the file and fails when one reaches past its end.
    (A truncated NetCDF-4/HDF5 file does not open at all.)"""
    from scipy.io import netcdf_file

    with open(path, "rb") as f:
        if f.read(4) not in (b"CDF\x01", b"CDF\x02"):  # scipy reads these two classic formats
            return
    try:
        netcdf_file(path, mmap=True).close()
    except (ValueError, TypeError, OSError):
        raise InputDataError(f"{path}: truncated NetCDF file (its variables reach past its end)") from None


def _open_file(path: Path) -> xr.Dataset:
    try:
        ds = xr.open_dataset(path, chunks={})
    except (OSError, ValueError, RuntimeError) as err:
        raise InputDataError(
            f"{path}: cannot open as NetCDF: truncated or not a NetCDF file ({_first_line(err)})"
        ) from None
    _check_not_truncated(path)
    return ds


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


def _oriented_like(da: xr.DataArray, first: xr.DataArray | None, path: Path) -> xr.DataArray:
    """`da` with latitude running the way it runs in `first` (the variable's first file), and
    longitude in -180..180. The values follow their coordinates, so a file stored south->north
    among north->south ones (the CDS order) is simply turned round; the whole variable is put
    in ascending order once, after concatenation."""
    step = np.diff(da["latitude"].values)
    if not (np.all(step > 0) or np.all(step < 0)):
        raise InputDataError(f"{path}: latitude is neither ascending nor descending")
    if float(da["longitude"].max()) > 180:
        da = _wrap_longitude(da)
    if first is not None and step.size and first.sizes["latitude"] > 1:
        first_lat = first["latitude"].values
        if (step[0] > 0) != (first_lat[1] > first_lat[0]):
            da = da.isel(latitude=slice(None, None, -1))
    return da


def _axis_text(values: np.ndarray) -> str:
    step = f"step {np.median(np.abs(np.diff(values))):g}°, " if values.size > 1 else ""
    return f"{values.min():g}..{values.max():g} ({step}{values.size} cells)"


def _grid_difference(da: xr.DataArray, reference: xr.DataArray) -> str | None:
    """What differs between the (latitude, longitude) grids of `da` and `reference`: resolution
    and extent of each axis that differs, or None when they match (to 1/1000 of a cell)."""
    parts = []
    for dim in ("latitude", "longitude"):
        got, want = da[dim].values, reference[dim].values
        step = float(np.min(np.abs(np.diff(want)))) if want.size > 1 else 1.0
        if got.shape == want.shape and np.allclose(got, want, rtol=0, atol=1e-3 * step):
            continue
        parts.append(f"{dim} {_axis_text(got)} vs {_axis_text(want)}")
    return "; ".join(parts) or None


def _same_grid(da: xr.DataArray, reference: xr.DataArray, what: str, reference_name: str) -> xr.DataArray:
    """`da` on the coordinates of `reference` (equal up to rounding), or an error naming what
    differs; without this check, xarray would stop later with an alignment error naming no file."""
    difference = _grid_difference(da, reference)
    if difference:
        raise InputDataError(f"{what}: grid differs from that of {reference_name}: {difference}")
    same = all(np.array_equal(da[d].values, reference[d].values) for d in ("latitude", "longitude"))
    if same:
        return da
    return da.assign_coords(latitude=reference["latitude"].values, longitude=reference["longitude"].values)


def _report_units(variable: str, folder: Path, changes: list[str | None]) -> None:
    """One log line per unit converted, one warning for the files without units."""
    unit = UNITS[variable].name if variable in UNITS else None
    unitless = changes.count("no units")
    if unitless:
        log.warning(
            "%s: %d of %d file(s) in %s have no units attribute; read as %s",
            variable,
            unitless,
            len(changes),
            folder,
            unit,
        )
    for given in sorted({c for c in changes if c not in (None, "no units")}):
        log.info(
            "%s: %d file(s) in %s converted from %s",
            variable,
            changes.count(given),
            folder,
            conversion_text(variable, given),
        )


def _open_variable(era5_dir: Path, variable: str, years: list[int] | None) -> xr.DataArray:
    folder = era5_dir / variable
    if not folder.is_dir():
        raise InputDataError(f"ERA5-Land variable folder {folder} not found")
    # skip hidden files: the atomic writers' temporaries (".tmp-*") are never complete data
    files = sorted(p for p in folder.glob("*.nc") if not p.name.startswith("."))
    if not files:
        raise InputDataError(f"no .nc file in ERA5-Land variable folder {folder}")
    parts, changes = [], []
    for path in files:
        da = _normalise(_open_file(path), path, variable)
        if years is not None:
            da = da.sel(time=da["time"].dt.year.isin(years))
            if da.sizes["time"] == 0:
                continue
        da = _oriented_like(da, parts[0] if parts else None, path)
        if parts:
            da = _same_grid(da, parts[0], str(path), str(files[0]))
        da, change = to_era5_land_unit(da, variable, path)
        changes.append(change)
        parts.append(da)
    if not parts:
        raise InputDataError(f"{folder}: no {variable} data for years {sorted(years)}")
    _report_units(variable, folder, changes)
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
    if np.all(np.diff(da["longitude"].values) > 0):
        return da  # already in order: no reindexing step in the graph of every file
    return da.sortby("longitude")


def describe_days(days: np.ndarray) -> str:
    """Sorted days (datetime64[D]) as runs: whole calendar years as ``years 1990-1991``, other
    runs as ``1995-03-01 to 1995-03-31``; at most five runs named."""
    breaks = np.flatnonzero(np.diff(days.astype(np.int64)) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [days.size - 1]])
    texts = []
    for s, e in zip(starts, ends):
        first, last = pd.Timestamp(days[s]), pd.Timestamp(days[e])
        if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31):
            texts.append(
                f"year {first.year}" if first.year == last.year else f"years {first.year}-{last.year}"
            )
        else:
            texts.append(str(first.date()) if s == e else f"{first.date()} to {last.date()}")
    more = len(texts) - 5
    return ", ".join(texts[:5]) + (f" and {more} more gap(s)" if more > 0 else "")


def _missing_time(arrays: dict[str, xr.DataArray], era5_dir: Path) -> dict[str, str]:
    """Variable -> the days its folder lacks within the span of all variables read."""
    days = {name: da["time"].values.astype("datetime64[D]") for name, da in arrays.items()}
    first = min(d.min() for d in days.values())
    last = max(d.max() for d in days.values())
    span = np.arange(first, last + np.timedelta64(1, "D"))
    missing = {}
    for name, on_file in days.items():
        absent = np.setdiff1d(span, on_file)
        if absent.size:
            missing[name] = f"{describe_days(absent)} missing from {era5_dir / name}"
    return missing


def missing_time(ds: xr.Dataset) -> dict[str, str]:
    """What `open_era5_land` found missing: variable -> e.g. ``years 1990-1991 missing from <folder>``."""
    return json.loads(ds.attrs.get(MISSING_TIME, "{}"))


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
    sorted ascending and longitude to -180..180, file by file. Float32 is kept.

    Each file is checked before anything is combined, and an error names it: it must open as
    NetCDF (not truncated), hold the variable, lie on the grid of the variable's first file
    (the error says which resolution and extent differ), and be in the variable's ERA5-Land
    unit (`hydroprobe.sources.era5_land_units`: m³ m⁻³ for ``swvl*``, m w.e. for ``sd``, ...)
    or one converted to it unambiguously (``%``, ``mm``, ``degC``; logged). A file without a
    ``units`` attribute is taken as it is, with one warning per variable. Days a variable's
    folder lacks within the span of all variables read (a missing year) are NaN; they are
    listed by `missing_time`.
    """
    era5_dir = Path(era5_dir)
    years = None if years is None else [int(y) for y in years]
    arrays = {}
    for variable in variables:
        da = _open_variable(era5_dir, variable, years)
        da = daily_means(_wrap_longitude(da.sortby("latitude")), "time")
        if arrays:
            first_name, first = next(iter(arrays.items()))
            da = _same_grid(da, first, str(era5_dir / variable), f"{first_name} in {era5_dir / first_name}")
        arrays[variable] = da.chunk({"time": TIME_CHUNK, "latitude": -1, "longitude": -1})
    missing = _missing_time(arrays, era5_dir)
    ds = xr.Dataset(arrays)  # outer join on time: NaN where a variable lacks a day
    ds = ds.sortby("time")
    for name in ds.data_vars:
        ds[name].encoding = {}
    if missing:
        ds.attrs[MISSING_TIME] = json.dumps(missing)
    return ds
