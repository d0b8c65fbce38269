"""The whole workflow end to end on a tiny config, then the properties of a rerun."""

import re
import shutil
import struct

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
    assert list(summary.columns) == [
        "seed",
        "model",
        "probe",
        "control",
        "target",
        "features",
        "subset",
        "n_basins",
        "median_r",
        "median_r2",
        "median_nse",
        "n_no_variance",
        "n_no_data",
        "median_r_lo",
        "median_r_hi",
        "median_nse_lo",
        "median_nse_hi",
    ]
    assert set(summary["model"]) == {"trained", "untrained", "inputs"}
    assert set(summary["target"]) == {"swvl1", "swvl2", "swvl3", "swvl4", "sd"}
    assert set(zip(summary["model"], summary["control"])) == {
        ("trained", "none"),
        ("untrained", "none"),
        ("trained", "shuffle"),
        ("trained", "shift"),
        ("inputs", "inputs"),
        ("inputs", "inputs_all"),
    }
    assert set(summary.loc[summary["model"] != "inputs", "features"]) == {"cell"}
    assert set(summary.loc[summary["model"] == "inputs", "features"]) == {"raw"}
    # the snow subset is scored for sd only
    assert set(summary.loc[summary["subset"] == "snow", "target"]) == {"sd"}
    scores = pd.read_csv(workdir / "results/tables/probe_scores.csv")
    assert {"basin", "status", "subset", "features", "r", "r2", "nse"} <= set(scores.columns)
    assert set(scores["status"]) <= {"ok", "no_variance", "no_data", "no_prediction"}
    # no silent NaN: a score is NaN exactly where the basin is not ok, and n_basins counts the ok ones
    assert (scores["r"].isna() == (scores["status"] != "ok")).all()
    keys = ["seed", "model", "probe", "control", "target", "features", "subset"]
    counts = scores[scores["status"] == "ok"].groupby(keys).size()
    assert (
        summary.set_index(keys)["n_basins"] == counts.reindex(summary.set_index(keys).index).fillna(0)
    ).all()
    assert (
        summary["n_basins"] + summary["n_no_variance"] + summary["n_no_data"]
        == scores.groupby(keys).size().reindex(summary.set_index(keys).index).to_numpy()
    ).all()
    selectivity = pd.read_csv(workdir / "results/tables/probe_selectivity.csv")
    assert set(selectivity["control"]) == {"untrained", "shuffle", "shift", "inputs", "inputs_all"}
    assert (selectivity["n_basins"] > 0).all()
    per_basin = pd.read_csv(workdir / "results/tables/probe_selectivity_basins.csv")
    assert ((per_basin["delta_r"] - (per_basin["r_trained"] - per_basin["r_control"])).abs() < 1e-12).all()
    ensemble = pd.read_csv(workdir / "results/tables/probe_ensemble.csv")
    assert {"n_seeds", "mean_median_r", "min_median_r", "max_median_r", "mean_median_nse"} <= set(
        ensemble.columns
    )
    assert (ensemble["min_median_r"] <= ensemble["max_median_r"]).all()
    discharge = pd.read_csv(workdir / "results/tables/discharge_scores.csv", dtype={"seed": str})
    assert list(discharge.columns) == [
        "seed",
        "period",
        "basin",
        "nse",
        "kge",
        "r",
        "pbias",
        "fhv",
        "fms",
        "flv",
    ]
    assert set(zip(discharge["seed"], discharge["period"])) == {
        (s, p) for s in ("1", "ensemble") for p in ("validation", "test")
    }
    # one seed: the ensemble mean is that seed's simulation
    by_member = discharge.set_index(["period", "basin"]).groupby("seed")
    pd.testing.assert_frame_equal(
        by_member.get_group("1").drop(columns="seed"), by_member.get_group("ensemble").drop(columns="seed")
    )
    summary = pd.read_csv(workdir / "results/tables/discharge_summary.csv", dtype={"seed": str})
    test_row = summary[(summary["seed"] == "1") & (summary["period"] == "test")].iloc[0]
    test_scores = discharge[(discharge["seed"] == "1") & (discharge["period"] == "test")]
    assert test_row["median_fhv"] == pytest.approx(test_scores["fhv"].median())
    assert test_row["n_basins"] == test_scores["nse"].notna().sum() > 0
    assert (workdir / "results/figures/probe_r_cdf.png").stat().st_size > 10_000
    # every rule wrote its log and its benchmark
    assert (workdir / "logs/train_lstm/seed1.log").exists()
    assert (workdir / "results/benchmarks/train_lstm/seed1.tsv").exists()


