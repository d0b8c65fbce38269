"""The whole workflow end to end on one real Caravan basin (camelsch_4001, CC-BY-4.0).

Train an LSTM on Caravan's ERA5-Land forcing and the observed streamflow, extract its cell
states, probe them for Caravan's ERA5-Land soil water and snow, and write the tables. Then the
paper's CAMELS-GB model with Caravan's camelsgb probe targets (configs/lees2022_caravan.yaml,
tiny), and bad Caravan input stopping the basin dataset job.
"""

import caravan_sample
import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import ROOT, planned_jobs, run_snakemake

from hydroprobe.io import open_zarr

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def caravan_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("caravan")
    config = yaml.safe_load((ROOT / "configs" / "test_caravan.yaml").read_text())
    config["caravan"]["path"] = str(ROOT / "tests" / "data" / "caravan")
    configfile = workdir / "caravan.yaml"
    configfile.write_text(yaml.safe_dump(config))
    run_snakemake(workdir, configfile, "--cores", "2")
    return workdir, configfile


def test_caravan_run_writes_every_table(caravan_run):
    workdir, _ = caravan_run
    summary = pd.read_csv(workdir / "results/tables/probe_summary.csv")
    assert set(summary["target"]) == {"swvl1", "swvl2", "swvl3", "swvl4", "sd"}
    assert set(summary["model"]) == {"trained", "untrained"}
    assert (summary["n_basins"] == 1).all()
    discharge = pd.read_csv(workdir / "results/tables/discharge_scores.csv", dtype={"seed": str})
    test = discharge[(discharge["seed"] == "1") & (discharge["period"] == "test")]
    assert test["basin"].tolist() == [4001] and np.isfinite(test["nse"]).all()
    assert not (workdir / "results/catchment_weights.nc").exists()  # Caravan is basin-averaged


def test_trained_probe_reads_soil_moisture(caravan_run):
    workdir, _ = caravan_run
    summary = pd.read_csv(workdir / "results/tables/probe_summary.csv")
    trained = summary[summary["model"] == "trained"].set_index("target")
    for target in ["swvl1", "swvl2", "swvl3", "swvl4"]:
        assert trained.loc[target, "median_r"] >= 0.8, trained


def test_caravan_rerun_has_nothing_to_do(caravan_run):
    workdir, configfile = caravan_run
    result = run_snakemake(workdir, configfile, "-n")
    assert planned_jobs(result.stdout + result.stderr) == {}


# --- The paper's CAMELS-GB model with Caravan's camelsgb probe targets (configs/lees2022_caravan.yaml),
# tiny (configs/test_lees2022_caravan.yaml): the real CAMELS-GB files of 96004 and 97002 and a
# Caravan copy in the real layout that has 96004 but, like the real one for 263 catchments, not 97002.


def _preset_config(workdir, camels_gb, caravan) -> object:
    config = yaml.safe_load((ROOT / "configs" / "test_lees2022_caravan.yaml").read_text())
    config["camels_gb"]["path"] = str(camels_gb)
    config["caravan"]["path"] = str(caravan)
    configfile = workdir / "lees2022_caravan.yaml"
    configfile.write_text(yaml.safe_dump(config))
    return configfile


@pytest.fixture(scope="module")
def preset_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("gb_data")
    camels_gb = caravan_sample.write_camels_gb(data / "camels_gb")
    caravan = caravan_sample.write_caravan(data / "caravan", gauge_ids=(96004,), end="1999-12-31")
    workdir = tmp_path_factory.mktemp("lees2022_caravan")
    configfile = _preset_config(workdir, camels_gb, caravan)
    run_snakemake(workdir, configfile, "--cores", "2")
    return workdir, configfile, caravan


def test_preset_reads_no_era5_land(preset_run):
    workdir, _, _ = preset_run
    assert not (workdir / "results/catchment_weights.nc").exists()
    assert not (workdir / "results/era5_land_basins.zarr").exists()
    assert not (workdir / "resources").exists()
    assert (
        "probe targets of 1 basins from Caravan camelsgb"
        in (workdir / "logs/build_basin_dataset.log").read_text()
    )


def test_preset_probe_targets_are_caravan_values(preset_run):
    workdir, _, caravan = preset_run
    ds = open_zarr(workdir / "results/basin_dataset.zarr")
    assert list(ds["basin"].values) == [96004, 97002]
    for k in range(1, 5):
        raw = caravan_sample.caravan_values(caravan, 96004, f"volumetric_soil_water_layer_{k}_mean")
        got = ds[f"swvl{k}"].sel(basin=96004, time=raw.index.values).values
        np.testing.assert_array_equal(got, raw.to_numpy(np.float32))
    swe_mm = caravan_sample.caravan_values(caravan, 96004, "snow_depth_water_equivalent_mean")
    assert swe_mm.max() > 10  # the sample has snow
    np.testing.assert_array_equal(
        ds["sd"].sel(basin=96004, time=swe_mm.index.values).values,
        (swe_mm.to_numpy() / 1000).astype(np.float32),
    )
    assert ds["sd"].attrs["units"] == "m of water equivalent"
    assert np.isnan(ds["swvl1"].sel(basin=97002).values).all()
    # the model's data are CAMELS-GB's, for both basins
    assert np.isfinite(ds["discharge_spec"].sel(basin=97002, time="1994-06-01").values)
    assert ds["time"].values[0] == np.datetime64("1970-10-01")


