"""Caravan source read on the real camelsch_4001 file (tests/data/caravan, see ATTRIBUTION.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import caravan_sample
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from hydroprobe.config import ConfigError, validate_config
from hydroprobe.errors import InputDataError
from hydroprobe.io import write_zarr_atomic
from hydroprobe.sources.caravan import (
    CARAVAN_FORCING,
    LAYOUTS,
    build_caravan_dataset,
    list_basins,
    read_attributes,
    read_timeseries,
)
from hydroprobe.sources.paths import (
    downloads_camels_gb,
    downloads_caravan,
    downloads_era5_land,
    probe_target_input,
    probe_targets_from_caravan,
    uses_era5_land,
)

CARAVAN = Path(__file__).resolve().parents[1] / "data" / "caravan"
CSV = CARAVAN / "timeseries" / "csv" / "camelsch" / "camelsch_4001.csv"
BASIN = "camelsch_4001"
DYNAMIC = ["precipitation", "temperature", "pet"]
STATICS = ["p_mean", "pet_mean", "aridity", "frac_snow", "high_prec_freq", "area"]


@pytest.fixture(scope="module")
def df():
    return read_timeseries(CARAVAN, BASIN)


@pytest.fixture(scope="module")
def ds():
    return build_caravan_dataset(CARAVAN, "camelsch", None, DYNAMIC, "streamflow", STATICS)


def _raw_fields(column: str) -> list[str]:
    """The column's raw text fields straight from the csv (no parser)."""
    lines = CSV.read_text().splitlines()
    i = lines[0].split(",").index(column)
    return [line.split(",")[i] for line in lines[1:]]


def test_list_basins():
    assert list_basins(CARAVAN, "camelsch") == [BASIN]
    assert list_basins(CARAVAN, "camelsch", layout="csv") == [BASIN]
    with pytest.raises(InputDataError, match="camelsgb"):
        list_basins(CARAVAN, "camelsgb")


def test_read_timeseries_real_values(df):
    assert df.shape == (14610, 40)
    assert df.index.name == "date"
    assert df.index[0] == pd.Timestamp("1981-01-01")
    assert df.index[-1] == pd.Timestamp("2020-12-31")
    assert (np.diff(df.index.values) == np.timedelta64(1, "D")).all()
    assert all(df[c].dtype == np.float64 for c in df.columns)
    row = df.loc["1981-01-01"]
    assert row["snow_depth_water_equivalent_mean"] == 17.48
    assert row["volumetric_soil_water_layer_1_mean"] == 0.39
    assert row["total_precipitation_sum"] == 6.02
    assert row["potential_evaporation_sum_ERA5_LAND"] == 0.76
    assert np.isnan(row["streamflow"])
    row = df.loc["1985-11-01"]  # first day with flow
    assert row["streamflow"] == 0.49
    assert row["temperature_2m_mean"] == 5.48
    assert row["total_precipitation_sum"] == 4.7
    assert row["volumetric_soil_water_layer_4_mean"] == 0.36
    row = df.loc["2000-06-15"]
    assert row["streamflow"] == 1.35
    assert row["potential_evaporation_sum_ERA5_LAND"] == 8.45
    assert df.loc["2020-12-31", "snow_depth_water_equivalent_mean"] == 12.11
    assert df["snow_depth_water_equivalent_mean"].max() == 128.96
    # the extra, non-Caravan column of the Hy2DL copy is kept as is
    assert "eobs" in df.columns


def test_streamflow_nan_exactly_where_csv_field_empty(df):
    empty = np.array([f == "" for f in _raw_fields("streamflow")])
    assert empty.sum() == 2363
    np.testing.assert_array_equal(df["streamflow"].isna().to_numpy(), empty)
    q = df["streamflow"]
    assert q.first_valid_index() == pd.Timestamp("1985-11-01")
    assert q.last_valid_index() == pd.Timestamp("2019-05-13")
    # ERA5-Land columns are complete
    era5 = [c for c in df.columns if c not in ("streamflow",)]
    assert not df[era5].isna().any().any()


