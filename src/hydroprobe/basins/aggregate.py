"""Catchment means of gridded ERA5-Land fields, computed lazily with a weight matrix.

The basin series is ``sum_cells w·x / sum_cells w`` over the cells of the catchment
(weights from :mod:`hydroprobe.basins.weights`). The denominator is re-evaluated per
time step over the cells that are finite at that step, so a cell that is occasionally NaN
does not turn the basin NaN and the weights stay normalised; a step where every cell is NaN
(e.g. outside the downloaded years) stays NaN, and days a variable's folder lacks within the
span of the data (a missing year) are said out loud as data warnings carried by the result
(`hydroprobe.data_warnings`). Everything stays dask-backed until written:
ERA5-Land over GB for decades is many GB, the output is only (basin, time).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
import pandas as pd
import xarray as xr
from scipy.sparse import csr_matrix

from hydroprobe import data_warnings
from hydroprobe.errors import InputDataError
from hydroprobe.io import write_zarr_atomic
from hydroprobe.sources.era5_land import missing_time

TIME_CHUNK = 3653  # ~10 years of days per zarr chunk: 671 basins -> ~10 MB float32


MAX_OPEN_FILES = 4  # NetCDF files xarray keeps open at once (its default: 128)


@contextmanager
def few_open_files(max_open: int = MAX_OPEN_FILES):
    """Within it, xarray keeps at most `max_open` NetCDF files open, closing the least recently
    used. Each open file holds its HDF5 metadata and its cache of decompressed chunks (up to
    64 MB per variable: a yearly ERA5-Land file over GB, 12 MB, stays there whole), so with one
    file per variable-year and xarray's 128 open files the memory of the aggregation grew with
    the years read; a file closed is reopened when a later task reads it."""
    with xr.set_options(file_cache_maxsize=max_open):
        yield


def _grid_index(grid: np.ndarray, wanted: np.ndarray, name: str) -> np.ndarray:
    step = float(np.min(np.abs(np.diff(grid)))) if grid.size > 1 else 1.0
    order = np.argsort(grid)
    idx = pd.Index(grid[order]).get_indexer(wanted, method="nearest", tolerance=1e-3 * step)
    if (idx < 0).any():
        bad = wanted[idx < 0][0]
        raise InputDataError(f"catchment weights {name} {bad} is not a cell centre of the ERA5-Land grid")
    return order[idx]


def _weight_matrix(fields: xr.Dataset, weights: xr.Dataset):
    """Sparse (basin, cell) weights over the cells some basin uses (CSR; a GB basin uses a few of
    the ~3000 cells, so a dense product would be ~99 % multiplications by zero), their basin ids
    and the cells' flat (latitude, longitude) positions in the grid."""
    used = weights["weight"].values > 0
    basin = weights["basin"].values[used].astype(np.int32)
    lat_i = _grid_index(fields["latitude"].values, weights["latitude"].values[used], "latitude")
    lon_i = _grid_index(fields["longitude"].values, weights["longitude"].values[used], "longitude")
    cell_key = lat_i.astype(np.int64) * fields.sizes["longitude"] + lon_i
    cells, cell_pos = np.unique(cell_key, return_inverse=True)
    basins = np.unique(weights["basin"].values.astype(np.int32))
    basin_pos = np.searchsorted(basins, basin)
    # duplicate (basin, cell) entries are summed, as a dense np.add.at would
    matrix = csr_matrix(
        (weights["weight"].values[used], (basin_pos, cell_pos)), shape=(basins.size, cells.size)
    )
    return matrix, basins.astype(np.int32), cells


PIECE_STEPS = 64  # time steps gathered and multiplied at a time: the float64 temporaries stay small


def _block_means(block: np.ndarray, cells: np.ndarray, matrix) -> np.ndarray:
    """Basin means (time, basin) float32 of one block of grids (time, latitude, longitude).

    Per step, ``sum w·x / sum w`` over the basin's cells that are finite then: both sums are
    products with the sparse matrix, in float64, a few steps at a time, so that beside the block
    as read only the used cells of those steps are held as float64."""
    flat = block.reshape(block.shape[0], -1)
    out = np.empty((block.shape[0], matrix.shape[0]), dtype=np.float32)
    for t0 in range(0, flat.shape[0], PIECE_STEPS):
        x = flat[t0 : t0 + PIECE_STEPS, cells].astype(np.float64).T  # (cell, steps)
        finite = np.isfinite(x)
        num = matrix @ np.where(finite, x, 0.0)
        den = matrix @ finite.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[t0 : t0 + PIECE_STEPS] = (num / np.where(den > 0, den, np.nan)).T
    return out


def aggregate_to_basins(fields: xr.Dataset, weights: xr.Dataset) -> xr.Dataset:
    """Weighted basin means ``(basin, time)`` float32 of every variable of `fields`.

    `fields` is ``(time, latitude, longitude)`` (e.g. from ``open_era5_land``); `weights` follows
    the ``catchment_weights.nc`` contract. The result is lazy if `fields` is dask-backed (one task
    per time chunk of the fields: the chunk as read, reduced to its basin means), and carries a
    data warning per variable whose folder lacks days (`missing_time`).
    """
    for dim in ("time", "latitude", "longitude"):
        if dim not in fields.dims:
            raise InputDataError(f"gridded fields lack dimension {dim!r} (have {tuple(fields.dims)})")
    matrix, basins, cells = _weight_matrix(fields, weights)
    out = {}
    for name, da in fields.data_vars.items():
        mean = xr.apply_ufunc(
            _block_means,
            da.transpose("time", "latitude", "longitude"),
            input_core_dims=[["latitude", "longitude"]],
            output_core_dims=[["basin"]],
            kwargs={"cells": cells, "matrix": matrix},
            dask="parallelized",
            output_dtypes=[np.float32],
            dask_gufunc_kwargs={"output_sizes": {"basin": basins.size}},
        )
        mean = mean.assign_coords(basin=basins).transpose("basin", "time")
        mean.attrs = dict(da.attrs)
        out[name] = mean
    ds = xr.Dataset(out)
    ds = ds.assign_coords(basin=ds["basin"].astype(np.int32))
    ds.attrs["weighting"] = str(weights.attrs.get("method", "unknown"))
    found: list[data_warnings.DataWarning] = []
    for name, missing in missing_time(fields).items():
        data_warnings.warn(found, "aggregate_era5_land", name, f"{missing}: NaN in the basin series")
    return data_warnings.attach(ds, found)


def write_basin_series(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Write basin series to zarr (all basins x ~10 years per chunk), atomically."""
    chunks = {"basin": -1, "time": min(TIME_CHUNK, ds.sizes["time"])}
    ds = ds.chunk(chunks)
    for var in ds.variables.values():
        var.encoding = {}
    write_zarr_atomic(ds, path)
