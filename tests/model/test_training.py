"""Training on a toy bucket-model world: learns, is reproducible, saves the untrained control."""

import numpy as np
import pytest
import torch
from toy_worlds import basin_world

from hydroprobe.metrics import nse
from hydroprobe.model.lstm import HydroLSTM
from hydroprobe.model.training import TrainingDivergedError, learning_rate_for, train_lstm
from hydroprobe.states.inference import load_model, predict_discharge

MODEL_CFG = {
    "dynamic_inputs": ["precipitation", "peti", "temperature"],
    "static_inputs": ["k", "smax"],
    "target": "discharge_spec",
    "hidden_size": 16,
    "seq_length": 60,
    "predict_last_n": 20,
    "output_dropout": 0.1,
    "initial_forget_bias": 3.0,
}
TRAINING_CFG = {
    "epochs": 6,
    "batch_size": 64,
    "learning_rate": {0: 1e-2, 5: 5e-3},
    "clip_grad_norm": 1.0,
    "nse_eps": 0.1,
    "samples_per_epoch": 1024,
    "clip_target_at_zero": False,
    "device": "cpu",
    "precision": "fp32",
}
PERIODS = {
    "train": ("2000-01-01", "2002-06-30"),
    "validation": ("2002-07-01", "2002-12-31"),
    "test": ("2003-01-01", "2003-12-31"),
}


def train_into(
    directory, ds, training_cfg=TRAINING_CFG, periods=PERIODS, *, seed=7, model_cfg=MODEL_CFG, **kw
):
    """train_lstm on one thread, writing trained.pt / untrained.pt into `directory`."""
    kw.setdefault("log", lambda m: None)
    return train_lstm(
        ds,
        model_cfg,
        training_cfg,
        periods,
        seed=seed,
        trained_path=directory / "trained.pt",
        untrained_path=directory / "untrained.pt",
        threads=1,
        **kw,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    ds = basin_world()
    logs = []
    hist = train_into(d, ds, log=logs.append)
    return ds, d, hist, logs


def test_training_learns(trained):
    ds, d, hist, logs = trained
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert len(logs) == 1 + TRAINING_CFG["epochs"] and "samples/s" in logs[-1] and "NSE" in logs[-1]
    sim = predict_discharge(d / "trained.pt", ds, PERIODS["test"], batch_windows=500, threads=1)
    assert sim.dims == ("basin", "time") and sim.sizes["time"] == 365
    obs = ds.discharge_spec.sel(time=slice(*PERIODS["test"]))
    scores = [nse(obs.sel(basin=b).values, sim.sel(basin=b).values) for b in ds.basin.values]
    assert np.median(scores) > 0.5, scores
    untrained_sim = predict_discharge(d / "untrained.pt", ds, PERIODS["test"], batch_windows=500, threads=1)
    assert (
        np.median([nse(obs.sel(basin=b).values, untrained_sim.sel(basin=b).values) for b in ds.basin.values])
        < 0.2
    )


def test_same_seed_identical_weights(trained, tmp_path):
    ds, d, _, _ = trained
    train_into(tmp_path, ds)
    a = torch.load(d / "trained.pt", weights_only=False)["state_dict"]
    b = torch.load(tmp_path / "trained.pt", weights_only=False)["state_dict"]
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_untrained_checkpoint_is_fresh_model_of_seed(trained):
    ds, d, _, _ = trained
    ckpt = torch.load(d / "untrained.pt", weights_only=False)
    assert set(ckpt) >= {"state_dict", "model_config", "normalisation", "seed"} and ckpt["seed"] == 7
    torch.manual_seed(7)
    fresh = HydroLSTM(5, 16, 0.1, 3.0).state_dict()
    assert all(torch.equal(fresh[k], ckpt["state_dict"][k]) for k in fresh)
    trained_sd = torch.load(d / "trained.pt", weights_only=False)["state_dict"]
    assert not torch.equal(trained_sd["lstm.weight_hh_l0"], fresh["lstm.weight_hh_l0"])
    model, _ = load_model(d / "trained.pt")
    assert not model.training


def test_nan_loss_names_epoch_and_batch(tmp_path):
    ds = basin_world(n_basins=2, end="2001-12-31")
    cfg = dict(TRAINING_CFG, epochs=1, samples_per_epoch=128, learning_rate={0: 1e30})
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch 2"):
        train_into(tmp_path, ds, cfg, {"train": ("2000-01-01", "2001-12-31")}, seed=1)


@pytest.mark.parametrize("section, key", [("model", "output_dropout"), ("training", "nse_eps")])
def test_a_setting_missing_from_the_config_is_refused_not_defaulted(tmp_path, section, key):
    """Defaults live in the schema (filled by config.validate_config), not in the library."""
    model_cfg, training_cfg = dict(MODEL_CFG), dict(TRAINING_CFG, epochs=1, samples_per_epoch=64)
    del (model_cfg if section == "model" else training_cfg)[key]
    with pytest.raises(KeyError, match=key):
        train_into(
            tmp_path,
            basin_world(n_basins=2, end="2000-12-31"),
            training_cfg,
            {"train": ("2000-03-01", "2000-12-31")},
            seed=1,
            model_cfg=model_cfg,
            progress=False,
        )
    assert not (tmp_path / "trained.pt").exists()


def test_learning_rate_schedule():
    s = {0: 1e-3, 10: 5e-4, 20: 1e-4}
    assert [learning_rate_for(s, e) for e in (1, 9, 10, 19, 20, 30)] == [1e-3, 1e-3, 5e-4, 5e-4, 1e-4, 1e-4]


def test_bf16_precision_runs_or_falls_back(tmp_path):
    ds = basin_world(n_basins=2, end="2001-12-31")
    cfg = dict(TRAINING_CFG, epochs=1, samples_per_epoch=64, precision="bf16")
    logs = []
    hist = train_into(tmp_path, ds, cfg, {"train": ("2000-01-01", "2001-12-31")}, seed=1, log=logs.append)
    assert hist["precision"] in ("bf16", "fp32")
    if hist["precision"] == "fp32":
        assert any("bf16" in m for m in logs)
    assert np.isfinite(hist["loss"]).all()


def test_basin_without_discharge_in_training_is_left_out_and_not_counted(tmp_path):
    """Training samples need a target: a basin with none in the training period has no window,
    and the log counts and names the basins that train, not every basin of the dataset."""
    ds = basin_world(n_basins=3, end="2001-12-31")
    train = ("2000-03-01", "2001-12-31")
    ds["discharge_spec"].loc[{"basin": 2, "time": slice(*train)}] = np.nan
    logs = []
    cfg = dict(TRAINING_CFG, epochs=1, samples_per_epoch=64)
    hist = train_into(tmp_path, ds, cfg, {"train": train}, seed=1, log=logs.append, progress=False)
    assert hist["n_basins"] == 2
    assert "training windows over 2 basins" in logs[0]
    assert logs[1] == (
        "seed 1: 1 basin(s) left out of training, no window with complete inputs and a target in "
        "2000-03-01…2001-12-31: 2"
    )
    # basins 1 and 3 have a window ending on each of the period's 671 days (complete inputs, a
    # target among its last predict_last_n days); basin 2 none
    assert hist["n_samples"] == 2 * 671