def test_preset_probes_the_matched_basin_and_reports_the_other(preset_run):
    workdir, _, _ = preset_run
    scores = pd.read_csv(workdir / "results/tables/probe_scores.csv")
    status = scores.groupby("basin")["status"].agg(set).to_dict()
    assert status[97002] == {"no_data"}
    trained = scores[(scores["model"] == "trained") & (scores["control"] == "none")].set_index("target")
    assert set(trained.loc[trained["basin"] == 96004, "status"]) == {"ok"}
    warnings = pd.read_csv(workdir / "results/tables/data_warnings.csv")
    row = warnings[warnings["subject"] == "basin 97002"]
    assert row["message"].tolist() == [
        "not in Caravan camelsgb: trained and evaluated, but without probe targets (NaN, scored no_data)"
    ]
    discharge = pd.read_csv(workdir / "results/tables/discharge_scores.csv", dtype={"seed": str})
    assert set(discharge["basin"]) == {96004, 97002}
    for name in ("map_probe_r", "map_catchments", "map_discharge_nse"):
        assert (workdir / f"results/figures/{name}.png").stat().st_size > 10_000


def test_preset_rerun_has_nothing_to_do(preset_run):
    workdir, configfile, _ = preset_run
    result = run_snakemake(workdir, configfile, "-n")
    assert planned_jobs(result.stdout + result.stderr) == {}


@pytest.mark.parametrize("local", [False, True], ids=["download", "local_folders"])
def test_preset_plans_its_downloads_and_no_era5_land(tmp_path, local):
    config = yaml.safe_load((ROOT / "configs" / "lees2022_caravan.yaml").read_text())
    if local:
        config["camels_gb"]["path"] = str(tmp_path / "CAMELS-GB")
        config["caravan"]["path"] = str(tmp_path / "Caravan")
        (tmp_path / "CAMELS-GB").mkdir()
        (tmp_path / "Caravan").mkdir()
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    jobs = planned_jobs(run_snakemake(tmp_path, configfile, "-n").stdout)
    downloads = {job for job in jobs if job.startswith("download")}
    assert downloads == (set() if local else {"download_camels_gb", "download_caravan"})
    assert not {"catchment_weights", "aggregate_era5_land"} & set(jobs)
    assert jobs["build_basin_dataset"] == 1 and jobs["train_lstm"] == 1


def _error_of(workdir, result) -> str:
    """The run failed with one ERROR line in the basin dataset's log, and left no basin dataset."""
    assert result.returncode != 0
    lines = [
        line
        for line in (workdir / "logs/build_basin_dataset.log").read_text().splitlines()
        if "ERROR" in line
    ]
    assert len(lines) == 1
    assert not (workdir / "results/basin_dataset.zarr").exists()
    return lines[0]


def test_preset_stops_on_a_listed_basin_without_its_file(tmp_path):
    camels_gb = caravan_sample.write_camels_gb(tmp_path / "camels_gb")
    caravan = caravan_sample.write_caravan(tmp_path / "caravan", end="1996-12-31")
    caravan_sample.series_path(caravan, 97002).unlink()
    workdir = tmp_path / "run"
    workdir.mkdir()
    result = run_snakemake(workdir, _preset_config(workdir, camels_gb, caravan), "--cores", "1", check=False)
    assert _error_of(workdir, result) == (
        "ERROR InputDataError: basin camelsgb_97002: no Caravan time series camelsgb_97002.csv in "
        f"{caravan}/timeseries/csv/camelsgb"
    )


@pytest.mark.parametrize("layout", ["csv", "netcdf"])
def test_caravan_source_stops_on_a_repeated_date(tmp_path, layout):
    caravan = caravan_sample.write_caravan(tmp_path / "caravan", layouts=(layout,), end="1996-12-31")
    frame = caravan_sample.caravan_series(97002, end="1996-12-31")
    path = caravan_sample.write_series(caravan, 97002, pd.concat([frame.iloc[:40], frame.iloc[39:]]), layout)
    config = yaml.safe_load((ROOT / "configs" / "test_caravan.yaml").read_text())
    config["caravan"].update(path=str(caravan), subdataset="camelsgb", layout=layout)
    config.update(basins=[96004, 97002])
    config["periods"] = {"train": ["1991-01-01", "1993-12-31"], "validation": ["1990-01-01", "1990-12-31"],
                         "test": ["1994-01-01", "1995-12-31"]}  # fmt: skip
    workdir = tmp_path / "run"
    workdir.mkdir()
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = run_snakemake(workdir, configfile, "--cores", "1", check=False)
    lines = " (lines 41 and 42)" if layout == "csv" else ""
    assert _error_of(workdir, result) == (
        f"ERROR InputDataError: {path}: date 1981-02-09 appears more than once{lines}"
    )
