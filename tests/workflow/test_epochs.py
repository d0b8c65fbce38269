"""Probes by training epoch in the DAG (dry runs): training.keep_epochs adds the kept weights to
train_lstm's outputs and one probe job per seed and probed epoch; empty, it adds nothing."""

import shutil

import yaml
from workflow_helpers import ROOT, planned_jobs, run_snakemake

EPOCH_RULES = ("probe_epoch", "probe_by_epoch_table", "plot_probe_by_epoch")


def _tiny(**training) -> dict:
    config = yaml.safe_load((ROOT / "configs" / "test_tiny.yaml").read_text())
    config["training"].update(training)
    return config


def _dry_run(workdir, config: dict, check: bool = True):
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    return run_snakemake(workdir, configfile, "-n", check=check)


def test_keep_epochs_plans_a_probe_job_per_seed_and_epoch(tmp_path):
    config = _tiny(epochs=3, keep_epochs=[3, 1])
    config["seeds"] = [1, 2]
    result = _dry_run(tmp_path, config)
    jobs = planned_jobs(result.stdout)
    # epochs 0 (untrained), 1 (kept) and 3 (trained) for each of 2 seeds
    assert jobs["probe_epoch"] == 6 and jobs["train_lstm"] == 2
    assert jobs["probe_by_epoch_table"] == 1 and jobs["plot_probe_by_epoch"] == 1
    assert "results/models/seed2/epoch1.pt" in result.stdout
    assert "epoch3.pt" not in result.stdout and "epoch0.pt" not in result.stdout  # trained.pt, untrained.pt
    for seed in (1, 2):
        for epoch in (0, 1, 3):
            assert f"results/probe_epochs/seed{seed}/epoch{epoch}.csv" in result.stdout


def test_default_plans_no_epoch_job(tmp_path):
    jobs = planned_jobs(_dry_run(tmp_path, _tiny()).stdout)
    assert jobs["train_lstm"] == 1
    assert not set(EPOCH_RULES) & set(jobs)


def test_epochs_preset_probes_six_epochs_of_the_default_run(tmp_path):
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")  # the preset goes on top of it
    result = run_snakemake(tmp_path, ROOT / "configs" / "epochs.yaml", "-n")
    assert planned_jobs(result.stdout)["probe_epoch"] == 6
    for epoch in (0, 1, 2, 5, 10, 20):
        assert f"results/probe_epochs/seed1/epoch{epoch}.csv" in result.stdout


def test_kept_epoch_past_the_last_stops_with_one_line(tmp_path):
    result = _dry_run(tmp_path, _tiny(epochs=3, keep_epochs=[1, 5]), check=False)
    assert result.returncode == 1
    assert (
        "ERROR InputDataError: config key 'training.keep_epochs': epoch 5 is outside 0…training.epochs (3)"
        in result.stderr
    )
    assert "Traceback" not in result.stderr + result.stdout
