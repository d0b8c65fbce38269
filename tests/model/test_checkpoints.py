"""Checkpoint files: written whole or not at all; tensors and plain values only, so they load
whatever module a class of the package lives in."""

import numpy as np
import pytest
import torch
from toy_worlds import basin_world

from hydroprobe.errors import InputDataError
from hydroprobe.model.checkpoints import load_checkpoint, save_checkpoint, save_epoch
from hydroprobe.model.lstm import HydroLSTM
from hydroprobe.model.normalisation import Normalisation
from hydroprobe.model.training import train_lstm
from hydroprobe.states.inference import load_model


class _DiskFull:
    def __reduce__(self):
        raise OSError("No space left on device")


def test_failed_save_leaves_the_previous_checkpoint_and_no_partial_one(tmp_path):
    path = save_checkpoint({"state_dict": {"w": torch.ones(3)}, "seed": 1}, tmp_path / "m" / "trained.pt")
    assert path == tmp_path / "m" / "trained.pt"
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint({"state_dict": {"w": torch.zeros(3)}, "seed": _DiskFull()}, path)
    assert torch.equal(torch.load(path, weights_only=True)["state_dict"]["w"], torch.ones(3))
    assert [p.name for p in path.parent.iterdir()] == ["trained.pt"]


def test_save_epoch_keeps_only_the_latest(tmp_path):
    for epoch in (1, 2, 3):
        save_epoch(tmp_path, epoch, {"fingerprint": "f"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_003.pt"]
    assert torch.load(tmp_path / "epoch_003.pt", weights_only=True) == {
        "format": 1,
        "epoch": 3,
        "fingerprint": "f",
    }


def _previous_layout(state_dict: dict) -> dict:
    """A checkpoint as train_lstm has always written it, built from plain values by hand."""
    return {
        "state_dict": {k: v.clone() for k, v in state_dict.items()},
        "model_config": {
            "n_inputs": 3,
            "hidden_size": 4,
            "output_dropout": 0.4,
            "initial_forget_bias": 3.0,
            "seq_length": 10,
            "predict_last_n": 1,
            "dynamic_inputs": ["precipitation", "temperature"],
            "static_inputs": ["area"],
            "target": "discharge_spec",
            "clip_target_at_zero": False,
        },
        "normalisation": {
            "dynamic_inputs": ["precipitation", "temperature"],
            "static_inputs": ["area"],
            "target": "discharge_spec",
            "dynamic_mean": {"precipitation": 2.5, "temperature": 9.0},
            "dynamic_std": {"precipitation": 4.0, "temperature": 5.0},
            "static_mean": {"area": 120.0},
            "static_std": {"area": 80.0},
            "target_mean": 1.2,
            "target_std": 0.9,
            "basin_target_std": {1001: 0.8, 2002: 1.1},
        },
        "seed": 1,
    }


def test_a_checkpoint_of_the_previous_layout_loads(tmp_path):
    torch.manual_seed(0)
    reference = HydroLSTM(3, 4, output_dropout=0.4, initial_forget_bias=3.0)
    path = tmp_path / "trained.pt"
    torch.save(_previous_layout(reference.state_dict()), path)  # plain torch.save, as before
    model, ckpt = load_model(path, "cpu")
    assert not model.training and ckpt["seed"] == 1
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in reference.state_dict().items())
    norm = Normalisation.from_dict(ckpt["normalisation"])
    assert norm.basin_target_std == {1001: 0.8, 2002: 1.1}
    assert norm.basin_sigma([2002]).tolist() == [pytest.approx(1.1 / 0.9)]


def test_a_checkpoint_holding_a_class_is_refused(tmp_path):
    ckpt = _previous_layout(HydroLSTM(3, 4, output_dropout=0.4, initial_forget_bias=3.0).state_dict())
    ckpt["normalisation"] = Normalisation.from_dict(ckpt["normalisation"])  # an object, not a dict
    torch.save(ckpt, tmp_path / "m.pt")
    with pytest.raises(InputDataError, match="holds more than tensors and plain values"):
        load_checkpoint(tmp_path / "m.pt")
    del ckpt["seed"]
    ckpt["normalisation"] = ckpt["normalisation"].to_dict()
    torch.save(ckpt, tmp_path / "m.pt")
    with pytest.raises(InputDataError, match="lacks 'seed'"):
        load_checkpoint(tmp_path / "m.pt")
    with pytest.raises(InputDataError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return type(value) in (torch.Tensor, str, int, float, bool) or value is None


def test_train_lstm_writes_plain_values_only(tmp_path):
    """Names given as numpy strings (as read from a dataset) are stored as plain str."""
    ds = basin_world(n_basins=2, start="2000-01-01", end="2000-06-30", seed=1)
    model_cfg = {
        "dynamic_inputs": list(np.array(["precipitation", "temperature"])),
        "static_inputs": list(np.array(["area"])),
        "target": "discharge_spec",
        "hidden_size": 4,
        "seq_length": 20,
        "predict_last_n": 1,
        "output_dropout": 0.4,
        "initial_forget_bias": 3.0,
    }
    training_cfg = {
        "epochs": 1,
        "batch_size": 16,
        "learning_rate": {0: 1e-2},
        "clip_grad_norm": 1.0,
        "nse_eps": 0.1,
        "samples_per_epoch": 32,
        "clip_target_at_zero": False,
        "device": "cpu",
        "precision": "fp32",
    }
    train_lstm(
        ds,
        model_cfg,
        training_cfg,
        {"train": ("2000-02-01", "2000-06-30")},
        seed=1,
        trained_path=tmp_path / "trained.pt",
        untrained_path=tmp_path / "untrained.pt",
        threads=1,
        log=lambda m: None,
        progress=False,
    )
    for name in ("trained.pt", "untrained.pt"):
        ckpt = torch.load(tmp_path / name, weights_only=True)
        assert set(ckpt) == {"state_dict", "model_config", "normalisation", "seed"}
        assert _plain(ckpt), name
        load_model(tmp_path / name, "cpu")