def _planned_figures(workdir, configfile) -> list[str]:
    """Every figure the run's DAG writes (from snakemake --summary), PNG and extra formats."""
    summary = run_snakemake(workdir, configfile, "--summary").stdout
    return [line.split("\t")[0] for line in summary.splitlines() if line.startswith("results/figures/")]


def test_every_figure_is_a_valid_image_of_plausible_size(tiny_run):
    workdir, configfile = tiny_run
    figures = _planned_figures(workdir, configfile)
    pngs = [name for name in figures if name.endswith(".png")]
    assert pngs, "the run draws no figure"
    for name in pngs:
        data = (workdir / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
        assert 400 <= width <= 4000 and 250 <= height <= 4000, (name, width, height)
        assert len(data) > 10_000, name  # more than an empty canvas
        # the configured extra format beside every PNG
        svg = (workdir / name).with_suffix(".svg")
        assert svg.read_text().lstrip().startswith("<?xml"), svg
        assert str(svg.relative_to(workdir)) in figures


def test_probe_map_draws_every_scored_catchment(tiny_run):
    workdir, _ = tiny_run
    scores = pd.read_csv(workdir / "results/tables/probe_scores.csv")
    trained = scores[
        (scores["model"] == "trained") & (scores["control"] == "none") & (scores["subset"] == "all")
    ]
    ok_per_target = trained[trained["status"] == "ok"].groupby("target").size()
    log = (workdir / "logs/plot_maps.log").read_text()
    line = next(line for line in log.splitlines() if line.startswith("probe r:"))
    drawn = [int(n) for n in re.findall(r"'scored': (\d+)", line)]
    assert sorted(drawn) == sorted(ok_per_target.tolist())


def test_html_report_gathers_every_figure_without_markup_errors(tiny_run):
    workdir, configfile = tiny_run
    result = run_snakemake(workdir, configfile, "--report", "results/report.html")
    html = (workdir / "results/report.html").read_text()
    # docutils writes caption errors (e.g. an undefined substitution) into the page
    assert "System Message" not in html and "(ERROR/" not in result.stderr
    for name in _planned_figures(workdir, configfile):
        if name.endswith(".png"):
            assert name.rsplit("/", 1)[-1] in html, name


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
    assert jobs.get("fit_probe") == 4  # trained, untrained, shuffle, shift: each job fits every target
    assert jobs.get("fit_input_probe") == 2  # inputs, inputs_all
    assert not {"train_lstm", "extract_cell_states", "build_basin_dataset", "generate_synthetic_world"} & set(
        jobs
    )


def test_new_probe_kinds_and_features_do_not_retrain(tiny_run):
    workdir, configfile = tiny_run
    config = yaml.safe_load(configfile.read_text())
    config["probes"].update(kinds=["linear", "mlp"], features=["cell", "hidden"], controls=["shift"])
    changed = workdir / "changed_kinds.yaml"
    changed.write_text(yaml.safe_dump(config))
    result = run_snakemake(workdir, changed, "-n")
    jobs = planned_jobs(result.stdout + result.stderr)
    # new: mlp on (trained, untrained, shift) x cell + everything on hidden (3 x 2 kinds) = 3 + 6
    assert jobs.get("fit_probe") == 9
    assert "fit_input_probe" not in jobs
    assert not {"train_lstm", "extract_cell_states", "build_basin_dataset", "generate_synthetic_world"} & set(
        jobs
    )


def test_bad_config_key_is_one_clear_line(tmp_path):
    config = yaml.safe_load((ROOT / "configs" / "test_tiny.yaml").read_text())
    config["training"]["epoch"] = 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, bad, "-n", check=False)
    assert result.returncode != 0
    assert "config key 'training': unknown key(s) ['epoch']" in result.stdout + result.stderr


