"""Catchment cell weights against analytic expectations."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import xarray as xr
from pyproj import Transformer

from hydroprobe.basins.weights import cell_areas, compute_catchment_weights, land_cells
from hydroprobe.errors import InputDataError

LAT = np.round(np.arange(57.0, 57.55, 0.1), 1)  # ascending, cell centres on 0.1° multiples
LON = np.round(np.arange(-4.0, -3.45, 0.1), 1)
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _grid(nan_cells=()):
    data = np.ones((LAT.size, LON.size))
    for la, lo in nan_cells:
        data[np.isclose(LAT, la), np.isclose(LON, lo)] = np.nan
    return xr.DataArray(data, coords={"latitude": LAT, "longitude": LON}, dims=("latitude", "longitude"))


def _bng_box(lon0, lat0, lon1, lat1):
    """A lon/lat rectangle with dense vertices, expressed in British National Grid."""
    box = shapely.segmentize(shapely.box(lon0, lat0, lon1, lat1), 0.0005)
    return shapely.transform(box, TO_BNG.transform, interleaved=False)


def _as_dict(ds, basin):
    sub = ds.where(ds["basin"] == basin, drop=True)
    return {
        (round(float(la), 3), round(float(lo), 3)): (float(w), float(c))
        for la, lo, w, c in zip(
            sub["latitude"].values, sub["longitude"].values, sub["weight"].values, sub["coverage"].values
        )
    }


def test_one_and_a_half_cells_exact():
    # full cell centred (57.2, -3.8) + lower half (57.25..57.30) of cell centred (57.3, -3.8)
    ds = compute_catchment_weights({1: _bng_box(-3.85, 57.15, -3.75, 57.30)}, _grid(), "exact")
    assert ds.attrs["method"] == "exact"
    assert ds["basin"].dtype == np.int32 and ds["weight"].dtype == np.float64
    cells = _as_dict(ds, 1)
    assert set(cells) == {(57.2, -3.8), (57.3, -3.8)}
    a = cell_areas(np.array([57.2, 57.3]), 0.1, 0.1)
    expected = np.array([a[0], 0.5 * a[1]]) / (a[0] + 0.5 * a[1])
    assert cells[(57.2, -3.8)][0] == pytest.approx(expected[0], abs=1e-4)
    assert cells[(57.3, -3.8)][0] == pytest.approx(expected[1], abs=1e-4)
    assert cells[(57.2, -3.8)][1] == pytest.approx(1.0, abs=1e-4)
    assert cells[(57.3, -3.8)][1] == pytest.approx(0.5, abs=1e-4)


def test_spherical_area_formula():
    # a 0.1° cell at 57.2°N is about 11.1 km x 6.0 km
    area = cell_areas(np.array([57.2]), 0.1, 0.1)[0]
    assert area == pytest.approx(11_119.5 * 11_119.5 * np.cos(np.deg2rad(57.2)), rel=1e-4)


def test_weights_sum_to_one_and_small_polygon():
    boundaries = {
        10: _bng_box(-3.93, 57.07, -3.62, 57.38),
        20: _bng_box(-3.52, 57.42, -3.51, 57.43),  # smaller than one cell
    }
    ds = compute_catchment_weights(boundaries, _grid(), "exact")
    sums = ds["weight"].groupby(ds["basin"]).sum()
    np.testing.assert_allclose(sums.values, 1.0)
    small = _as_dict(ds, 20)
    assert list(small) == [(57.4, -3.5)]
    weight, cov = small[(57.4, -3.5)]
    assert weight == pytest.approx(1.0)
    assert cov == pytest.approx(0.01, abs=1e-4)  # 0.01° x 0.01° of a 0.1° cell


def test_sea_cells_get_zero_weight_and_rest_renormalise():
    box = _bng_box(-3.85, 57.15, -3.65, 57.25)  # two full cells at 57.2: -3.8 and -3.7
    ds = compute_catchment_weights({5: box}, _grid(nan_cells=[(57.2, -3.7)]), "exact")
    cells = _as_dict(ds, 5)
    assert cells[(57.2, -3.7)][0] == 0.0
    assert cells[(57.2, -3.7)][1] == pytest.approx(1.0, abs=1e-4)
    assert cells[(57.2, -3.8)][0] == pytest.approx(1.0)


def test_all_sea_basin_is_an_error():
    box = _bng_box(-3.85, 57.15, -3.75, 57.25)
    with pytest.raises(InputDataError, match="basin 77"):
        compute_catchment_weights({77: box}, _grid(nan_cells=[(57.2, -3.8)]), "exact")


def test_all_touched_gives_equal_weights():
    ds = compute_catchment_weights({3: _bng_box(-3.85, 57.15, -3.72, 57.33)}, _grid(), "all_touched")
    assert ds.attrs["method"] == "all_touched"
    cells = _as_dict(ds, 3)
    assert len(cells) == 4  # touches 2 x 2 cells
    np.testing.assert_allclose([w for w, _ in cells.values()], 0.25)


def test_descending_latitude_grid_gives_same_weights():
    box = {1: _bng_box(-3.85, 57.15, -3.75, 57.30)}
    up = compute_catchment_weights(box, _grid(), "exact")
    down = compute_catchment_weights(box, _grid().isel(latitude=slice(None, None, -1)), "exact")
    a, b = _as_dict(up, 1), _as_dict(down, 1)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == pytest.approx(b[key])


def test_bad_method():
    with pytest.raises(InputDataError, match="nearest"):
        compute_catchment_weights({1: _bng_box(-3.85, 57.15, -3.75, 57.30)}, _grid(), "nearest")


def test_catchment_off_the_grid_is_named():
    inside = _bng_box(-3.85, 57.15, -3.75, 57.30)
    away = _bng_box(-2.05, 55.0, -1.95, 55.1)  # Northumberland, south-east of the grid
    with pytest.raises(InputDataError) as err:
        compute_catchment_weights({1: inside, 39001: away}, _grid(), "exact")
    message = str(err.value)
    assert message.startswith("basin 39001: catchment (lon -2.05..-1.95, lat 55.00..55.10) lies outside")
    assert message.endswith("the ERA5-Land grid (lon -4.05..-3.45, lat 56.95..57.55)")


def test_catchment_over_sea_only_is_named():
    box = _bng_box(-3.85, 57.15, -3.75, 57.25)
    with pytest.raises(InputDataError, match="^basin 8: catchment covers only ERA5-Land cells without data"):
        compute_catchment_weights({8: box}, _grid(nan_cells=[(57.2, -3.8)]), "exact")


def test_land_cells_are_cells_with_a_value_at_any_step_of_any_variable():
    time = np.arange(3)
    swvl1 = np.ones((3, LAT.size, LON.size))
    swvl1[:, 0, 0] = np.nan  # sea
    swvl1[0, 1, 1] = np.nan  # one missing value at the first step
    sd = swvl1.copy()
    swvl1[:, 2, 2] = np.nan  # no soil water here, but snow: a cell of sd
    fields = xr.Dataset(
        {name: (("time", "latitude", "longitude"), v) for name, v in {"swvl1": swvl1, "sd": sd}.items()},
        coords={"time": time, "latitude": LAT, "longitude": LON},
    ).chunk({"time": 1})
    land = land_cells(fields)
    assert land.dtype == bool and land.dims == ("latitude", "longitude")
    assert not land[0, 0] and land[1, 1] and land[2, 2] and int(land.sum()) == land.size - 1
    # a mask gives the weights a grid with NaN over the same cells gives
    box = {1: _bng_box(-4.05, 56.95, -3.85, 57.15)}  # the four south-west cells
    from_mask = compute_catchment_weights(box, land, "exact")
    from_nan = compute_catchment_weights(box, fields["sd"].isel(time=1).where(land), "exact")
    xr.testing.assert_identical(from_mask, from_nan)
    assert _as_dict(from_mask, 1)[(57.0, -4.0)][0] == 0.0


def _poisoned_after(values: np.ndarray, steps: int):
    """`values` (time, lat, lon) as a dask array whose steps from `steps` on fail when computed:
    a reader that touches them raises."""
    import dask.array as dsa

    def fail(block):
        raise AssertionError("land_cells read past the first year")

    head = dsa.from_array(values[:steps], chunks=(steps, -1, -1))
    tail = dsa.from_array(values[steps:], chunks=(steps, -1, -1)).map_blocks(fail, dtype=values.dtype)
    return dsa.concatenate([head, tail])


def test_land_cells_read_one_year_of_each_variable_only():
    n, year = 5, 2
    swvl1 = np.ones((n, LAT.size, LON.size))
    swvl1[:, 0, 0] = np.nan  # sea
    swvl1[1, 1, 1] = np.nan  # a value missing inside the first year: still land
    sd = np.full_like(swvl1, np.nan)  # sd's first year is empty (a failed download): its next is read
    sd[year:, 2, 2] = 1.0
    sd[year:, 0, 0] = np.nan
    dims = ("time", "latitude", "longitude")
    fields = xr.Dataset(
        {"swvl1": (dims, _poisoned_after(swvl1, year)), "sd": (dims, _poisoned_after(sd, 2 * year))},
        coords={"time": np.arange(n), "latitude": LAT, "longitude": LON},
    )
    land = land_cells(fields, steps=year).values
    assert not land[0, 0] and land[1, 1] and land[2, 2] and int(land.sum()) == land.size - 1


def test_land_cells_of_fields_without_any_value_are_all_sea():
    fields = xr.Dataset(
        {"sd": (("time", "latitude", "longitude"), np.full((3, LAT.size, LON.size), np.nan))},
        coords={"time": np.arange(3), "latitude": LAT, "longitude": LON},
    )
    land = land_cells(fields)
    assert land.dtype == bool and land.dims == ("latitude", "longitude") and not land.values.any()
