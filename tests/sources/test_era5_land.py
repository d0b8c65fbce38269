"""ERA5-Land reader on small fixture files in the new-CDS and legacy layouts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.sources.era5_land import daily_means, describe_days, missing_time, open_era5_land

LAT_DESC = np.round(np.arange(58.0, 57.55, -0.1), 1)  # 5 rows, north -> south
LON = np.round(np.arange(-4.0, -3.65, 0.1), 1)  # 4 columns


def _field(times, seed):
    rng = np.random.default_rng(seed)
    data = rng.uniform(0.1, 0.5, (len(times), LAT_DESC.size, LON.size)).astype("float32")
    data[:, -1, -1] = np.nan  # a sea cell (southernmost, easternmost)
    return data


def _write_new_cds(path, var, times, seed, units=None, lat=LAT_DESC, lon=LON, scale=1.0, offset=0.0):
    times = pd.DatetimeIndex(times)
    data = _field(times, seed) * np.float32(scale) + np.float32(offset)
    if lat is not LAT_DESC or lon is not LON:  # another grid: the same values, regridded by index
        data = np.resize(data, (len(times), lat.size, lon.size))
    ds = xr.Dataset(
        {var: (("valid_time", "latitude", "longitude"), data, {} if units is None else {"units": units})},
        coords={
            "valid_time": times,
            "latitude": lat,
            "longitude": lon,
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


def _two_years(tmp_path, var="swvl1", **second):
    """Two yearly files of `var`; `second` changes how the second one is written."""
    first = tmp_path / var / f"era5_land_{var}_2000.nc"
    _write_new_cds(first, var, pd.date_range("2000-12-30", periods=2), 1, units="m**3 m**-3")
    path = tmp_path / var / f"era5_land_{var}_2001.nc"
    kwargs = {"units": "m**3 m**-3", **second}
    return path, _write_new_cds(path, var, pd.date_range("2001-01-01", periods=3), 2, **kwargs)


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"<html>502 Bad Gateway</html>", "not a NetCDF"), (b"", "not a NetCDF")],
)
def test_a_file_that_is_not_netcdf_is_named(tmp_path, content, why):
    path, _ = _two_years(tmp_path)
    path.write_bytes(content)
    with pytest.raises(
        InputDataError, match=rf"era5_land_swvl1_2001\.nc: cannot open as NetCDF.*{why}"
    ) as err:
        open_era5_land(tmp_path, ["swvl1"])
    assert "\n" not in str(err.value)


def test_a_truncated_file_is_named(tmp_path):
    path, _ = _two_years(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 3 // 4])  # an interrupted copy
    with pytest.raises(InputDataError, match=r"era5_land_swvl1_2001\.nc: cannot open as NetCDF: truncated"):
        open_era5_land(tmp_path, ["swvl1"])


def test_a_truncated_classic_netcdf_file_is_named(tmp_path):
    """NetCDF-3 opens when cut short and reads zeros where the data are missing."""
    path, ds = _two_years(tmp_path)
    ds.drop_vars("expver").to_netcdf(path, format="NETCDF3_64BIT")
    whole = path.read_bytes()
    assert open_era5_land(tmp_path, ["swvl1"]).sizes["time"] == 5
    path.write_bytes(whole[:-100])
    with pytest.raises(InputDataError, match=r"era5_land_swvl1_2001\.nc: truncated NetCDF file"):
        open_era5_land(tmp_path, ["swvl1"])


def test_another_resolution_in_one_file_is_named_before_concatenation(tmp_path):
    lat = np.round(np.arange(58.0, 57.0, -0.25), 2)
    lon = np.round(np.arange(-4.0, -3.0, 0.25), 2)
    _two_years(tmp_path, lat=lat, lon=lon)
    with pytest.raises(InputDataError) as err:
        open_era5_land(tmp_path, ["swvl1"])
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'swvl1' / 'era5_land_swvl1_2001.nc'}: grid differs from that of ")
    assert message.count("era5_land_swvl1_2000.nc") == 1
    assert "latitude 57.25..58 (step 0.25°, 4 cells) vs 57.6..58 (step 0.1°, 5 cells)" in message
    assert "longitude -4..-3.25 (step 0.25°, 4 cells) vs -4..-3.7 (step 0.1°, 4 cells)" in message


def test_another_extent_in_one_file_is_named(tmp_path):
    _two_years(tmp_path, lon=np.round(LON + 1.0, 1))
    with pytest.raises(
        InputDataError, match=r"2001\.nc: grid differs.*longitude -3..-2.7 .* vs -4..-3.7"
    ) as err:
        open_era5_land(tmp_path, ["swvl1"])
    assert "latitude" not in str(err.value).split("grid differs")[1]  # only what differs is named


@pytest.mark.parametrize("year", [2000, 2001])
def test_one_file_stored_south_to_north_reads_as_the_others(tmp_path, year):
    _two_years(tmp_path)
    descending = open_era5_land(tmp_path, ["swvl1"]).load()
    path = tmp_path / "swvl1" / f"era5_land_swvl1_{year}.nc"
    ds = xr.load_dataset(path)
    ds.isel(latitude=slice(None, None, -1)).to_netcdf(path)  # the same field, latitude ascending
    assert np.all(np.diff(xr.open_dataset(path)["latitude"].values) > 0)
    ascending = open_era5_land(tmp_path, ["swvl1"]).load()
    xr.testing.assert_identical(ascending, descending)


def test_grids_of_two_variables_differ(tmp_path):
    times = pd.date_range("2000-01-01", periods=2)
    _write_new_cds(tmp_path / "swvl1" / "a.nc", "swvl1", times, 1)
    _write_new_cds(tmp_path / "sd" / "b.nc", "sd", times, 2, lon=np.round(LON - 0.5, 1))
    with pytest.raises(InputDataError, match=r"sd: grid differs from that of swvl1 in .*swvl1: longitude"):
        open_era5_land(tmp_path, ["swvl1", "sd"])


@pytest.mark.parametrize(
    ("var", "units", "scale", "offset", "canonical"),
    [
        ("swvl1", "%", 100.0, 0.0, "m**3 m**-3"),
        ("sd", "mm", 1000.0, 0.0, "m of water equivalent"),
        ("sd", "kg m**-2", 1000.0, 0.0, "m of water equivalent"),
        ("t2m", "degC", 1.0, -273.15, "K"),
        ("tp", "mm", 1000.0, 0.0, "m"),
    ],
)
def test_unambiguous_units_are_converted_with_a_log_line(
    tmp_path, caplog, var, units, scale, offset, canonical
):
    _write_new_cds(tmp_path / var / "a.nc", var, pd.date_range("2000-01-01", periods=2), 1, units=canonical)
    _write_new_cds(tmp_path / var / "b.nc", var, pd.date_range("2000-01-03", periods=2), 1, units=units)
    # file b holds the same values as file a, written in the other unit
    b = xr.open_dataset(tmp_path / var / "b.nc")[var]
    b.values = (_field(pd.date_range("2000-01-01", periods=2), 1) * scale + offset).astype("float32")
    xr.Dataset({var: b}).to_netcdf(tmp_path / var / "c.nc")
    (tmp_path / var / "b.nc").unlink()
    (tmp_path / var / "c.nc").rename(tmp_path / var / "b.nc")
    with caplog.at_level("INFO", logger="hydroprobe"):
        ds = open_era5_land(tmp_path, [var]).load()
    np.testing.assert_allclose(ds[var].values[2:], ds[var].values[:2], rtol=2e-6, atol=2e-4 * (var == "t2m"))
    assert ds[var].attrs["units"] == canonical and ds[var].dtype == np.float32
    lines = [r.getMessage() for r in caplog.records if "converted" in r.getMessage()]
    assert lines == [
        f"{var}: 1 file(s) in {tmp_path / var} converted from {units!r} to {canonical!r} "
        + (f"(x {1 / scale:g})" if scale != 1 else "(+ 273.15)")
    ]


@pytest.mark.parametrize(("var", "units"), [("swvl2", "kg m**-2"), ("sd", "cm"), ("t2m", "degF")])
def test_other_units_are_refused_naming_file_variable_and_unit(tmp_path, var, units):
    _write_new_cds(
        tmp_path / var / "era5_land_2000.nc", var, pd.date_range("2000-01-01", periods=2), 1, units=units
    )
    with pytest.raises(
        InputDataError, match=rf"era5_land_2000\.nc: {var} is in '{re.escape(units)}', expected '"
    ):
        open_era5_land(tmp_path, [var])


def test_files_without_units_are_read_with_one_warning(tmp_path, caplog):
    times = pd.date_range("2000-01-01", periods=4)
    for k, part in enumerate((times[:2], times[2:])):
        _write_new_cds(tmp_path / "swvl1" / f"{k}.nc", "swvl1", part, k)
    with caplog.at_level("INFO", logger="hydroprobe"):
        ds = open_era5_land(tmp_path, ["swvl1"]).load()
    assert [r.getMessage() for r in caplog.records] == [
        f"swvl1: 2 of 2 file(s) in {tmp_path / 'swvl1'} have no units attribute; read as m**3 m**-3"
    ]
    np.testing.assert_array_equal(ds["swvl1"].values[:2], _field(times[:2], 0)[:, ::-1, :])


def test_a_missing_year_is_listed_and_nan(tmp_path):
    def year(var, y, seed):
        times = pd.date_range(f"{y}-01-01", f"{y}-12-31")
        _write_new_cds(tmp_path / var / f"era5_land_{var}_{y}.nc", var, times, seed, units="m**3 m**-3")

    for y in (1989, 1992, 1993):  # 1990 and 1991 lost
        year("swvl1", y, y)
    for y in (1989, 1990, 1991, 1992):  # 1993 not yet downloaded
        year("swvl2", y, y)
    ds = open_era5_land(tmp_path, ["swvl1", "swvl2"])
    assert missing_time(ds) == {
        "swvl1": f"years 1990-1991 missing from {tmp_path / 'swvl1'}",
        "swvl2": f"year 1993 missing from {tmp_path / 'swvl2'}",
    }
    assert ds.sizes["time"] == 365 * 5 + 1
    assert np.isnan(ds["swvl1"].sel(time=slice("1990", "1991"))).all()
    assert np.isfinite(ds["swvl1"].sel(time="1992-01-01", latitude=58.0, longitude=-4.0))
    assert missing_time(open_era5_land(tmp_path, ["swvl1"], years=[1992, 1993])) == {}


def test_describe_days():
    days = np.concatenate(
        [
            np.arange(np.datetime64("1990-01-01"), np.datetime64("1992-01-01")),
            np.arange(np.datetime64("1995-03-01"), np.datetime64("1995-04-01")),
            [np.datetime64("1996-02-29")],
        ]
    )
    assert describe_days(days) == "years 1990-1991, 1995-03-01 to 1995-03-31, 1996-02-29"
    seven = np.datetime64("2000-01-01") + np.arange(0, 14, 2)
    assert describe_days(seven).endswith("2000-01-09 and 2 more gap(s)")