# What each change to a finished run plans, exactly (rule -> jobs): dry runs on the tiny run.
READ_AND_AGGREGATE = {
    "generate_synthetic_world",
    "catchment_weights",
    "aggregate_era5_land",
    "build_basin_dataset",
}
PROBE_RULES = {"fit_probe", "fit_input_probe", "fit_joint_probe"}
# the tables and figures drawn from the probe scores
PROBE_TABLES = {
    "summarise_probes",
    "plot_probe_cdfs",
    "plot_probe_comparisons",
    "plot_maps",
    "plot_series",
    "all",
}


@pytest.fixture(scope="module")
def fresh_plan(tmp_path_factory):
    """Every job of the tiny config in an empty folder: what each change is counted against."""
    workdir = tmp_path_factory.mktemp("fresh")
    result = run_snakemake(workdir, ROOT / "configs" / "test_tiny.yaml", "-n")
    return planned_jobs(result.stdout + result.stderr)


def _plan_after(tiny_run, name: str, change, *args: str) -> dict[str, int]:
    """The jobs a dry run plans on the finished tiny run after `change` edits its config."""
    workdir, configfile = tiny_run
    config = yaml.safe_load(configfile.read_text())
    change(config)
    changed = workdir / f"{name}.yaml"
    changed.write_text(yaml.safe_dump(config))
    result = run_snakemake(workdir, changed, "-n", *args)
    return planned_jobs(result.stdout + result.stderr)


def _only(plan: dict[str, int], rules) -> dict[str, int]:
    return {rule: count for rule, count in plan.items() if rule in rules}


def test_added_seed_trains_only_that_seed(tiny_run, fresh_plan):
    jobs = _plan_after(tiny_run, "seed2", lambda c: c.update(seeds=[1, 2]))
    per_seed = {
        "train_lstm",
        "extract_cell_states",
        "analyse_cell_states",
        "plot_probe_weights",
        *PROBE_RULES,
    }
    tables = {"discharge_table", "pca_summary", "plot_discharge_cdfs", "plot_pca_variance", *PROBE_TABLES}
    assert jobs == {
        **_only(fresh_plan, per_seed),  # seed 2's model, states and probes, as many jobs as seed 1 had
        **dict.fromkeys(tables, 1),
        "evaluate_discharge": 2,  # seed 2 and the seed ensemble
        "plot_series": 2,  # seed 2's, and seed 1's again: its panels draw on the probe table
    }


def test_changed_probe_targets_retrain_and_extract_nothing(tiny_run, fresh_plan):
    # dropping a target changes the probe jobs' targets as adding one does: the probes, their
    # weights and PCA analyses and the tables are redone; the LSTMs and their states are kept
    jobs = _plan_after(
        tiny_run, "targets4", lambda c: c["probes"].update(targets=["swvl1", "swvl2", "swvl3", "swvl4"])
    )
    redone = {*PROBE_RULES, "analyse_cell_states", "plot_probe_weights", *PROBE_TABLES}
    assert jobs == {**_only(fresh_plan, redone), "pca_summary": 1, "plot_pca_variance": 1}


def test_hidden_size_retrains_and_extracts_but_reads_nothing(tiny_run, fresh_plan):
    jobs = _plan_after(tiny_run, "hidden12", lambda c: c["model"].update(hidden_size=12))
    # the raw-input probes and the data warnings do not depend on the model
    kept = {*READ_AND_AGGREGATE, "data_warnings_table", "fit_input_probe"}
    assert jobs == {rule: n for rule, n in fresh_plan.items() if rule not in kept}
    assert jobs["train_lstm"] == 1 and jobs["extract_cell_states"] == 2


def test_aggregation_method_reaggregates_and_retrains(tiny_run, fresh_plan):
    jobs = _plan_after(tiny_run, "all_touched", lambda c: c["aggregation"].update(method="all_touched"))
    # new weights change the basin means, so every input of the LSTM and the probes: all but the
    # synthetic world itself
    assert jobs == {rule: n for rule, n in fresh_plan.items() if rule != "generate_synthetic_world"}


def test_forcerun_of_the_probe_rules_refits_exactly_the_probes(tiny_run, fresh_plan):
    # after a fix in hydroprobe.probes (package code is not tracked by snakemake, only the rules'
    # scripts): the probe jobs and the tables and figures drawn from their scores, nothing upstream
    jobs = _plan_after(tiny_run, "same", lambda c: None, "--forcerun", *sorted(PROBE_RULES))
    assert jobs == _only(fresh_plan, PROBE_RULES | PROBE_TABLES)