def test_read_timeseries_columns_and_missing_column():
    sub = read_timeseries(CARAVAN, BASIN, columns=["streamflow", "temperature_2m_mean"])
    assert list(sub.columns) == ["streamflow", "temperature_2m_mean"]
    with pytest.raises(
        InputDataError, match=r"no_such_column.*camelsch_4001\.csv|camelsch_4001\.csv.*no_such_column"
    ):
        read_timeseries(CARAVAN, BASIN, columns=["no_such_column"])


def test_unknown_basin_names_id_and_folder():
    with pytest.raises(InputDataError) as err:
        read_timeseries(CARAVAN, "camelsch_9999")
    assert "camelsch_9999" in str(err.value)
    assert str(CARAVAN / "timeseries" / "csv" / "camelsch") in str(err.value)
    with pytest.raises(InputDataError, match="camelsch_9999"):
        build_caravan_dataset(CARAVAN, "camelsch", ["camelsch_9999"], DYNAMIC, "streamflow", [])


def test_read_attributes_merge():
    attrs = read_attributes(CARAVAN, "camelsch")
    assert attrs.index.name == "gauge_id"
    assert len(attrs) == 296
    for col in (
        "gauge_name",
        "country",
        "gauge_lat",
        "gauge_lon",
        "area",
        "p_mean",
        "pet_mean_ERA5_LAND",
        "aridity_ERA5_LAND",
        "frac_snow",
        "moisture_index_ERA5_LAND",
        "seasonality_ERA5_LAND",
        "high_prec_freq",
        "high_prec_dur",
        "low_prec_freq",
        "low_prec_dur",
    ):
        assert col in attrs.columns, col
    row = attrs.loc[BASIN]
    assert row["gauge_name"] == "Tegernau"
    assert row["gauge_lat"] == 47.72 and row["gauge_lon"] == 7.79
    assert row["area"] == pytest.approx(69.75704021470985)
    assert row["frac_snow"] == pytest.approx(0.0866645745100296)


def test_caravan_climate_indices_match_the_series(df):
    """The Caravan climate indices were computed from these very series (1981-2020)."""
    attrs = read_attributes(CARAVAN, "camelsch").loc[BASIN]
    assert df["total_precipitation_sum"].mean() == pytest.approx(attrs["p_mean"], rel=1e-9)
    assert df["potential_evaporation_sum_ERA5_LAND"].mean() == pytest.approx(
        attrs["pet_mean_ERA5_LAND"], rel=1e-9
    )


def test_build_dataset_contract(ds, df):
    assert ds["basin"].dtype == np.int32
    assert list(ds["basin"].values) == [4001]
    assert list(ds["gauge_id"].values) == [BASIN]
    assert ds["gauge_id"].dims == ("basin",)
    assert ds.attrs["gauge_ids"] == [BASIN]
    assert ds.sizes["time"] == 14610
    assert ds["time"].dtype == np.dtype("datetime64[ns]")
    assert ds["time"].values[0] == np.datetime64("1981-01-01")
    assert ds["time"].values[-1] == np.datetime64("2020-12-31")
    for v in [*DYNAMIC, "streamflow", "swvl1", "swvl2", "swvl3", "swvl4", "sd"]:
        assert ds[v].dims == ("basin", "time") and ds[v].dtype == np.float32, v
    for v in STATICS:
        assert ds[v].dims == ("basin",) and ds[v].dtype == np.float32, v
    assert set(ds.data_vars) == {*DYNAMIC, "streamflow", "swvl1", "swvl2", "swvl3", "swvl4", "sd", *STATICS}
    assert ds.attrs["dynamic_inputs"] == DYNAMIC
    assert ds.attrs["target"] == "streamflow"
    assert ds.attrs["static_inputs"] == STATICS
    assert ds.attrs["probe_targets"] == ["swvl1", "swvl2", "swvl3", "swvl4", "sd"]
    assert ds["sd"].attrs["units"] == "m of water equivalent"
    assert ds["swvl1"].attrs["units"] == "m3 m-3"
    assert ds["streamflow"].attrs["units"] == "mm/day"
    # values: forcing from the mapped Caravan columns
    for name, col in CARAVAN_FORCING.items():
        np.testing.assert_array_equal(ds[name].values[0], df[col].to_numpy(np.float32))
    np.testing.assert_array_equal(np.isnan(ds["streamflow"].values[0]), df["streamflow"].isna().to_numpy())
    assert float(ds["streamflow"].sel(basin=4001, time="1985-11-01")) == np.float32(0.49)
    assert float(ds["p_mean"].sel(basin=4001)) == np.float32(3.407617385352498)


