"""Kept epochs (training.keep_epochs): the weights after the listed epochs, in the layout of
trained.pt, equal to the trained model of a run that stops at that epoch, and written again
identical by a resumed run after the interrupted job's files were removed."""

import pytest
import torch
from toy_worlds import basin_world

from hydroprobe.errors import InputDataError
from hydroprobe.model.checkpoints import intermediate_epochs, kept_epoch_file, load_checkpoint, resume_dir
from hydroprobe.model.training import train_lstm
from hydroprobe.states.inference import load_model

WORLD = dict(n_basins=2, start="2000-01-01", end="2000-12-31", seed=1)
MODEL = {
    "dynamic_inputs": ["precipitation"],
    "static_inputs": ["area"],
    "target": "discharge_spec",
    "hidden_size": 4,
    "seq_length": 20,
    "predict_last_n": 2,
    "output_dropout": 0.1,
    "initial_forget_bias": 3.0,
}
TRAINING = {
    "epochs": 4,
    "batch_size": 16,
    "learning_rate": {0: 1e-2, 3: 5e-3},
    "clip_grad_norm": 1.0,
    "nse_eps": 0.1,
    "samples_per_epoch": 64,
    "clip_target_at_zero": False,
    "device": "cpu",
    "precision": "fp32",
}
PERIODS = {"train": ("2000-02-01", "2000-12-31")}


def _train(directory, epochs=4, kept=(), log=lambda m: None):
    directory.mkdir(parents=True, exist_ok=True)
    kept_paths = {e: kept_epoch_file(directory, e, epochs) for e in kept}
    train_lstm(
        basin_world(**WORLD),
        MODEL,
        dict(TRAINING, epochs=epochs),
        PERIODS,
        seed=2,
        trained_path=directory / "trained.pt",
        untrained_path=directory / "untrained.pt",
        threads=1,
        log=log,
        progress=False,
        kept_paths=kept_paths,
    )
    return kept_paths


def _weights(path):
    return load_checkpoint(path)["state_dict"]


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_kept_epoch_file_maps_first_and_last_to_untrained_and_trained(tmp_path):
    assert kept_epoch_file(tmp_path, 0, 30) == tmp_path / "untrained.pt"
    assert kept_epoch_file(tmp_path, 30, 30) == tmp_path / "trained.pt"
    assert kept_epoch_file(tmp_path, 5, 30) == tmp_path / "epoch5.pt"
    assert intermediate_epochs([30, 0, 10, 1, 10], 30) == [1, 10]
    assert intermediate_epochs([], 30) == []


def test_kept_epoch_past_the_last_names_the_config_key():
    with pytest.raises(
        InputDataError, match=r"'training.keep_epochs': epoch 31 is outside 0…training.epochs \(30\)"
    ):
        intermediate_epochs([1, 31], 30)


def test_kept_epochs_load_and_equal_a_run_stopped_there(tmp_path):
    kept = _train(tmp_path / "long", kept=[1, 3])
    assert sorted(p.name for p in (tmp_path / "long").glob("*.pt")) == [
        "epoch1.pt",
        "epoch3.pt",
        "trained.pt",
        "untrained.pt",
    ]
    trained = load_checkpoint(tmp_path / "long" / "trained.pt")
    for epoch, path in kept.items():
        ckpt = load_checkpoint(path)
        assert ckpt.keys() == trained.keys()
        assert (
            ckpt["model_config"] == trained["model_config"]
            and ckpt["normalisation"] == trained["normalisation"]
        )
        model, _ = load_model(path, "cpu")  # loads like any model
        assert sum(p.numel() for p in model.parameters()) > 0
        # training is deterministic per seed: epoch k of the long run is the end of a k-epoch run
        _train(tmp_path / f"short{epoch}", epochs=epoch)
        assert _same(_weights(path), _weights(tmp_path / f"short{epoch}" / "trained.pt")), epoch
    # the kept epochs differ from each other and from the untrained and trained weights
    w1, w3 = _weights(kept[1]), _weights(kept[3])
    assert not _same(w1, w3)
    assert not _same(w3, trained["state_dict"])
    assert not _same(w1, _weights(tmp_path / "long" / "untrained.pt"))


class Stop(Exception):
    """Raised from the training log to end a run the way a kill would, after a checkpoint."""


def _stop_after_epoch_2(message):
    if "epoch 2/4" in message:
        raise Stop


def test_resumed_run_writes_the_removed_kept_files_again_identical(tmp_path):
    reference = _train(tmp_path / "reference", kept=[1, 2, 3])

    with pytest.raises(Stop):
        _train(tmp_path / "run", kept=[1, 2, 3], log=_stop_after_epoch_2)
    assert (resume_dir(tmp_path / "run" / "trained.pt") / "epoch_002.pt").exists()
    # the workflow removes the outputs of a failed job, the kept epochs among them
    for name in ("epoch1.pt", "epoch2.pt", "untrained.pt"):
        (tmp_path / "run" / name).unlink()
    logs = []
    # untrained.pt is written again by the restart itself (before the resume)
    resumed = _train(tmp_path / "run", kept=[1, 2, 3], log=logs.append)
    assert any("resuming from the checkpoint of epoch 2/4" in m for m in logs), logs
    assert not any("epoch 1/4" in m and "loss" in m for m in logs)  # did not train epoch 1 again
    for epoch in (1, 2, 3):
        assert resumed[epoch].read_bytes() == reference[epoch].read_bytes(), epoch  # the very same file
    assert _same(_weights(tmp_path / "reference" / "trained.pt"), _weights(tmp_path / "run" / "trained.pt"))
    assert not resume_dir(tmp_path / "run" / "trained.pt").exists()


def test_resume_checkpoint_of_other_kept_epochs_is_ignored(tmp_path):
    """A checkpoint that does not carry the weights of every kept epoch is not resumed from."""

    with pytest.raises(Stop):
        _train(tmp_path, kept=[3], log=_stop_after_epoch_2)
    logs = []
    kept = _train(tmp_path, kept=[1, 3], log=logs.append)
    assert any("ignoring resume checkpoint" in m for m in logs), logs
    assert kept[1].exists()
