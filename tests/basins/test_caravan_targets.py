"""Probe targets of a CAMELS-GB run from Caravan's camelsgb basin means: the real CAMELS-GB files
(96004, 97002) and camelsgb files in the real Caravan layout (tests/caravan_sample.py)."""

from __future__ import annotations

import caravan_sample
import numpy as np
import pytest
import xarray as xr

from hydroprobe import data_warnings
from hydroprobe.basins.caravan_targets import caravan_gauge_id, caravan_probe_targets
from hydroprobe.basins.dataset import build_basin_dataset
from hydroprobe.errors import InputDataError
from hydroprobe.sources.camels_gb import read_timeseries as read_camels_gb

TARGETS = ["swvl1", "swvl2", "swvl3", "swvl4", "sd"]
COLUMN = {f"swvl{k}": f"volumetric_soil_water_layer_{k}_mean" for k in range(1, 5)}
COLUMN["sd"] = "snow_depth_water_equivalent_mean"


@pytest.fixture(scope="module")
def caravan(tmp_path_factory):
    root = tmp_path_factory.mktemp("caravan_both")
    return caravan_sample.write_caravan(root, layouts=("csv", "netcdf"))


@pytest.fixture(scope="module")
def caravan_without_97002(tmp_path_factory):
    """A Caravan copy that, like the real one for 263 CAMELS-GB catchments, lacks basin 97002."""
    root = tmp_path_factory.mktemp("caravan_one")
    return caravan_sample.write_caravan(root, gauge_ids=(96004,), end="1999-12-31")


def test_gauge_id():
    assert caravan_gauge_id(96004) == "camelsgb_96004"


@pytest.mark.parametrize("layout", ["csv", "netcdf"])
def test_targets_are_the_caravan_values(caravan, layout):
    ds = caravan_probe_targets(caravan, [97002, 96004], layout)
    assert list(ds["basin"].values) == [97002, 96004] and ds["basin"].dtype == np.int32
    assert set(ds.data_vars) == set(TARGETS)
    assert ds["time"].values[0] == np.datetime64("1981-01-01")
    assert ds["time"].values[-1] == np.datetime64("2020-12-31")
    for gauge in (96004, 97002):
        for name in TARGETS:
            raw = caravan_sample.caravan_values(caravan, gauge, COLUMN[name], layout).to_numpy()
            expected = (raw / 1000.0 if name == "sd" else raw).astype(np.float32)
            np.testing.assert_array_equal(ds[name].sel(basin=gauge).values, expected, err_msg=name)
    assert ds["sd"].attrs["units"] == "m of water equivalent"
    assert ds["swvl2"].attrs["units"] == "m3 m-3"
    assert ds["swvl2"].attrs["caravan_column"] == "volumetric_soil_water_layer_2_mean"
    assert 0.2 < float(ds["swvl1"].mean()) < 0.45  # m3/m3, not percent
    assert 0.0 < float(ds["sd"].max()) < 0.5  # metres w.e., not mm
    assert data_warnings.read(ds) == []


def test_both_layouts_and_generations_agree(caravan, tmp_path):
    old = caravan_sample.write_caravan(tmp_path / "old", generation="1.4")
    csv = caravan_probe_targets(caravan, [96004, 97002], "csv", ["swvl1", "sd"])
    xr.testing.assert_identical(
        csv, caravan_probe_targets(caravan, [96004, 97002], "netcdf", ["swvl1", "sd"])
    )
    xr.testing.assert_identical(csv, caravan_probe_targets(old, [96004, 97002], "csv", ["swvl1", "sd"]))


def test_basin_caravan_lacks_is_kept_without_targets_and_reported(caravan_without_97002, caplog):
    with caplog.at_level("WARNING", logger="hydroprobe"):
        ds = caravan_probe_targets(caravan_without_97002, [96004, 97002])
    assert list(ds["basin"].values) == [96004, 97002]
    for name in TARGETS:
        assert np.isnan(ds[name].sel(basin=97002).values).all()
        assert np.isfinite(ds[name].sel(basin=96004).values).all()
    warnings = data_warnings.read(ds)
    assert [(w.stage, w.subject) for w in warnings] == [("build_basin_dataset", "basin 97002")]
    assert "not in Caravan camelsgb" in warnings[0].message and "no_data" in warnings[0].message
    assert "basin 97002: not in Caravan camelsgb" in caplog.text
    assert "1 of 2 basins are not in Caravan camelsgb" in caplog.text


def test_no_basin_in_caravan_is_an_error(caravan_without_97002):
    with pytest.raises(InputDataError, match=r"none of the 1 CAMELS-GB basins is in Caravan's camelsgb"):
        caravan_probe_targets(caravan_without_97002, [97002])


def test_listed_basin_without_its_file_is_an_error(tmp_path):
    root = caravan_sample.write_caravan(tmp_path / "caravan", end="1982-12-31")
    caravan_sample.series_path(root, 97002).unlink()
    with pytest.raises(
        InputDataError, match=r"^basin camelsgb_97002: no Caravan time series camelsgb_97002\.csv"
    ):
        caravan_probe_targets(root, [96004, 97002])


def test_basin_dataset_takes_caravan_targets_in_place_of_era5_land(caravan_without_97002):
    camels = caravan_sample.CAMELS_GB_DATA
    targets = caravan_probe_targets(caravan_without_97002, [96004, 97002])
    ds = build_basin_dataset(
        camels, targets, ["precipitation", "peti", "temperature"], "discharge_spec", ["p_mean"]
    )
    assert list(ds["basin"].values) == [96004, 97002]
    # the CAMELS-GB time axis and the model's data untouched
    assert ds["time"].values[0] == np.datetime64("1970-10-01")
    assert ds["time"].values[-1] == np.datetime64("2015-09-30")
    q = read_camels_gb(camels, 97002)["discharge_spec"].to_numpy(np.float32)
    np.testing.assert_array_equal(ds["discharge_spec"].sel(basin=97002).values, q)
    # the probe targets of the matched basin are Caravan's, NaN outside Caravan's dates
    swvl3 = ds["swvl3"].sel(basin=96004).to_series()
    raw = caravan_sample.caravan_values(caravan_without_97002, 96004, COLUMN["swvl3"])
    np.testing.assert_array_equal(swvl3.loc[raw.index].to_numpy(), raw.to_numpy(np.float32))
    assert swvl3.loc[:"1980-12-31"].isna().all() and swvl3.loc["2000-01-01":].isna().all()
    assert np.isnan(ds["sd"].sel(basin=97002).values).all()
    assert ds.attrs["probe_targets"] == TARGETS
    assert [w.subject for w in data_warnings.read(ds)] == ["basin 97002"]
