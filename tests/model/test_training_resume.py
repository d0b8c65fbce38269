"""Resumable training: a real training process killed (SIGKILL) after its epoch-2 checkpoint and
restarted ends with weights identical to an uninterrupted run; mismatched checkpoints are
ignored; a diverging run names epoch and batch."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from toy_worlds import basin_world

from hydroprobe.model.checkpoints import resume_dir
from hydroprobe.model.training import TrainingDivergedError, train_lstm

EPOCHS = 6

CHILD = textwrap.dedent(
    """
    import sys, time
    import torch
    torch.set_num_threads(1)
    from hydroprobe.model.training import train_lstm
    from toy_worlds import basin_world

    out, slow = sys.argv[1], sys.argv[2] == "slow"
    ds = basin_world(n_basins=3, start="2000-01-01", end="2001-12-31", seed=0)
    model_cfg = {"dynamic_inputs": ["precipitation", "temperature"], "static_inputs": ["area"],
                 "target": "discharge_spec", "hidden_size": 8, "seq_length": 30, "predict_last_n": 5,
                 "output_dropout": 0.2, "initial_forget_bias": 3.0}
    training_cfg = {"epochs": EPOCHS_PLACEHOLDER, "batch_size": 32, "learning_rate": {0: 1e-2, 3: 5e-3},
                    "clip_grad_norm": 1.0, "nse_eps": 0.1, "samples_per_epoch": 256,
                    "clip_target_at_zero": False, "device": "cpu", "precision": "fp32"}

    def log(msg):
        print(msg, flush=True)
        if slow and " epoch 2/" in msg:
            time.sleep(2.0)  # epoch 2 is checkpointed: leave the parent time to kill us

    train_lstm(ds, model_cfg, training_cfg, {"train": ("2000-03-01", "2001-12-31")}, seed=3,
               trained_path=out + "/trained.pt", untrained_path=out + "/untrained.pt", threads=1,
               log=log, progress=False)
    """.replace("EPOCHS_PLACEHOLDER", str(EPOCHS))
)


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    root = Path(__file__).resolve().parents[2]
    # the child imports hydroprobe from src/ and its basin world from tests/toy_worlds.py
    paths = [str(root / "src"), str(root / "tests"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def _start(script: Path, out: Path, mode: str) -> subprocess.Popen:
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, str(script), str(out), mode],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _state(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)["state_dict"]


def test_killed_training_resumes_to_identical_weights(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    ref_dir, run_dir = tmp_path / "reference", tmp_path / "interrupted"
    reference = _start(script, ref_dir, "fast")  # uninterrupted run, in parallel
    victim = _start(script, run_dir, "slow")
    ckpt2 = resume_dir(run_dir / "trained.pt") / "epoch_002.pt"
    deadline = time.monotonic() + 60
    while not ckpt2.exists():
        assert victim.poll() is None, victim.communicate()[0]
        assert time.monotonic() < deadline, "no epoch-2 checkpoint within 60 s"
        time.sleep(0.02)
    assert victim.poll() is None, "training finished before it could be killed"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert not (run_dir / "trained.pt").exists()
    left = sorted(p.name for p in resume_dir(run_dir / "trained.pt").glob("epoch_*.pt"))
    assert left and left[-1] in ("epoch_002.pt", "epoch_003.pt") and len(left) == 1, left

    restarted = _start(script, run_dir, "fast")
    out_restart, _ = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, out_restart
    assert "resuming from the checkpoint of epoch" in out_restart
    assert f"epoch 1/{EPOCHS}" not in out_restart  # did not start over
    out_ref, _ = reference.communicate(timeout=120)
    assert reference.returncode == 0, out_ref

    a, b = _state(ref_dir / "trained.pt"), _state(run_dir / "trained.pt")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
    assert not resume_dir(run_dir / "trained.pt").exists()
    assert not resume_dir(ref_dir / "trained.pt").exists()


# --- in-process checks on a tiny world -------------------------------------------------------


TINY_WORLD = dict(n_basins=2, start="2000-01-01", end="2000-12-31", seed=1)
TINY_MODEL = {
    "dynamic_inputs": ["precipitation"],
    "static_inputs": ["area"],
    "target": "discharge_spec",
    "hidden_size": 4,
    "seq_length": 20,
    "predict_last_n": 2,
    "output_dropout": 0.1,
    "initial_forget_bias": 3.0,
}
TINY_TRAIN = {
    "epochs": 2,
    "batch_size": 16,
    "learning_rate": 1e-2,
    "clip_grad_norm": 1.0,
    "nse_eps": 0.1,
    "samples_per_epoch": 64,
    "clip_target_at_zero": False,
    "device": "cpu",
    "precision": "fp32",
}
TINY_PERIODS = {"train": ("2000-02-01", "2000-12-31")}


def _train(tmp, name, logs=None, **cfg):
    train_lstm(
        basin_world(**TINY_WORLD),
        TINY_MODEL,
        dict(TINY_TRAIN, **cfg),
        TINY_PERIODS,
        seed=2,
        trained_path=tmp / f"{name}.pt",
        untrained_path=tmp / f"{name}_u.pt",
        threads=1,
        log=(logs.append if logs is not None else (lambda m: None)),
        progress=False,
    )
    return _state(tmp / f"{name}.pt")


def test_checkpoint_of_other_config_is_ignored(tmp_path):
    ref = _train(tmp_path, "ref")
    rdir = resume_dir(tmp_path / "t.pt")
    rdir.mkdir()
    torch.save({"format": 1, "epoch": 1, "fingerprint": "another-config"}, rdir / "epoch_001.pt")
    logs = []
    got = _train(tmp_path, "t", logs)
    assert any("ignoring resume checkpoint" in m for m in logs), logs
    assert not any("resuming" in m for m in logs)
    assert all(torch.equal(ref[k], got[k]) for k in ref)
    assert not rdir.exists()


def test_checkpoint_of_other_seed_is_ignored(tmp_path):
    """A genuine checkpoint of seed 2 is not picked up by a run of seed 5."""

    # leave a real epoch-1 checkpoint behind: the log line of an epoch comes after its checkpoint
    class Stop(Exception):
        pass

    def stop_after_first(msg):
        if "epoch 1/3" in msg:
            raise Stop

    with pytest.raises(Stop):
        train_lstm(
            basin_world(**TINY_WORLD),
            TINY_MODEL,
            dict(TINY_TRAIN, epochs=3),
            TINY_PERIODS,
            seed=2,
            trained_path=tmp_path / "t.pt",
            untrained_path=tmp_path / "u.pt",
            threads=1,
            log=stop_after_first,
            progress=False,
        )
    assert (resume_dir(tmp_path / "t.pt") / "epoch_001.pt").exists()
    logs = []
    train_lstm(
        basin_world(**TINY_WORLD),
        TINY_MODEL,
        dict(TINY_TRAIN, epochs=3),
        TINY_PERIODS,
        seed=5,
        trained_path=tmp_path / "t.pt",
        untrained_path=tmp_path / "u.pt",
        threads=1,
        log=logs.append,
        progress=False,
    )
    assert any("ignoring resume checkpoint" in m for m in logs), logs
    assert not resume_dir(tmp_path / "t.pt").exists()


def test_huge_learning_rate_diverges_naming_epoch_and_batch(tmp_path):
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+, batch \d+"):
        _train(tmp_path, "d", learning_rate={0: 1e30}, epochs=2)


def test_nan_inputs_diverge_naming_epoch_and_batch(tmp_path, monkeypatch):
    """NaN input windows from the 3rd batch of epoch 2 on (4 batches an epoch) stop training there."""
    import hydroprobe.model.training as training

    real, calls = training.gather_windows, {"x": 0}

    def poisoned(x, b, e, length):
        out = real(x, b, e, length)
        if length == TINY_MODEL["seq_length"]:
            calls["x"] += 1
            if calls["x"] >= 4 + 3:
                out = torch.full_like(out, float("nan"))
        return out

    monkeypatch.setattr(training, "gather_windows", poisoned)
    with pytest.raises(TrainingDivergedError, match=r"epoch 2, batch 3$"):
        _train(tmp_path, "n")
    assert not (tmp_path / "n.pt").exists()


def test_progress_bar_reports_loss_and_rate(tmp_path):
    import io

    buf = io.StringIO()
    train_lstm(
        basin_world(**TINY_WORLD),
        TINY_MODEL,
        TINY_TRAIN,
        TINY_PERIODS,
        seed=2,
        trained_path=tmp_path / "t.pt",
        untrained_path=tmp_path / "u.pt",
        threads=1,
        log=lambda m: None,
        progress_file=buf,
    )
    text = buf.getvalue()
    assert "epoch 2/2" in text and "samples/s" in text and "loss" in text
    assert text.count("\r") + text.count("\n") < 20  # not flooding the log
