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

import numpy as np
import pandas as pd
import xarray as xr
from scipy.sparse import csr_matrix

from hydroprobe import data_warnings
from hydroprobe.errors import InputDataError
from hydroprobe.io import write_zarr_atomic
from hydroprobe.sources.era5_land import missing_time

TIME_CHUNK = 3653  # ~10 years of days per zarr chunk: 671 basins -> ~10 MB float32


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
    and the cells' grid indices."""
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
    lat_idx = xr.DataArray(cells // fields.sizes["longitude"], dims="cell")
    lon_idx = xr.DataArray(cells % fields.sizes["longitude"], dims="cell")
    return matrix, basins.astype(np.int32), lat_idx, lon_idx


def _basin_sums(values: xr.DataArray, matrix, basins: np.ndarray) -> xr.DataArray:
    """``sum_cell matrix[basin, cell] * values[..., cell]`` on dim ``basin``, block by block."""

    def product(block: np.ndarray) -> np.ndarray:
        flat = block.reshape(-1, block.shape[-1]).astype(np.float64)
        return (matrix @ flat.T).T.reshape(*block.shape[:-1], basins.size)

    out = xr.apply_ufunc(
        product,
        values,
        input_core_dims=[["cell"]],
        output_core_dims=[["basin"]],
        dask="parallelized",
        output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {"basin": basins.size}},
    )
    return out.assign_coords(basin=basins)


def aggregate_to_basins(fields: xr.Dataset, weights: xr.Dataset) -> xr.Dataset:
    """Weighted basin means ``(basin, time)`` float32 of every variable of `fields`.

    `fields` is ``(time, latitude, longitude)`` (e.g. from ``open_era5_land``); `weights` follows
    the ``catchment_weights.nc`` contract. The result is lazy if `fields` is dask-backed, and
    carries a data warning per variable whose folder lacks days (`missing_time`).
    """
    for dim in ("time", "latitude", "longitude"):
        if dim not in fields.dims:
            raise InputDataError(f"gridded fields lack dimension {dim!r} (have {tuple(fields.dims)})")
    matrix, basins, lat_idx, lon_idx = _weight_matrix(fields, weights)
    out = {}
    for name, da in fields.data_vars.items():
        cells = da.isel(latitude=lat_idx, longitude=lon_idx).drop_vars(
            ["latitude", "longitude"], errors="ignore"
        )
        finite = cells.notnull()
        num = _basin_sums(cells.fillna(0.0), matrix, basins)
        den = _basin_sums(finite, matrix, basins)
        mean = (num / den.where(den > 0)).transpose("basin", "time").astype(np.float32)
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