def test_probe_targets_units(ds, df):
    for k in range(1, 5):
        sw = ds[f"swvl{k}"].values
        assert np.isfinite(sw).all()
        assert (sw >= 0).all() and (sw <= 1).all()
        np.testing.assert_array_equal(sw[0], df[f"volumetric_soil_water_layer_{k}_mean"].to_numpy(np.float32))
    swe_mm = df["snow_depth_water_equivalent_mean"].to_numpy()
    np.testing.assert_array_equal(ds["sd"].values[0], (swe_mm / 1000.0).astype(np.float32))
    assert float(ds["sd"].sel(basin=4001, time="1981-01-01")) == np.float32(0.01748)
    assert float(ds["sd"].max()) == np.float32(0.12896)


def test_build_errors(tmp_path):
    with pytest.raises(
        InputDataError, match="not_a_column.*camelsch_4001.csv|camelsch_4001.csv.*not_a_column"
    ):
        build_caravan_dataset(
            CARAVAN,
            "camelsch",
            [BASIN],
            ["precipitation"],
            "streamflow",
            [],
            forcing={"precipitation": "not_a_column"},
        )
    with pytest.raises(InputDataError, match="elev_mean"):
        build_caravan_dataset(CARAVAN, "camelsch", [BASIN], DYNAMIC, "streamflow", ["elev_mean"])
    with pytest.raises(InputDataError, match="gauge_name"):
        build_caravan_dataset(CARAVAN, "camelsch", [BASIN], DYNAMIC, "streamflow", ["gauge_name"])
    with pytest.raises(InputDataError, match="camelsgb_1001"):
        build_caravan_dataset(CARAVAN, "camelsch", ["camelsgb_1001"], DYNAMIC, "streamflow", [])


def test_forcing_and_numeric_basin_ids(df):
    ds = build_caravan_dataset(
        CARAVAN,
        "camelsch",
        [4001],
        ["precipitation", "temperature_2m_max"],
        "discharge_spec",
        [],
        forcing={"precipitation": "eobs", "discharge_spec": "streamflow"},
    )
    assert list(ds["gauge_id"].values) == [BASIN]
    np.testing.assert_array_equal(ds["precipitation"].values[0], df["eobs"].to_numpy(np.float32))
    np.testing.assert_array_equal(
        ds["temperature_2m_max"].values[0], df["temperature_2m_max"].to_numpy(np.float32)
    )
    assert ds["discharge_spec"].attrs["units"] == "mm/day"
    assert "pet" not in ds  # not mapped in this forcing and not a column


