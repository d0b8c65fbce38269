"""Bad input stops the workflow at once with one line naming the key or basin; a gap the run goes
on with is listed in results/tables/data_warnings.csv."""

import shutil

import pandas as pd
import pytest
import yaml
from workflow_helpers import ROOT, run_snakemake

pytestmark = pytest.mark.workflow

TINY = yaml.safe_load((ROOT / "configs" / "test_tiny.yaml").read_text())


def _write_config(workdir, edit) -> object:
    config = yaml.safe_load(yaml.safe_dump(TINY))
    edit(config)
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    return configfile


def _the_error_line(result) -> str:
    """The run failed, and its output holds exactly one line naming what is wrong."""
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "ERROR" in line]
    assert len(lines) == 1, result.stdout + result.stderr
    assert lines[0] in result.stderr.splitlines()
    return lines[0]


@pytest.mark.parametrize(
    "edit, line",
    [
        (
            lambda c: c["training"].update(epochs="two"),
            "ERROR ConfigError: config key 'training.epochs': 'two' is not of type 'integer'",
        ),
        (
            lambda c: c["periods"].update(train=["1993-12-31", "1991-01-01"]),
            "ERROR ConfigError: config key 'periods.train': start 1993-12-31 is after end 1991-01-01",
        ),
        (
            lambda c: c["era5_land"].update(variables=["swvl1", "swvl2", "swvl3", "swvl4"]),
            "ERROR ConfigError: config key 'probes.targets': ['sd'] not in era5_land.variables",
        ),
        (lambda c: c.update(basins=[]), "ERROR ConfigError: config key 'basins': [] should be non-empty"),
        (lambda c: c.update(seeds=[]), "ERROR ConfigError: config key 'seeds': [] should be non-empty"),
    ],
    ids=["wrong_type", "end_before_start", "probe_target_not_in_source", "empty_basins", "empty_seeds"],
)
def test_bad_config_stops_before_any_job(tmp_path, edit, line):
    result = run_snakemake(tmp_path, _write_config(tmp_path, edit), "--cores", "1", check=False)
    assert _the_error_line(result) == line
    assert not (tmp_path / "resources").exists() and not (tmp_path / "results").exists()


@pytest.fixture(scope="module")
def aggregated_world(tmp_path_factory):
    """The tiny synthetic world up to its ERA5-Land basin series: each test runs on a copy."""
    workdir = tmp_path_factory.mktemp("world")
    configfile = _write_config(workdir, lambda c: None)
    run_snakemake(workdir, configfile, "--cores", "2", "results/era5_land_basins.zarr")
    return workdir


def _copy_of(world, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(world, workdir, symlinks=True)
    return workdir


@pytest.mark.parametrize(
    "name, period, reason",
    [
        # the synthetic CAMELS-GB series end 2015-09-30, as the real ones
        (
            "test",
            ["2015-01-01", "2016-12-31"],
            "is not inside the dates of the CAMELS-GB time series in resources/synthetic/camels_gb "
            "(1970-10-01…2015-09-30)",
        ),
        (
            "validation",
            ["1969-01-01", "1970-12-31"],
            "is not inside the dates of the CAMELS-GB time series in resources/synthetic/camels_gb "
            "(1970-10-01…2015-09-30)",
        ),
        # the tiny world's ERA5-Land years are 1990-1995: nothing to probe in 1997-1998
        (
            "test",
            ["1997-01-01", "1998-12-31"],
            "has no day of the probe targets sd, swvl1, swvl2, swvl3, swvl4 (they have 1990-01-01…1995-12-31)",
        ),
    ],
    ids=["after_camels", "before_camels", "outside_era5_land"],
)
def test_period_outside_the_data_stops_before_training(aggregated_world, tmp_path, name, period, reason):
    workdir = _copy_of(aggregated_world, tmp_path)
    configfile = _write_config(workdir, lambda c: c["periods"].update({name: period}))
    result = run_snakemake(workdir, configfile, "--cores", "2", check=False)
    assert _the_error_line(result) == (
        f"ERROR ConfigError: config key 'periods.{name}': {period[0]}…{period[1]} {reason}"
    )
    assert not (workdir / "results" / "basin_dataset.zarr").exists()
    assert not (workdir / "results" / "models").exists()


def test_basin_not_in_the_data_is_named_with_the_folder(aggregated_world, tmp_path):
    workdir = _copy_of(aggregated_world, tmp_path)
    shutil.rmtree(workdir / "results")
    configfile = _write_config(workdir, lambda c: c.update(basins=[8001, 99999]))
    result = run_snakemake(workdir, configfile, "--cores", "2", check=False)
    assert _the_error_line(result) == (
        "ERROR ConfigError: config key 'basins': basin(s) 99999 not in the CAMELS-GB time series in "
        "resources/synthetic/camels_gb (13 basins there)"
    )
    assert not (workdir / "results" / "catchment_weights.nc").exists()


def test_basin_without_discharge_in_training_is_warned_and_still_probed(aggregated_world, tmp_path):
    workdir = _copy_of(aggregated_world, tmp_path)
    # basin 8003 loses its discharge in the training period (1991-1993), nothing else
    (path,) = (workdir / "resources/synthetic/camels_gb/timeseries").glob("*_8003_*.csv")
    series = pd.read_csv(path, dtype={"date": str})
    in_train = series["date"].between(*TINY["periods"]["train"])
    series.loc[in_train, ["discharge_spec", "discharge_vol"]] = float("nan")
    series.to_csv(path, index=False)
    configfile = workdir / "config.yaml"
    run_snakemake(workdir, configfile, "--cores", "2")

    warnings = pd.read_csv(workdir / "results/tables/data_warnings.csv")
    assert warnings.to_dict("records") == [
        {
            "stage": "build_basin_dataset",
            "subject": "basin 8003",
            "message": "no discharge_spec in periods.train 1991-01-01…1993-12-31: left out of training "
            "(its states are still extracted and probed)",
        }
    ]
    log = (workdir / "logs/train_lstm/seed1.log").read_text()
    assert "training windows over 12 basins" in log
    assert (
        "seed 1: 1 basin(s) left out of training, no window with complete inputs and a target in "
        "1991-01-01…1993-12-31: 8003\n"
    ) in log
    scores = pd.read_csv(workdir / "results/tables/probe_scores.csv")
    trained = scores[(scores["model"] == "trained") & (scores["control"] == "none")]
    assert set(trained.loc[trained["basin"] == 8003, "status"]) == {"ok"}
    assert (workdir / "results/tables/probe_summary.csv").is_file()
    assert (workdir / "results/tables/discharge_scores.csv").is_file()
