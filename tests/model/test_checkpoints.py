"""Checkpoint files: written whole or not at all."""

import pytest
import torch

from hydroprobe.model.checkpoints import save_checkpoint, save_epoch


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