def test_netcdf_layout_round_trip(tmp_path, df):
    root = tmp_path / "caravan"
    shutil.copytree(CARAVAN / "attributes", root / "attributes")
    nc_dir = root / "timeseries" / "netcdf" / "camelsch"
    nc_dir.mkdir(parents=True)
    # Caravan's netCDF layout: one file per basin, dimension `date`, one variable per feature.
    nc = df.to_xarray()
    for name in nc.data_vars:
        if name.startswith("snow_depth_water_equivalent"):
            nc[name].attrs["units"] = "mm"
    nc.attrs["timezone"] = "Europe/Zurich"
    nc.to_netcdf(nc_dir / f"{BASIN}.nc")

    assert list_basins(root, "camelsch") == [BASIN]
    back = read_timeseries(root, BASIN, layout="netcdf")
    pd.testing.assert_frame_equal(back, df, check_freq=False)

    ds_nc = build_caravan_dataset(root, "camelsch", None, DYNAMIC, "streamflow", STATICS, layout="netcdf")
    ds_csv = build_caravan_dataset(CARAVAN, "camelsch", None, DYNAMIC, "streamflow", STATICS)
    xr.testing.assert_identical(ds_nc.drop_attrs(), ds_csv.drop_attrs())
    assert ds_nc.attrs["layout"] == "netcdf"
    with pytest.raises(InputDataError, match="camelsch_4002"):
        read_timeseries(root, "camelsch_4002", layout="netcdf")


def test_dataset_writes_to_zarr(tmp_path, ds):
    path = tmp_path / "basin_dataset.zarr"
    write_zarr_atomic(ds, path)
    back = xr.open_zarr(path, consolidated=False).load()
    assert back["basin"].dtype == np.int32
    assert list(back["gauge_id"].values) == [BASIN]
    np.testing.assert_array_equal(back["sd"].values, ds["sd"].values)


# --- Caravan >= 1.5 names and bad input, on camelsgb files in the real layout (tests/caravan_sample.py)

GB = ["camelsgb_96004", "camelsgb_97002"]
SHORT_END = "1983-12-31"  # three years are enough to show bad input


@pytest.fixture(scope="module")
def generations(tmp_path_factory):
    """The same camelsgb basins written once with Caravan 1.4 names and once with 1.5 names."""
    root = tmp_path_factory.mktemp("generations")
    return {g: caravan_sample.write_caravan(root / g, generation=g, layouts=LAYOUTS) for g in ("1.4", "1.5")}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_both_generations_read_under_the_current_names(generations, layout):
    old = read_timeseries(generations["1.4"], GB[0], layout)
    new = read_timeseries(generations["1.5"], GB[0], layout)
    assert "potential_evaporation_sum" not in old.columns
    assert old.attrs["renamed"] == ["potential_evaporation_sum"]
    assert new.attrs["renamed"] == []
    assert "potential_evaporation_sum_FAO_PENMAN_MONTEITH" in new.columns
    assert "potential_evaporation_sum_FAO_PENMAN_MONTEITH" not in old.columns
    pet = "potential_evaporation_sum_ERA5_LAND"
    pd.testing.assert_series_equal(old[pet], new[pet])
    raw = caravan_sample.caravan_values(generations["1.4"], 96004, "potential_evaporation_sum", layout)
    np.testing.assert_array_equal(old[pet].to_numpy(), raw.to_numpy())
    assert old[pet].notna().all() and old[pet].max() > 3  # real daily PET, not a placeholder
    # an old name in a request still finds the column of a current copy
    asked = read_timeseries(generations["1.5"], GB[0], layout, columns=["potential_evaporation_sum"])
    assert list(asked.columns) == [pet]


