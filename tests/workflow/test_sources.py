"""The DAGs of the real-data sources, by dry run only: no test touches the network.

A dry run plans the download jobs (one per CDS request) without running them, so the full-scale
preset can be checked here without CAMELS-GB, ERA5-Land or CDS credentials.
"""

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from workflow_helpers import ROOT, planned_jobs, run_snakemake

pytestmark = pytest.mark.workflow

# evaluate_discharge: the seed and the seed ensemble; probes: one job per (trained, untrained,
# shuffle, shift) on the states and per (inputs, inputs_all), each fitting every target;
# analyse_cell_states: trained and untrained
DOWNSTREAM = {
    "train_lstm": 1,
    "extract_cell_states": 2,
    "evaluate_discharge": 2,
    "fit_probe": 4,
    "fit_input_probe": 2,
    "summarise_probes": 1,
    "plot_probe_cdfs": 1,
    "discharge_table": 1,
    "data_warnings_table": 1,
    "analyse_cell_states": 2,
    "plot_probe_weights": 1,
    "pca_summary": 1,
    # figures of the report stage: one job each (plot_series per seed)
    "plot_maps": 1,
    "plot_series": 1,
    "plot_probe_comparisons": 1,
    "plot_discharge_cdfs": 1,
    "plot_pca_variance": 1,
    "all": 1,
}


def _dry_run(workdir: Path, config: dict, *args: str) -> dict[str, int]:
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = run_snakemake(workdir, configfile, "-n", *args)
    return planned_jobs(result.stdout + result.stderr)


def _preset(name: str) -> dict:
    return yaml.safe_load((ROOT / "configs" / name).read_text())


