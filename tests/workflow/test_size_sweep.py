"""The hidden-size sweep in the DAG: a list of sizes adds one LSTM per further size and seed and
one probe job per (size, seed, model); the headline size reads the headline run's models, so its
rows equal the epochs table's, and adding a size trains only that size."""

import shutil

import pandas as pd
import pytest
import torch
import yaml
from workflow_helpers import ROOT, planned_jobs, run_snakemake

pytestmark = pytest.mark.workflow

SIZE_RULES = ("train_size_lstm", "probe_size", "probe_by_size_table", "plot_probe_by_size")
# what the sweep run builds: the sweep's table and figure, and the epochs table of the headline
# model (epoch 0 = untrained.pt, epoch 2 = trained.pt) to compare them with
TARGETS = (
    "results/tables/probe_by_size.csv",
    "results/figures/probe_by_size.png",
    "results/tables/probe_by_epoch.csv",
)


def _tiny(hidden_size) -> dict:
    config = yaml.safe_load((ROOT / "configs" / "test_tiny.yaml").read_text())
    config["model"]["hidden_size"] = hidden_size
    # four years of the synthetic world instead of six: the run is a third shorter
    config["synthetic"]["era5_years"] = [1990, 1993]
    config["periods"] = {
        "train": ["1991-01-01", "1992-06-30"],
        "validation": ["1990-06-01", "1990-12-31"],
        "test": ["1992-07-01", "1993-12-31"],
    }
    # two epochs, the first kept: the headline model keeps it, the sweep's models keep none
    config["training"].update(epochs=2, keep_epochs=[1])
    return config


def _write(workdir, name: str, config: dict):
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sizes")
    run_snakemake(workdir, _write(workdir, "sweep", _tiny([8, 4])), "--cores", "2", *TARGETS)
    return workdir


def test_table_holds_every_size_seed_model_and_target(sweep_run):
    table = pd.read_csv(sweep_run / "results/tables/probe_by_size.csv")
    assert list(table.columns) == [
        "seed",
        "hidden_size",
        "model",
        "target",
        "median_r",
        "median_nse",
        "discharge_median_nse",
    ]
    targets = ["swvl1", "swvl2", "swvl3", "swvl4", "sd"]
    # sorted by model, size, seed and the paper's target order
    assert table[["model", "hidden_size", "target"]].values.tolist() == [
        [model, size, target] for model in ("trained", "untrained") for size in (4, 8) for target in targets
    ]
    assert table[["median_r", "median_nse", "discharge_median_nse"]].notna().all().all()
    by = table.set_index(["model", "hidden_size", "target"])
    # each size has its own models: the 4-unit LSTM reads the stores differently from the 8-unit one
    assert not (by.loc["trained"].loc[4]["median_r"] == by.loc["trained"].loc[8]["median_r"]).any()
    assert (sweep_run / "results/figures/probe_by_size.png").stat().st_size > 10_000


def test_headline_size_rows_equal_the_epochs_table(sweep_run):
    sizes = pd.read_csv(sweep_run / "results/tables/probe_by_size.csv")
    epochs = pd.read_csv(sweep_run / "results/tables/probe_by_epoch.csv")
    columns = ["target", "median_r", "median_nse", "discharge_median_nse"]
    for model, epoch in (("untrained", 0), ("trained", 2)):
        headline = sizes[(sizes["hidden_size"] == 8) & (sizes["model"] == model)][columns]
        same = epochs[epochs["epoch"] == epoch][columns]
        pd.testing.assert_frame_equal(headline.reset_index(drop=True), same.reset_index(drop=True))


def test_sweep_models_have_their_size_and_no_headline_copy(sweep_run):
    for name in ("trained", "untrained"):
        ckpt = torch.load(sweep_run / f"results/sizes/h4/models/seed1/{name}.pt", weights_only=True)
        assert ckpt["model_config"]["hidden_size"] == 4
        assert ckpt["state_dict"]["lstm.weight_hh_l0"].shape == (16, 4)
    # the headline size is not trained again, and only the headline model keeps an epoch
    assert not (sweep_run / "results/sizes/h8/models").exists()
    assert (sweep_run / "results/models/seed1/epoch1.pt").exists()
    assert not list((sweep_run / "results/sizes/h4/models/seed1").glob("epoch*.pt"))


def test_added_size_trains_and_probes_only_that_size(sweep_run):
    config = _tiny([8, 4, 16])
    result = run_snakemake(sweep_run, _write(sweep_run, "added", config), "-n", *TARGETS)
    assert planned_jobs(result.stdout) == {
        "train_size_lstm": 1,
        "probe_size": 2,
        "probe_by_size_table": 1,
        "plot_probe_by_size": 1,
    }
    assert "results/sizes/h16/models/seed1/trained.pt" in result.stdout


def test_one_integer_plans_no_sweep_job_and_keeps_the_headline_run(sweep_run):
    # the whole run of the headline size alone: what the sweep run did not build (states, probes,
    # figures), but neither its model nor its epochs again, and nothing of the sweep
    jobs = planned_jobs(run_snakemake(sweep_run, _write(sweep_run, "headline", _tiny(8)), "-n").stdout)
    assert "extract_cell_states" in jobs
    assert not {"train_lstm", "probe_epoch", "probe_by_epoch_table", *SIZE_RULES} & set(jobs)


def test_size_sweep_preset_plans_every_size_and_seed(tmp_path):
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")  # the preset goes on top of it
    jobs = planned_jobs(run_snakemake(tmp_path, ROOT / "configs" / "size_sweep.yaml", "-n").stdout)
    # 7 sizes x 3 seeds, trained and untrained; the headline size 64 trains in train_lstm
    assert jobs["probe_size"] == 42 and jobs["train_size_lstm"] == 18 and jobs["train_lstm"] == 3