def test_both_generations_build_the_same_dataset(generations, caplog):
    statics = ["p_mean", "pet_mean", "aridity", "area"]
    with caplog.at_level("INFO", logger="hydroprobe"):
        old = build_caravan_dataset(generations["1.4"], "camelsgb", None, DYNAMIC, "streamflow", statics)
    assert (
        "names of Caravan < 1.5 (potential_evaporation_sum) read as potential_evaporation_sum_ERA5_LAND"
        in (caplog.text)
    )
    assert "aridity, moisture_index, pet_mean, seasonality read as aridity_ERA5_LAND," in caplog.text
    caplog.clear()
    with caplog.at_level("INFO", logger="hydroprobe"):
        new = build_caravan_dataset(generations["1.5"], "camelsgb", None, DYNAMIC, "streamflow", statics)
    assert "names of Caravan >= 1.5" in caplog.text
    xr.testing.assert_identical(old.drop_attrs(), new.drop_attrs())
    assert list(new["gauge_id"].values) == GB
    # the real Caravan ERA5-Land indices of Strathmore at Allnabad, asked by their pre-1.5 names
    assert float(new["pet_mean"].sel(basin=96004)) == np.float32(4.500117051132857)
    assert float(new["aridity"].sel(basin=96004)) == np.float32(1.1881116563317329)
    assert new["pet"].attrs["caravan_column"] == "potential_evaporation_sum_ERA5_LAND"
    # FAO Penman-Monteith PET and its indices exist only in a current copy
    fao = build_caravan_dataset(
        generations["1.5"], "camelsgb", None, ["pet"], "streamflow", ["aridity_FAO_PM"],
        forcing={"pet": "potential_evaporation_sum_FAO_PENMAN_MONTEITH"},
    )  # fmt: skip
    assert float(fao["aridity_FAO_PM"].sel(basin=96004)) == np.float32(1.1881116563317329 * 0.65)
    with pytest.raises(InputDataError, match=r"camelsgb_96004\.csv: missing column\(s\) .*FAO.*>= 1\.5"):
        build_caravan_dataset(
            generations["1.4"], "camelsgb", None, ["pet"], "streamflow", [],
            forcing={"pet": "potential_evaporation_sum_FAO_PENMAN_MONTEITH"},
        )  # fmt: skip
    with pytest.raises(InputDataError, match=r"'aridity_FAO_PM'.*>= 1\.5 name"):
        build_caravan_dataset(generations["1.4"], "camelsgb", None, DYNAMIC, "streamflow", ["aridity_FAO_PM"])


@pytest.fixture
def broken(tmp_path, request):
    """A fresh camelsgb copy in one layout and a function to rewrite basin 97002's file."""
    layout = request.param
    root = caravan_sample.write_caravan(tmp_path / "caravan", layouts=(layout,), end=SHORT_END)

    def rewrite(change):
        frame = change(caravan_sample.caravan_series(97002, end=SHORT_END))
        return caravan_sample.write_series(root, 97002, frame, layout)

    return root, layout, rewrite


def _one_line_error(root, layout, statics=()) -> str:
    with pytest.raises(InputDataError) as err:
        build_caravan_dataset(
            root, "camelsgb", [96004, 97002], DYNAMIC, "streamflow", list(statics), layout=layout
        )
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("broken", LAYOUTS, indirect=True)
def test_missing_file_for_a_listed_basin(broken):
    root, layout, _ = broken
    caravan_sample.series_path(root, 97002, layout).unlink()
    message = _one_line_error(root, layout)
    assert "camelsgb_97002" in message and str(root / "timeseries" / layout / "camelsgb") in message


@pytest.mark.parametrize("broken", LAYOUTS, indirect=True)
def test_missing_column(broken):
    root, layout, rewrite = broken
    path = rewrite(lambda f: f.drop(columns="volumetric_soil_water_layer_3_mean"))
    message = _one_line_error(root, layout)
    assert message == f"{path}: missing column(s) volumetric_soil_water_layer_3_mean"


@pytest.mark.parametrize("broken", LAYOUTS, indirect=True)
def test_non_numeric_value(broken):
    root, layout, rewrite = broken

    def spoil(frame):
        frame["temperature_2m_mean"] = frame["temperature_2m_mean"].map("{:.2f}".format).astype(object)
        frame.loc[100, "temperature_2m_mean"] = "12.5C"
        return frame

    path = rewrite(spoil)
    message = _one_line_error(root, layout)
    line = " (line 102)" if layout == "csv" else ""
    assert message == f"{path}: non-numeric value '12.5C' in column temperature_2m_mean at 1981-04-11{line}"


