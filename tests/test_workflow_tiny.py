"""The whole workflow end to end on a tiny config, then the properties of a rerun."""
import shutil

import pandas as pd
import pytest
import yaml

from workflow_helpers import ROOT, planned_jobs, run_snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tiny")
    configfile = workdir / "tiny.yaml"
    shutil.copy(ROOT / "configs" / "test_tiny.yaml", configfile)
    run_snakemake(workdir, configfile, "--cores", "2")
    return workdir, configfile


def test_lint_is_clean():
    result = run_snakemake(ROOT, ROOT / "config.yaml", "--lint", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_tiny_run_writes_every_table(tiny_run):
    workdir, _ = tiny_run
    summary = pd.read_csv(workdir / "results/tables/probe_summary.csv")
    assert list(summary.columns) == ["seed", "model", "probe", "control", "target", "n_basins",
                                     "median_r", "median_r2", "median_nse"]
    assert set(summary["model"]) == {"trained", "untrained"}
    assert set(summary["target"]) == {"swvl1", "swvl2", "swvl3", "swvl4", "sd"}
    scores = pd.read_csv(workdir / "results/tables/probe_scores.csv")
    assert {"basin", "r", "r2", "nse"} <= set(scores.columns)
    discharge = pd.read_csv(workdir / "results/tables/discharge_scores.csv")
    assert list(discharge.columns) == ["seed", "basin", "nse", "kge"]
    assert (workdir / "results/figures/probe_r_cdf.png").stat().st_size > 10_000
    # every rule wrote its log and its benchmark
    assert (workdir / "logs/train_lstm/seed1.log").exists()
    assert (workdir / "results/benchmarks/train_lstm/seed1.tsv").exists()


def test_second_run_has_nothing_to_do(tiny_run):
    workdir, configfile = tiny_run
    result = run_snakemake(workdir, configfile, "-n")
    assert planned_jobs(result.stdout + result.stderr) == {}
    assert "Nothing to be done" in result.stdout + result.stderr


def test_probe_setting_change_does_not_retrain(tiny_run):
    workdir, configfile = tiny_run
    config = yaml.safe_load(configfile.read_text())
    config["probes"]["ridge"] = 0.01
    changed = workdir / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    result = run_snakemake(workdir, changed, "-n")
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs.get("fit_probe") == 10
    assert not {"train_lstm", "extract_cell_states", "build_basin_dataset", "generate_synthetic_world"} & set(jobs)


def test_bad_config_key_is_one_clear_line(tmp_path):
    config = yaml.safe_load((ROOT / "configs" / "test_tiny.yaml").read_text())
    config["training"]["epoch"] = 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, bad, "-n", check=False)
    assert result.returncode != 0
    assert "config key 'training': unknown key(s) ['epoch']" in result.stdout + result.stderr
