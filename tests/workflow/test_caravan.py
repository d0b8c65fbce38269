"""The whole workflow end to end on one real Caravan basin (camelsch_4001, CC-BY-4.0).

Train an LSTM on Caravan's ERA5-Land forcing and the observed streamflow, extract its cell
states, probe them for Caravan's ERA5-Land soil water and snow, and write the tables.
"""

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import ROOT, planned_jobs, run_snakemake

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
