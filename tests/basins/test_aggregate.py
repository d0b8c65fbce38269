"""Basin aggregation equals a hand-computed weighted mean and stays lazy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydroprobe.basins.aggregate import aggregate_to_basins, write_basin_series
from hydroprobe.errors import InputDataError

LAT = np.array([50.0, 50.1, 50.2])
LON = np.array([-1.0, -0.9])
TIME = pd.date_range("2001-01-01", periods=6, freq="D")


def _fields():
    rng = np.random.default_rng(0)
    data = rng.uniform(0.1, 0.5, (TIME.size, LAT.size, LON.size)).astype("float32")
    data[:, 2, 1] = np.nan  # sea cell
    data[3, 0, 0] = np.nan  # a one-off gap in a land cell
    sd = (data * 0.01).astype("float32")
    ds = xr.Dataset(
        {"swvl1": (("time", "latitude", "longitude"), data), "sd": (("time", "latitude", "longitude"), sd)},
        coords={"time": TIME, "latitude": LAT, "longitude": LON},
    )
    return ds.chunk({"time": 4})


def _weights():
    # basin 11: three cells; basin 22: one land cell + the sea cell (weight 0)
    return xr.Dataset(
        {
            "basin": ("entry", np.array([11, 11, 11, 22, 22], dtype=np.int32)),
            "latitude": ("entry", np.array([50.0, 50.1, 50.1, 50.2, 50.2])),
            "longitude": ("entry", np.array([-1.0, -1.0, -0.9, -1.0, -0.9])),
            "weight": ("entry", np.array([0.5, 0.3, 0.2, 1.0, 0.0])),
            "coverage": ("entry", np.array([1.0, 0.6, 0.4, 0.5, 0.5])),
        },
        attrs={"method": "exact"},
    )


def test_matches_hand_computed_weighted_mean():
    fields = _fields()
    out = aggregate_to_basins(fields, _weights())
    assert out["swvl1"].dims == ("basin", "time")
    assert out["swvl1"].chunks is not None  # still dask before compute
    assert out["swvl1"].dtype == np.float32 and out["basin"].dtype == np.int32
    x = fields["swvl1"].values
    want11 = 0.5 * x[:, 0, 0] + 0.3 * x[:, 1, 0] + 0.2 * x[:, 1, 1]
    # the day the first cell is NaN, the others renormalise
    want11[3] = (0.3 * x[3, 1, 0] + 0.2 * x[3, 1, 1]) / 0.5
    got = out["swvl1"].sel(basin=11).values
    np.testing.assert_allclose(got, want11, rtol=1e-6)
    np.testing.assert_allclose(out["swvl1"].sel(basin=22).values, x[:, 2, 0], rtol=1e-6)
    np.testing.assert_allclose(out["sd"].sel(basin=22).values, fields["sd"].values[:, 2, 0], rtol=1e-6)


def test_steps_taken_a_few_at_a_time_give_the_same_means(monkeypatch):
    import hydroprobe.basins.aggregate as aggregate

    whole = aggregate_to_basins(_fields(), _weights()).compute()
    monkeypatch.setattr(aggregate, "PIECE_STEPS", 3)  # blocks of 4 steps: a piece of 3 and one of 1
    pieces = aggregate_to_basins(_fields(), _weights()).compute()
    xr.testing.assert_identical(pieces, whole)


def test_at_most_a_few_files_open_within(tmp_path):
    from hydroprobe.basins.aggregate import few_open_files

    before = xr.get_options()["file_cache_maxsize"]
    with few_open_files(2):
        assert xr.get_options()["file_cache_maxsize"] == 2
    assert xr.get_options()["file_cache_maxsize"] == before


def test_all_nan_step_stays_nan():
    fields = _fields()
    fields["swvl1"] = fields["swvl1"].where(fields["time"] != TIME[1])
    out = aggregate_to_basins(fields, _weights()).compute()
    assert np.isnan(out["swvl1"].isel(time=1)).all()
    assert np.isfinite(out["swvl1"].isel(time=2)).all()


def test_cell_off_grid_is_an_error():
    w = _weights()
    w["latitude"][0] = 49.95
    with pytest.raises(InputDataError, match="latitude 49.95"):
        aggregate_to_basins(_fields(), w)


def test_write_roundtrip(tmp_path):
    out = aggregate_to_basins(_fields(), _weights())
    write_basin_series(out, tmp_path / "b.zarr")
    back = xr.open_zarr(tmp_path / "b.zarr", consolidated=False)
    assert back["basin"].dtype == np.int32
    assert back["swvl1"].dtype == np.float32
    xr.testing.assert_allclose(back.compute(), out.compute())
