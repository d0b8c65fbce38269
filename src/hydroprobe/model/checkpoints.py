"""Checkpoint files of ``train_lstm``, each written so that a half-written one never looks complete.

The trained and untrained models (contract §3): ``torch.save`` dicts ``{state_dict,
model_config, normalisation, seed}``; ``untrained.pt`` holds the initial weights of the same seed.
They hold tensors and plain values only (dicts, lists, str, numbers, bool; the normalisation as
``Normalisation.to_dict()``), so they are read with ``weights_only=True``: no class is unpickled,
and loading never depends on where a class of this package lives.

Per-epoch resume checkpoints: after every epoch the full training state (model, optimizer,
epoch, the shuffling generator's state, the global torch/numpy/python RNG states, history) is
written to ``<trained_path>.resume/epoch_NNN.pt``; only the latest is kept. A restarted
``train_lstm`` with the same fingerprint (configuration, seed, data) continues from it and, on
CPU, ends with weights bit-identical to an uninterrupted run. The directory is removed once the
trained model is written.

Kept epochs (config ``training.keep_epochs``): the weights after each listed epoch, in the same
layout as ``trained.pt`` so they load like any model. Epoch 0 is the initial weights
(``untrained.pt``) and the last epoch the trained model (``trained.pt``); only the epochs in
between get files of their own, ``epoch{N}.pt`` beside them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from hydroprobe.errors import InputDataError
from hydroprobe.io import atomic_output

RESUME_FORMAT = 1
_EPOCH_FILE = re.compile(r"^epoch_(\d+)\.pt$")


def resume_dir(trained_path: str | os.PathLike) -> Path:
    """``<trained_path>.resume`` — beside the trained model, so each seed has its own."""
    p = Path(trained_path)
    return p.with_name(p.name + ".resume")


def fingerprint(**parts) -> str:
    """A stable sha256 over JSON-serialisable parts (dict keys sorted, odd values as str)."""

    def plain(o):
        if isinstance(o, dict):
            return {str(k): plain(v) for k, v in sorted(o.items(), key=lambda kv: str(kv[0]))}
        if isinstance(o, (list, tuple)):
            return [plain(v) for v in o]
        if isinstance(o, (np.integer,)):
            return int(o)
        if isinstance(o, (np.floating,)):
            return float(o)
        if o is None or isinstance(o, (bool, int, float, str)):
            return o
        return str(o)

    blob = json.dumps(plain(parts), sort_keys=True, allow_nan=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _torch_save_atomic(obj: dict, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary sibling, flushed to disk, then moved into place.

    The checkpoint is serialised in memory and written in one call (checkpoints are small): a
    full disk then surfaces as its own ``OSError``, which ``atomic_output`` turns into one line
    naming the file, rather than as torch's zip writer failing on the truncated file after it."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        fh.write(buffer.getbuffer())
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def save_checkpoint(obj: dict, path: str | os.PathLike) -> Path:
    """Write a trained or untrained model's checkpoint dict to ``path``; returns the path."""
    return _torch_save_atomic(obj, path)


CHECKPOINT_KEYS = ("state_dict", "model_config", "normalisation", "seed")


def load_checkpoint(path: str | os.PathLike) -> dict:
    """A trained or untrained model's checkpoint dict, on the CPU; tensors and plain values only."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise InputDataError(f"checkpoint {path} not found") from exc
    except pickle.UnpicklingError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputDataError(
            f"checkpoint {path} holds more than tensors and plain values, so it is not read: {first_line}"
        ) from exc
    missing = [key for key in CHECKPOINT_KEYS if key not in ckpt]
    if missing:
        raise InputDataError(f"checkpoint {path} lacks {', '.join(repr(k) for k in missing)}")
    return ckpt


def kept_epoch_file(model_dir: str | os.PathLike, epoch: int, epochs: int) -> Path:
    """The checkpoint of a seed's model after ``epoch`` of ``epochs`` in ``model_dir``: 0 is
    ``untrained.pt``, ``epochs`` is ``trained.pt``, any other ``epoch{epoch}.pt``."""
    names = {0: "untrained.pt", int(epochs): "trained.pt"}
    return Path(model_dir) / names.get(int(epoch), f"epoch{int(epoch)}.pt")


def intermediate_epochs(keep_epochs, epochs: int) -> list[int]:
    """The kept epochs that get a file of their own (neither 0 nor the last), sorted; an epoch
    past ``epochs`` is a one-line error naming the config key."""
    keep = sorted({int(e) for e in keep_epochs})
    past = [e for e in keep if e > int(epochs) or e < 0]
    if past:
        raise InputDataError(
            f"config key 'training.keep_epochs': epoch {past[0]} is outside 0…training.epochs ({epochs})"
        )
    return [e for e in keep if 0 < e < int(epochs)]


def rng_states(generator: torch.Generator) -> dict:
    states = {
        "shuffle": generator.get_state(),
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict, generator: torch.Generator) -> None:
    generator.set_state(states["shuffle"])
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    cuda = states.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _epoch_files(directory: Path) -> list[tuple[int, Path]]:
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = _EPOCH_FILE.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found)


def save_epoch(directory: Path, epoch: int, state: dict) -> Path:
    """Write ``epoch_NNN.pt`` atomically, then remove older epochs (the latest is kept)."""
    path = directory / f"epoch_{epoch:03d}.pt"
    _torch_save_atomic({"format": RESUME_FORMAT, "epoch": int(epoch), **state}, path)
    for e, p in _epoch_files(directory):
        if e < epoch:
            p.unlink(missing_ok=True)
    return path


def load_latest(directory: Path, expected_fingerprint: str, log: Callable[[str], None]) -> dict | None:
    """The newest readable checkpoint with a matching fingerprint, else None (with a log line)."""
    for _epoch, path in reversed(_epoch_files(directory)):
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # truncated/corrupt file: try an older one
            log(f"ignoring unreadable resume checkpoint {path}: {exc}")
            continue
        if state.get("format") != RESUME_FORMAT or state.get("fingerprint") != expected_fingerprint:
            log(f"ignoring resume checkpoint {path}: written for a different configuration, seed or data")
            return None
        return state
    return None


def clear(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
