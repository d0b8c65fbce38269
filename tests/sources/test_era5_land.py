"""ERA5-Land reader on small fixture files in the new-CDS and legacy layouts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.sources.era5_land import daily_means, open_era5_land

LAT_DESC = np.round(np.arange(58.0, 57.55, -0.1), 1)  # 5 rows, north -> south
LON = np.round(np.arange(-4.0, -3.65, 0.1), 1)  # 4 columns


def _field(times, seed):
    rng = np.random.default_rng(seed)
    data = rng.uniform(0.1, 0.5, (len(times), LAT_DESC.size, LON.size)).astype("float32")
    data[:, -1, -1] = np.nan  # a sea cell (southernmost, easternmost)
    return data


def _write_new_cds(path, var, times, seed):
    times = pd.DatetimeIndex(times)
    ds = xr.Dataset(
        {var: (("valid_time", "latitude", "longitude"), _field(times, seed))},
        coords={
            "valid_time": times,
            "latitude": LAT_DESC,
            "longitude": LON,
            "number": 0,
            "expver": ("valid_time", np.array(["0001"] * len(times), dtype=object)),
        },
    )
    enc = {"valid_time": {"units": "seconds since 1970-01-01", "calendar": "proleptic_gregorian"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(path, encoding=enc)
    return ds


def _write_legacy(path, var, times, seed):
    times = pd.DatetimeIndex(times)
    ds = xr.Dataset(
        {var: (("time", "lat", "lon"), _field(times, seed))},
        coords={"time": times, "lat": LAT_DESC, "lon": LON},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(path, encoding={"time": {"units": "hours since 1900-01-01 00:00:00"}})
    return ds


def test_new_cds_daily_two_years(tmp_path):
    a = _write_new_cds(
        tmp_path / "swvl1" / "era5_land_swvl1_2000.nc",
        "swvl1",
        pd.date_range("2000-12-30", periods=2, freq="D"),
        1,
    )
    b = _write_new_cds(
        tmp_path / "swvl1" / "era5_land_swvl1_2001.nc",
        "swvl1",
        pd.date_range("2001-01-01", periods=3, freq="D"),
        2,
    )
    ds = open_era5_land(tmp_path, ["swvl1"])
    assert ds["swvl1"].dims == ("time", "latitude", "longitude")
    assert ds["swvl1"].chunks is not None  # dask-backed
    assert "number" not in ds.coords and "expver" not in ds.coords
    assert ds.sizes["time"] == 5
    assert np.all(np.diff(ds["latitude"].values) > 0)
    assert ds["time"].values[0] == np.datetime64("2000-12-30")
    # values follow the coordinates after the latitude flip
    got = ds["swvl1"].sel(time="2001-01-02", latitude=58.0, longitude=-3.9).values.item()
    want = b["swvl1"].sel(valid_time="2001-01-02", latitude=58.0, longitude=-3.9).values.item()
    assert got == pytest.approx(want)
    assert np.isnan(ds["swvl1"].sel(latitude=57.6, longitude=-3.7)).all()
    sub = open_era5_land(tmp_path, ["swvl1"], years=[2001])
    assert sub.sizes["time"] == 3
    del a


def test_legacy_layout_and_merge(tmp_path):
    times = pd.date_range("1995-01-01", periods=4, freq="D")
    leg = _write_legacy(tmp_path / "sd" / "sd_1995.nc", "sd", times, 3)
    _write_new_cds(tmp_path / "swvl2" / "x.nc", "swvl2", times, 4)
    ds = open_era5_land(tmp_path, ["swvl2", "sd"])
    assert set(ds.data_vars) == {"swvl2", "sd"}
    assert ds.sizes == {"time": 4, "latitude": 5, "longitude": 4}
    np.testing.assert_allclose(ds["sd"].values, leg["sd"].values[:, ::-1, :], equal_nan=True)
    assert ds["time"].dtype.kind == "M"


def test_hourly_files_are_averaged_to_daily(tmp_path):
    times = pd.date_range("2010-03-01", periods=48, freq="h")
    src = _write_new_cds(tmp_path / "swvl3" / "h.nc", "swvl3", times, 5)
    ds = open_era5_land(tmp_path, ["swvl3"])
    assert ds.sizes["time"] == 2
    assert ds["swvl3"].chunks is not None
    want = src["swvl3"].isel(valid_time=slice(24, 48)).mean("valid_time")
    np.testing.assert_allclose(
        ds["swvl3"].isel(time=1).values, want.values[::-1, :], rtol=1e-6, equal_nan=True
    )
    assert str(ds["time"].values[1])[:10] == "2010-03-02"


def _hourly(var="swvl1", hours=48, start="2010-03-01", freq="h", seed=3):
    times = pd.date_range(start, periods=hours, freq=freq)
    return xr.DataArray(
        _field(times, seed),
        dims=("valid_time", "latitude", "longitude"),
        coords={
            "valid_time": times,
            "latitude": LAT_DESC,
            "longitude": LON,
            "number": 0,
            "expver": ("valid_time", np.array(["0001"] * len(times), dtype=object)),
        },
        name=var,
        attrs={"units": "m**3 m**-3"},
    )


def test_daily_means_of_complete_days(tmp_path):
    hourly = _hourly(hours=72)
    daily = daily_means(hourly, "valid_time")
    assert list(daily["valid_time"].values) == list(pd.date_range("2010-03-01", periods=3).values)
    assert daily.dtype == np.float32 and "expver" not in daily.coords and "number" in daily.coords
    for d in range(3):
        want = hourly.isel(valid_time=slice(24 * d, 24 * (d + 1))).mean("valid_time")
        np.testing.assert_allclose(daily.isel(valid_time=d), want, rtol=1e-6, equal_nan=True)
    three_hourly = daily_means(hourly.isel(valid_time=slice(0, None, 3)), "valid_time")
    want = hourly.isel(valid_time=slice(0, 24, 3)).mean("valid_time")
    np.testing.assert_allclose(three_hourly.isel(valid_time=0), want, rtol=1e-6, equal_nan=True)


def test_daily_means_incomplete_days_are_nan():
    hourly = _hourly(hours=96)
    # day 2 lacks its 13:00 step, day 3 is absent, day 4 has a missing value at one land cell
    keep = [t for t in range(96) if t != 24 + 13 and not 48 <= t < 72]
    gappy = hourly.isel(valid_time=keep).copy()
    gappy[-5, 0, 0] = np.nan
    daily = daily_means(gappy, "valid_time")
    days = pd.to_datetime(["2010-03-01", "2010-03-02", "2010-03-04"])
    assert list(daily["valid_time"].values) == list(days.values)  # no day added for the absent one
    want = hourly.isel(valid_time=slice(0, 24)).mean("valid_time")
    np.testing.assert_allclose(daily.isel(valid_time=0), want, rtol=1e-6, equal_nan=True)
    assert np.isnan(daily.isel(valid_time=1)).all()  # a missing hour: no biased mean
    last = daily.isel(valid_time=2)
    assert np.isnan(last[0, 0]) and np.isfinite(last[0, 1])
    np.testing.assert_allclose(
        last[1:, :],
        hourly.isel(valid_time=slice(72, 96)).mean("valid_time")[1:, :],
        rtol=1e-6,
        equal_nan=True,
    )


def test_daily_means_of_daily_data_and_accumulated_variables():
    daily_in = _hourly(var="tp", hours=3, start="2010-03-01 12:00", freq="D")
    daily = daily_means(daily_in, "valid_time")  # one value a day: kept, stamped 00 UTC
    np.testing.assert_array_equal(daily.values, daily_in.values)
    assert list(daily["valid_time"].values) == list(pd.date_range("2010-03-01", periods=3).values)
    with pytest.raises(InputDataError, match="tp is accumulated.*00 UTC of the next day"):
        daily_means(_hourly(var="tp"), "valid_time")
    assert daily_means(_hourly(var="sd"), "valid_time").sizes["valid_time"] == 2


def test_reader_applies_the_same_rule_to_hourly_files(tmp_path):
    times = pd.date_range("2010-03-01", periods=48, freq="h").delete(30)  # 2010-03-02 06:00 missing
    src = _write_new_cds(tmp_path / "swvl2" / "h.nc", "swvl2", times, 7)
    ds = open_era5_land(tmp_path, ["swvl2"]).load()
    assert ds.sizes["time"] == 2 and np.isnan(ds["swvl2"].isel(time=1)).all()
    want = daily_means(src["swvl2"], "valid_time").isel(latitude=slice(None, None, -1))
    np.testing.assert_array_equal(ds["swvl2"].values, want.values)


def test_missing_folder_and_variable(tmp_path):
    with pytest.raises(InputDataError, match="swvl4"):
        open_era5_land(tmp_path, ["swvl4"])
    _write_new_cds(tmp_path / "sd" / "wrong.nc", "swvl1", pd.date_range("2000-01-01", periods=2), 6)
    with pytest.raises(InputDataError, match=r"wrong\.nc.*'sd'"):
        open_era5_land(tmp_path, ["sd"])


def test_hidden_temporary_files_are_not_read(tmp_path):
    """An interrupted download leaves `.tmp-*` beside the data; the reader must skip it."""
    import numpy as np
    import pandas as pd
    import xarray as xr

    from hydroprobe.sources.era5_land import open_era5_land

    folder = tmp_path / "swvl1"
    folder.mkdir()
    time = pd.date_range("2000-01-01", periods=3, freq="D")
    ds = xr.Dataset(
        {"swvl1": (("valid_time", "latitude", "longitude"), np.full((3, 2, 2), 0.3, np.float32))},
        coords={"valid_time": time, "latitude": [57.1, 57.0], "longitude": [-3.0, -2.9]},
    )
    ds.to_netcdf(folder / "era5_land_swvl1_2000.nc")
    (folder / ".tmp-1234-era5_land_swvl1_2001.nc").write_bytes(b"partial")
    out = open_era5_land(tmp_path, ["swvl1"])
    assert out.sizes["time"] == 3
