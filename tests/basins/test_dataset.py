"""Basin dataset built from the real CAMELS-GB test files plus fake ERA5-Land series."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydroprobe import data_warnings
from hydroprobe.basins.dataset import build_basin_dataset, check_against_periods
from hydroprobe.config import ConfigError
from hydroprobe.errors import InputDataError

CAMELS = Path(__file__).resolve().parents[1] / "data" / "camels_gb"
DYNAMIC = ["precipitation", "peti", "temperature"]
STATICS = ["p_mean", "frac_snow", "shrub_perc"]


def _era5(basins=(96004, 97002), start="1981-01-01", end="2019-12-31"):
    time = pd.date_range(start, end, freq="D")
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


def test_config_basin_not_in_camels_names_basin_and_folder():
    with pytest.raises(ConfigError) as err:
        build_basin_dataset(CAMELS, _era5(), DYNAMIC, "discharge_spec", [], basins=[97002, 12345])
    assert str(err.value) == (
        f"config key 'basins': basin(s) 12345 not in the CAMELS-GB time series in {CAMELS} (2 basins there)"
    )


def test_aggregation_warnings_travel_to_the_basin_dataset():
    found = []
    data_warnings.warn(found, "aggregate_era5_land", "swvl1", "year 1990 missing: NaN")
    era5 = data_warnings.attach(_era5(), found)
    ds = build_basin_dataset(CAMELS, era5, DYNAMIC, "discharge_spec", [])
    assert data_warnings.read(ds) == found


# 96004's discharge starts 1987-12-01, 97002's 1972-01-01 (the real CAMELS-GB files)
PERIODS = {
    "train": ["1988-01-01", "1997-12-31"],
    "validation": ["1981-01-01", "1987-12-31"],
    "test": ["1998-01-01", "2008-12-31"],
}
DATA = "CAMELS-GB time series in tests/data/camels_gb"


@pytest.fixture(scope="module")
def camels_dataset():
    return build_basin_dataset(
        CAMELS, _era5(start="1985-01-01", end="2010-12-31"), DYNAMIC, "discharge_spec", []
    )


def test_periods_inside_the_data_pass_without_warning(camels_dataset):
    ds = check_against_periods(camels_dataset, PERIODS, DATA, "build_basin_dataset")
    assert data_warnings.table(ds).empty
    assert ds["discharge_spec"].identical(camels_dataset["discharge_spec"])


@pytest.mark.parametrize("name", ["train", "validation", "test"])
def test_period_outside_the_data_names_key_period_and_dates(camels_dataset, name):
    periods = {**PERIODS, name: ["2014-01-01", "2016-12-31"]}  # CAMELS-GB ends 2015-09-30
    with pytest.raises(ConfigError) as err:
        check_against_periods(camels_dataset, periods, DATA, "build_basin_dataset")
    assert str(err.value) == (
        f"config key 'periods.{name}': 2014-01-01…2016-12-31 is not inside the dates of the {DATA} "
        "(1970-10-01…2015-09-30)"
    )


def test_test_period_without_probe_targets_stops(camels_dataset):
    periods = {**PERIODS, "test": ["2009-01-01", "2012-12-31"]}  # ERA5-Land ends 2010-12-31
    check_against_periods(camels_dataset, periods, DATA, "build_basin_dataset")  # overlap: goes on
    periods["test"] = ["2011-01-01", "2012-12-31"]
    with pytest.raises(
        ConfigError,
        match=r"^config key 'periods.test': 2011-01-01…2012-12-31 has no day of "
        r"the probe targets sd, swvl1, swvl2, swvl3, swvl4 "
        r"\(they have 1985-01-01…2010-12-31\)$",
    ):
        check_against_periods(camels_dataset, periods, DATA, "build_basin_dataset")


def test_probe_targets_covering_part_of_a_period_is_a_warning(camels_dataset):
    periods = {**PERIODS, "train": ["1983-01-01", "1997-12-31"]}
    ds = check_against_periods(camels_dataset, periods, DATA, "build_basin_dataset")
    assert data_warnings.table(ds).to_dict("records") == [
        {
            "stage": "build_basin_dataset",
            "subject": "periods.train",
            "message": "1983-01-01…1997-12-31 reaches outside the probe targets' dates "
            "(1985-01-01…2010-12-31): the probes use 1985-01-01…1997-12-31 only",
        }
    ]


def test_basin_without_discharge_in_training_is_warned_and_kept(camels_dataset):
    periods = {**PERIODS, "train": ["1985-01-01", "1987-11-30"], "validation": ["1988-01-01", "1990-12-31"]}
    ds = check_against_periods(camels_dataset, periods, DATA, "build_basin_dataset")
    assert data_warnings.table(ds).to_dict("records") == [
        {
            "stage": "build_basin_dataset",
            "subject": "basin 96004",
            "message": "no discharge_spec in periods.train 1985-01-01…1987-11-30: left out of training "
            "(its states are still extracted and probed)",
        }
    ]
    assert list(ds["basin"].values) == [96004, 97002]  # still in the data: probed, evaluated


def test_training_period_without_any_discharge_stops(camels_dataset):
    periods = {**PERIODS, "train": ["1985-01-01", "1987-11-30"]}
    with pytest.raises(
        ConfigError,
        match=r"^config key 'periods.train': 1985-01-01…1987-11-30 has no "
        r"discharge_spec in any basin of the CAMELS-GB time series in tests/data/camels_gb$",
    ):
        check_against_periods(camels_dataset.sel(basin=[96004]), periods, DATA, "build_basin_dataset")
