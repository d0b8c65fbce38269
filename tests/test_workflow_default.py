"""The default run (config.yaml, embedded synthetic world): does the probe find the stores?

The synthetic world knows its true soil moisture; the trained LSTM's pooled linear probe must
read it about as well as the paper found on real data (median r: swvl1-3 >= 0.85, swvl4 >= 0.75)
and better than an untrained LSTM of the same shape and seed on the top layer.
"""
import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from workflow_helpers import ROOT, run_snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("default")
    configfile = workdir / "config.yaml"
    shutil.copy(ROOT / "config.yaml", configfile)
    run_snakemake(workdir, configfile, "--cores", "2")
    return workdir


@pytest.fixture(scope="module")
def summary(default_run):
    table = pd.read_csv(default_run / "results/tables/probe_summary.csv")
    return table.set_index(["model", "target"])


@pytest.mark.parametrize("target, bar", [("swvl1", 0.85), ("swvl2", 0.85), ("swvl3", 0.85), ("swvl4", 0.75)])
def test_trained_probe_reads_soil_moisture(summary, target, bar):
    assert summary.loc[("trained", target), "median_r"] >= bar


def test_trained_beats_untrained_on_top_layer(summary):
    assert summary.loc[("trained", "swvl1"), "median_r"] > summary.loc[("untrained", "swvl1"), "median_r"]


def test_summary_matches_per_basin_scores(default_run, summary):
    scores = pd.read_csv(default_run / "results/tables/probe_scores.csv")
    for (model, target), group in scores.groupby(["model", "target"]):
        row = summary.loc[(model, target)]
        assert row["n_basins"] == group["r"].notna().sum()
        assert row["median_r"] == pytest.approx(group["r"].median())
        assert row["median_nse"] == pytest.approx(group["nse"].median())
        assert row["median_r2"] == pytest.approx((group["r"] ** 2).median())


def test_aggregated_era5_land_matches_the_true_basin_means(default_run):
    """Catchment weights + aggregation recover the generator's exact basin means."""
    truth = xr.open_dataset(default_run / "resources/synthetic/truth.nc")
    dataset = xr.open_zarr(default_run / "results/basin_dataset.zarr")
    for name in ["swvl1", "swvl4", "sd"]:
        aggregated = dataset[name].sel(basin=truth["basin"]).dropna("time", how="all")
        expected = truth[name].sel(time=aggregated["time"])
        np.testing.assert_allclose(aggregated.values, expected.values, atol=2e-3)


def test_discharge_skill_is_sensible(default_run):
    discharge = pd.read_csv(default_run / "results/tables/discharge_scores.csv")
    assert discharge["nse"].median() > 0.6