@pytest.mark.parametrize("broken", LAYOUTS, indirect=True)
def test_duplicate_dates(broken):
    root, layout, rewrite = broken
    path = rewrite(lambda f: pd.concat([f.iloc[:501], f.iloc[500:]], ignore_index=True))
    message = _one_line_error(root, layout)
    lines = " (lines 502 and 503)" if layout == "csv" else ""
    assert message == f"{path}: date 1982-05-16 appears more than once{lines}"


@pytest.mark.parametrize("broken", ["csv"], indirect=True)
def test_date_that_is_not_a_day(broken):
    root, layout, rewrite = broken

    def spoil(frame):
        frame.loc[3, "date"] = "1981-13-04"
        return frame

    path = rewrite(spoil)
    assert _one_line_error(root, layout) == f"{path}: date '1981-13-04' on line 5 is not YYYY-MM-DD"


@pytest.mark.parametrize("broken", LAYOUTS, indirect=True)
def test_attribute_missing_for_a_basin_says_missing(broken):
    root, layout, _ = broken
    table = root / "attributes" / "camelsgb" / "attributes_caravan_camelsgb.csv"
    frame = pd.read_csv(table, dtype={"gauge_id": str})
    frame.loc[frame["gauge_id"] == "camelsgb_97002", "p_mean"] = np.nan
    frame.to_csv(table, index=False)  # an empty field, as a published table leaves it
    message = _one_line_error(root, layout, statics=["p_mean"])
    assert message.startswith("basin camelsgb_97002: static attribute 'p_mean' missing in the Caravan")
    assert "NaN" not in message
    # a basin absent from every table is missing too
    frame[frame["gauge_id"] != "camelsgb_97002"].to_csv(table, index=False)
    other = root / "attributes" / "camelsgb" / "attributes_other_camelsgb.csv"
    o = pd.read_csv(other, dtype={"gauge_id": str})
    o[o["gauge_id"] != "camelsgb_97002"].to_csv(other, index=False)
    assert _one_line_error(root, layout, statics=["p_mean"]).startswith("basin camelsgb_97002: missing from")


# --- Caravan as the probe targets of a CAMELS-GB run (configs/lees2022_caravan.yaml)


def _preset(**changes) -> dict:
    config = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "configs" / "lees2022_caravan.yaml").read_text()
    )
    for key, value in changes.items():
        section, _, name = key.partition(".")
        if name:
            config[section][name] = value
        else:
            config[section] = value
    return validate_config(config)


def test_preset_paths_read_no_era5_land():
    config = _preset()
    assert probe_targets_from_caravan(config) and not uses_era5_land(config)
    assert downloads_camels_gb(config) and downloads_caravan(config) and not downloads_era5_land(config)
    assert probe_target_input(config) == {"caravan": "resources/caravan"}
    local = _preset(
        **{"source": "local", "camels_gb.path": "/data/CAMELS-GB", "caravan.path": "/data/Caravan"}
    )
    assert not (downloads_camels_gb(local) or downloads_caravan(local) or downloads_era5_land(local))
    assert probe_target_input(local) == {"caravan": "/data/Caravan"}  # no era5_land.path needed
    paper = _preset(probe_target_source="era5_land")
    assert uses_era5_land(paper) and downloads_era5_land(paper) and not downloads_caravan(paper)
    assert probe_target_input(paper) == {"era5_basins": "results/era5_land_basins.zarr"}


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"source": "synthetic"},
            "config key 'probe_target_source': caravan serves a CAMELS-GB run (source local or download), "
            "not source 'synthetic'",
        ),
        (
            {"caravan.subdataset": "camels"},
            "config key 'caravan.subdataset': probe targets of CAMELS-GB come from camelsgb",
        ),
        ({"source": "local"}, "config key 'camels_gb.path': required when source is 'local'"),
    ],
)
def test_preset_config_errors(changes, message):
    with pytest.raises(ConfigError) as err:
        _preset(**changes)
    assert str(err.value) == message