@contextmanager
def _lees2022_workflow(workdir: Path):
    """The parsed workflow of configs/lees2022.yaml (Snakemake's API, nothing run)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    with SnakemakeApi(OutputSettings(quiet=None)) as api:
        yield api.workflow(
            resource_settings=ResourceSettings(),
            config_settings=ConfigSettings(configfiles=[ROOT / "configs" / "lees2022.yaml"]),
            snakefile=ROOT / "Snakefile",
            workdir=workdir,
        )._workflow


def test_lees2022_plans_every_download(tmp_path):
    jobs = planned_jobs(run_snakemake(tmp_path, ROOT / "configs" / "lees2022.yaml", "-n").stdout)
    assert jobs == {
        "download_camels_gb": 1,
        "download_era5_land_hourly": 5 * 39,  # one per variable x year, its 12 months in turn
        "catchment_weights": 1,
        "aggregate_era5_land": 1,
        "build_basin_dataset": 1,
        **DOWNSTREAM,
    }


def test_lees2022_download_rules_are_local(tmp_path):
    with _lees2022_workflow(tmp_path) as workflow:
        assert set(workflow._localrules) == {"download_camels_gb", "download_era5_land_hourly"}
        assert len(workflow.config["basins"]) == 669  # from basins_file


def test_daily_mode_is_one_request_per_variable_year(tmp_path):
    config = _preset("lees2022.yaml")
    config["era5_land"]["download"].update(mode="daily", years=[2000, 2004])
    config["era5_land"]["variables"] = config["probes"]["targets"] = ["swvl1", "swvl2"]
    jobs = _dry_run(tmp_path, config)
    assert jobs["download_era5_land_daily"] == 2 * 5
    assert "download_era5_land_hourly" not in jobs
    assert jobs["fit_probe"] == 4  # each job fits both targets


def test_local_paths_download_nothing(tmp_path):
    """camels_gb.path / era5_land.path set: used as they are, nothing planned for them."""
    config = _preset("lees2022.yaml")
    config["era5_land"]["path"] = str(tmp_path / "era5")
    (tmp_path / "era5").mkdir()
    jobs = _dry_run(tmp_path, config)
    assert jobs["download_camels_gb"] == 1
    assert "download_era5_land_hourly" not in jobs
    config["camels_gb"]["path"] = str(tmp_path / "camels")
    (tmp_path / "camels").mkdir()
    jobs = _dry_run(tmp_path, config)
    assert not any(rule.startswith("download") for rule in jobs)


def test_caravan_dag_has_no_aggregation(tmp_path):
    config = _preset("caravan.yaml")
    config["caravan"]["path"] = str(ROOT / "tests" / "data" / "caravan")
    jobs = _dry_run(tmp_path, config)
    assert jobs == {"build_caravan_dataset": 1, **DOWNSTREAM}


def test_caravan_without_path_downloads_it_first(tmp_path):
    config = _preset("caravan.yaml")
    config["caravan"]["path"] = None
    jobs = _dry_run(tmp_path, config)
    assert jobs.get("download_caravan") == 1 and jobs.get("build_caravan_dataset") == 1


def test_slurm_profile_dry_run_default_config(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    result = run_snakemake(
        tmp_path, ROOT / "config.yaml", "--workflow-profile", str(ROOT / "profiles" / "slurm"), "-n"
    )
    jobs = planned_jobs(result.stdout + result.stderr)
    # the default config: the pooled linear probe on trained and untrained states plus the
    # shuffle and shift controls on the trained states; the joint probe (one job per LSTM) and its
    # inputs_all baseline; each job fits every target
    expected = {
        "generate_synthetic_world": 1,
        "catchment_weights": 1,
        "aggregate_era5_land": 1,
        "build_basin_dataset": 1,
        **DOWNSTREAM,
        "fit_probe": 4,
        "fit_input_probe": 1,
        "fit_joint_probe": 2,
    }
    assert jobs == expected


def test_basins_and_basins_file_exclude_each_other(tmp_path):
    config = _preset("lees2022.yaml")
    config["basins"] = [1001]
    configfile = tmp_path / "bad.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = run_snakemake(tmp_path, configfile, "-n", check=False)
    assert result.returncode != 0
    assert "config key 'basins_file': give either basins or basins_file" in result.stdout + result.stderr


def test_seeds_from_the_command_line(tmp_path):
    config = _preset("test_tiny.yaml")
    jobs = _dry_run(tmp_path, config, "--config", "seeds=[1,2,3]")
    assert jobs["train_lstm"] == 3


def _planned_resources(dry_run_output: str) -> dict[str, list[dict[str, str]]]:
    """Rule -> the `resources:` of each planned job, as a dry run prints them per job."""
    jobs: dict[str, list[dict[str, str]]] = {}
    rule = None
    for line in dry_run_output.splitlines():
        header = re.match(r"^(?:local)?rule (\w+):$", line)
        if header:
            rule = header.group(1)
        elif rule and line.strip().startswith("resources:"):
            pairs = (item.split("=", 1) for item in line.split(":", 1)[1].split(", "))
            jobs.setdefault(rule, []).append({key.strip(): value.strip() for key, value in pairs})
            rule = None
    return jobs


def test_paper_preset_through_slurm_asks_what_each_job_needs(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    config = _preset("lees2022.yaml")
    config["era5_land"]["download"]["years"] = [2000, 2000]  # fewer download jobs; sizes unchanged
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    profile = str(ROOT / "profiles" / "slurm")
    result = run_snakemake(tmp_path, configfile, "-n", "--workflow-profile", profile)
    jobs = _planned_resources(result.stdout + result.stderr)
    assert set(jobs) == set(planned_jobs(result.stdout + result.stderr))
    for rule, resources in jobs.items():
        for job in resources:
            # every job sized (that each rule sizes its own: the next test)
            assert int(job["mem_mb"]) >= 2000 and int(job["runtime"]) >= 30, (rule, job)
            # threads, not a profile-wide cpus_per_task, give sbatch --cpus-per-task
            assert "cpus_per_task" not in job, rule
    for rule in ("train_lstm", "extract_cell_states"):
        for job in jobs[rule]:
            assert job["gpu"] == "1" and job["slurm_partition"] == "gpu", (rule, job)
    train = jobs["train_lstm"][0]
    # 669 basins x 16436 days of the CAMELS-GB record: the dataset (10 series) and the windows
    # (25 inputs) in float32 are ~1.7 GB over the ~1 GB a CPU torch process measures
    assert int(train["mem_mb"]) >= 8000
    # 30 epochs x 4.2 M windows: hours even on a GPU
    assert int(train["runtime"]) >= 600
    assert all(job["slurm_partition"] == "cpu" for job in jobs["fit_probe"])
    # one request in flight per job, its 12 months in turn: 12 requests' time
    assert len(jobs["download_era5_land_hourly"]) == 5
    for job in jobs["download_era5_land_hourly"]:
        assert job["cds_requests"] == "1" and int(job["runtime"]) == 12 * 720


def test_every_rule_declares_threads_memory_and_runtime(tmp_path):
    with _lees2022_workflow(tmp_path) as workflow:
        for rule in workflow.rules:
            if rule.name == "all":
                continue
            assert {"mem_mb", "runtime"} <= set(rule.resources), rule.name
        threads = {rule.name: rule.resources["_cores"] for rule in workflow.rules}
    assert threads["train_lstm"] == threads["extract_cell_states"] == 8
    assert threads["aggregate_era5_land"] == 4
