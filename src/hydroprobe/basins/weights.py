"""Which ERA5-Land cells make up each catchment, and with what weight.

Lees et al. (2022) averaged ERA5-Land over a catchment by rasterising its CAMELS-GB polygon
onto the 0.1° grid with ``all_touched=True`` and taking the plain mean of the touched cells
(method ``"all_touched"``). That over-weights cells that are barely touched, which matters for
the many GB catchments smaller than a few cells; the default here (method ``"exact"``) weights
each cell by the fraction of it inside the polygon (exactextract) times its area on the
sphere, so the basin value is the true area-weighted mean of the gridded field.

Either way, cells without data (sea, lakes masked by ERA5-Land) get weight 0 and the remaining
weights are renormalised to sum to 1 per basin. A cell has data if any variable has a value
there at some time step (`land_cells`, which reads a year of each variable): a value missing
on some day leaves the cell out of that day's mean only (see :mod:`hydroprobe.basins.aggregate`),
not out of every day.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import shapely
import xarray as xr
from pyproj import Transformer
from shapely.geometry import mapping

from hydroprobe.errors import InputDataError

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius; cancels after renormalisation
_TO_LONLAT = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
# Overlaps smaller than this fraction of a cell (~600 m² of a 0.1° cell at GB latitudes,
# i.e. below the 50 m resolution the CAMELS-GB boundaries were traced at) are reprojection
# slivers of an edge lying on a cell boundary, not real overlap; ignoring them keeps
# "all_touched" from adding whole cells for them.
COVERAGE_TOL = 1e-5


def _spacing(values: np.ndarray, name: str) -> float:
    diffs = np.diff(values)
    if values.size < 2 or not np.allclose(diffs, diffs[0], rtol=1e-6, atol=1e-9):
        raise InputDataError(f"grid {name} is not regularly spaced (needs at least 2 equal steps)")
    return float(abs(diffs[0]))


def cell_areas(latitude: np.ndarray, dlat: float, dlon: float) -> np.ndarray:
    """Area (m²) of lat-lon cells centred on `latitude`: R²·Δλ·(sin φ₂ − sin φ₁)."""
    phi1 = np.deg2rad(latitude - dlat / 2)
    phi2 = np.deg2rad(latitude + dlat / 2)
    return EARTH_RADIUS_M**2 * np.deg2rad(dlon) * (np.sin(phi2) - np.sin(phi1))


LAND_MASK_STEPS = 366  # a year of daily fields: the span read per variable to find its cells with data


def land_cells(fields: xr.Dataset, steps: int = LAND_MASK_STEPS) -> xr.DataArray:
    """(latitude, longitude) True where any variable of `fields` has a value at some time step of
    its first `steps` steps (the first year of days) that hold any value.

    ERA5-Land's sea cells are NaN at every time step (its land-sea mask does not change), so a
    year shows every cell that has data; reading the whole record again only to find them cost
    as much as the aggregation's own read. A year rather than one step: a value missing on a
    day (a gap, a day left NaN because some of its hours failed) must not drop the cell from
    every day of every variable. A variable whose first year holds no value at all (an empty
    download) is looked at a year further on, until some value is found.
    """
    masks = []
    for da in fields.data_vars.values():
        for start in range(0, max(da.sizes["time"], 1), steps):
            has_data = da.isel(time=slice(start, start + steps)).notnull().any("time").compute()
            if bool(has_data.any()):
                masks.append(has_data)
                break
    if not masks:
        return xr.zeros_like(next(iter(fields.data_vars.values())).isel(time=0, drop=True), dtype=bool)
    return xr.concat(masks, dim="variable").any("variable")


def _bounds_text(lon0: float, lat0: float, lon1: float, lat1: float) -> str:
    return f"lon {lon0:.2f}..{lon1:.2f}, lat {lat0:.2f}..{lat1:.2f}"


def _coverage(boundaries: dict, lat_desc: np.ndarray, lon: np.ndarray, dlat: float, dlon: float):
    """Per basin: (row, col, coverage fraction) of every cell the lon/lat polygon overlaps."""
    from exactextract import exact_extract
    from exactextract.feature import JSONFeatureSource
    from exactextract.raster import NumPyRasterSource

    # All-zero raster: exactextract skips nodata/NaN cells, but we want every overlapped cell
    # (sea cells are masked afterwards, and their coverage is still worth reporting).
    raster = NumPyRasterSource(
        np.zeros((lat_desc.size, lon.size)),
        xmin=lon[0] - dlon / 2,
        ymin=lat_desc[-1] - dlat / 2,
        xmax=lon[-1] + dlon / 2,
        ymax=lat_desc[0] + dlat / 2,
        srs_wkt=None,
    )
    features = []
    for basin, geom in boundaries.items():
        if geom is None or geom.is_empty:
            raise InputDataError(f"basin {basin}: empty catchment boundary")
        lonlat = shapely.transform(geom, _TO_LONLAT.transform, interleaved=False)
        if not lonlat.is_valid:
            lonlat = shapely.make_valid(lonlat)
        features.append({"type": "Feature", "properties": {"basin": int(basin)}, "geometry": mapping(lonlat)})
    results = exact_extract(
        raster, JSONFeatureSource(features), ["cell_id", "coverage"], include_cols=["basin"]
    )
    out = {}
    for res in results:
        props = res["properties"]
        cell = np.asarray(props["cell_id"], dtype=np.int64)
        cov = np.asarray(props["coverage"], dtype=np.float64)
        keep = cov > COVERAGE_TOL
        out[int(props["basin"])] = (cell[keep] // lon.size, cell[keep] % lon.size, cov[keep])
    return out


def compute_catchment_weights(
    boundaries: dict, grid: xr.DataArray, method: Literal["exact", "all_touched"] = "exact"
) -> xr.Dataset:
    """Cell weights per basin on dim ``entry`` (see docs/contracts.md §2).

    `boundaries`: gauge id -> polygon in EPSG:27700. `grid`: a regular (latitude, longitude)
    grid in degrees, either the boolean mask of cells with data (`land_cells`) or one field
    whose NaNs mark the cells without (sea).
    Returns ``basin`` (int32), ``latitude``/``longitude`` (cell centre), ``coverage`` (fraction
    of the cell inside the polygon), ``weight`` (float64, sums to 1 per basin over valid cells).
    """
    if method not in ("exact", "all_touched"):
        raise InputDataError(f"catchment weighting method {method!r} is not 'exact' or 'all_touched'")
    grid = grid.squeeze(drop=True)
    if set(grid.dims) != {"latitude", "longitude"}:
        raise InputDataError(f"weight grid has dims {grid.dims}, expected (latitude, longitude)")
    grid = grid.sortby("latitude", ascending=False).sortby("longitude").transpose("latitude", "longitude")
    lat = grid["latitude"].values.astype(np.float64)
    lon = grid["longitude"].values.astype(np.float64)
    dlat, dlon = _spacing(lat, "latitude"), _spacing(lon, "longitude")
    values = np.asarray(grid.values)
    valid = values if values.dtype == bool else np.isfinite(values.astype(np.float64))
    area = cell_areas(lat, dlat, dlon)

    coverage = _coverage(boundaries, lat, lon, dlat, dlon)
    columns: dict[str, list[np.ndarray]] = {
        k: [] for k in ("basin", "latitude", "longitude", "weight", "coverage")
    }
    for basin in boundaries:
        rows, cols, cov = coverage.get(int(basin), (np.array([], int),) * 2 + (np.array([]),))
        ok = valid[rows, cols]
        if method == "exact":
            raw = cov * area[rows]
        else:  # the paper's binary all-touched mask, unweighted mean
            raw = np.ones_like(cov)
        raw = np.where(ok, raw, 0.0)
        total = raw.sum()
        if rows.size == 0:
            lonlat = shapely.transform(boundaries[basin], _TO_LONLAT.transform, interleaved=False)
            raise InputDataError(
                f"basin {basin}: catchment ({_bounds_text(*lonlat.bounds)}) lies outside the ERA5-Land grid "
                f"({_bounds_text(lon[0] - dlon / 2, lat[-1] - dlat / 2, lon[-1] + dlon / 2, lat[0] + dlat / 2)})"
            )
        if not total > 0:
            raise InputDataError(
                f"basin {basin}: catchment covers only ERA5-Land cells without data "
                "(sea: no value in the first year of any variable)"
            )
        columns["basin"].append(np.full(rows.size, int(basin), dtype=np.int32))
        columns["latitude"].append(lat[rows])
        columns["longitude"].append(lon[cols])
        columns["weight"].append(raw / total)
        columns["coverage"].append(cov)
    data = {k: ("entry", np.concatenate(v)) for k, v in columns.items()}
    ds = xr.Dataset(data)
    ds["basin"] = ds["basin"].astype(np.int32)
    ds["latitude"].attrs = {"units": "degrees_north", "long_name": "grid cell centre latitude"}
    ds["longitude"].attrs = {"units": "degrees_east", "long_name": "grid cell centre longitude"}
    ds["weight"].attrs = {"long_name": "weight of the cell in the basin mean (sums to 1 per basin)"}
    ds["coverage"].attrs = {"long_name": "fraction of the cell inside the catchment polygon"}
    ds.attrs["method"] = method
    return ds
