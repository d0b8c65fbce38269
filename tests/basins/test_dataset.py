"""Basin dataset built from the real CAMELS-GB test files plus fake ERA5-Land series."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydroprobe.basins.dataset import build_basin_dataset
from hydroprobe.errors import InputDataError

CAMELS = Path(__file__).resolve().parents[1] / "data" / "camels_gb"
DYNAMIC = ["precipitation", "peti", "temperature"]
STATICS = ["p_mean", "frac_snow", "shrub_perc"]


def _era5(basins=(96004, 97002)):
    time = pd.date_range("1981-01-01", "2019-12-31", freq="D")
    rng = np.random.default_rng(1)
    data = {
        v: (("basin", "time"), rng.uniform(0, 0.5, (len(basins), time.size)).astype("float32"))
        for v in ("swvl1", "swvl2", "swvl3", "swvl4", "sd")
    }
    return xr.Dataset(data, coords={"basin": np.asarray(basins, dtype=np.int32), "time": time})


def test_real_camels_plus_era5():
    era5 = _era5()
    ds = build_basin_dataset(CAMELS, era5, DYNAMIC, "discharge_spec", STATICS)
    assert ds["basin"].dtype == np.int32
    assert list(ds["basin"].values) == [96004, 97002]
    assert ds.sizes["time"] == 16436
    assert ds["time"].values[0] == np.datetime64("1970-10-01")
    assert ds["time"].values[-1] == np.datetime64("2015-09-30")
    for v in [*DYNAMIC, "pet", "discharge_spec", "swvl1", "swvl4", "sd"]:
        assert ds[v].dims == ("basin", "time") and ds[v].dtype == np.float32, v
    for v in STATICS:
        assert ds[v].dims == ("basin",) and ds[v].dtype == np.float32
    assert ds["p_mean"].sel(basin=96004).item() == pytest.approx(6.92)
    assert ds["p_mean"].sel(basin=97002).item() == pytest.approx(2.97)
    assert ds["shrub_perc"].sel(basin=96004).item() == pytest.approx(78.27)
    # NaN flow gaps kept
    assert int(ds["discharge_spec"].sel(basin=96004).isnull().sum()) == 6270
    assert int(ds["discharge_spec"].sel(basin=97002).isnull().sum()) == 457
    # first row of 96004: precipitation 33.82 mm/d, pet 1.15
    assert ds["precipitation"].sel(basin=96004).values[0] == pytest.approx(33.82)
    assert ds["pet"].sel(basin=96004).values[0] == pytest.approx(1.15)
    # ERA5 series on the CAMELS axis: NaN before 1981, values equal after
    sw = ds["swvl2"].sel(basin=97002)
    assert sw.sel(time=slice(None, "1980-12-31")).isnull().all()
    np.testing.assert_array_equal(
        sw.sel(time=slice("1981-01-01", None)).values,
        era5["swvl2"].sel(basin=97002, time=slice("1981-01-01", "2015-09-30")).values,
    )


def test_basin_subset():
    ds = build_basin_dataset(CAMELS, _era5(), DYNAMIC, "discharge_spec", [], basins=[97002])
    assert list(ds["basin"].values) == [97002]


def test_basin_missing_from_era5():
    with pytest.raises(InputDataError, match="basin 97002"):
        build_basin_dataset(
            CAMELS, _era5((96004,)), DYNAMIC, "discharge_spec", STATICS, basins=[96004, 97002]
        )


def test_basin_missing_from_camels():
    with pytest.raises(InputDataError, match="basin 12345"):
        build_basin_dataset(CAMELS, _era5((96004, 12345)), DYNAMIC, "discharge_spec", STATICS)


def test_nan_static_names_the_basin(tmp_path):
    camels = tmp_path / "camels"
    shutil.copytree(CAMELS, camels)
    path = camels / "CAMELS_GB_climatic_attributes.csv"
    df = pd.read_csv(path)
    df.loc[df["gauge_id"] == 97002, "p_mean"] = np.nan
    df.to_csv(path, index=False)
    with pytest.raises(InputDataError, match=r"basin 97002.*p_mean"):
        build_basin_dataset(camels, _era5(), DYNAMIC, "discharge_spec", STATICS)


def test_missing_dynamic_column_names_it():
    with pytest.raises(InputDataError, match="snowfall"):
        build_basin_dataset(CAMELS, _era5(), ["snowfall"], "discharge_spec", [])
