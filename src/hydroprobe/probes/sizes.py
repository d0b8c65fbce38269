"""Does size matter: the pooled linear probe of every target and the discharge skill of one LSTM
of the hidden-size sweep (config model.hidden_size as a list), trained or untrained.

Each model is read out as one epoch of the epochs table is (`hydroprobe.probes.epochs.probe_checkpoint`:
continuous-mode states in a temporary store), so the headline size's trained and untrained rows
equal the epochs table's last and 0 epoch of the same seed.
"""

from __future__ import annotations

import os

import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.model.checkpoints import load_checkpoint
from hydroprobe.probes.epochs import EPOCH_STATES_MODE, probe_checkpoint

SIZE_COLUMNS = ["seed", "hidden_size", "model", "target", "median_r", "median_nse", "discharge_median_nse"]
SIZE_STATES_MODE = EPOCH_STATES_MODE
SWEPT_MODELS = ("trained", "untrained")  # the untrained one: the initial weights of the same size and seed


def probe_size(
    checkpoint_path: str | os.PathLike,
    dataset: xr.Dataset,
    *,
    hidden_size: int,
    model: str,
    **probing,
) -> pd.DataFrame:
    """`probe_checkpoint` of the `model` (trained or untrained) of `hidden_size` units, as rows of
    `SIZE_COLUMNS`; `probing` holds the other keywords of `probe_checkpoint` (seed, targets,
    periods, batch_windows, probe_settings, work_dir, threads). A checkpoint of another size is a
    one-line error naming it: its row would stand at the wrong size."""
    if model not in SWEPT_MODELS:
        raise ValueError(f"model {model!r}: the sweep probes {', '.join(SWEPT_MODELS)}")
    found = int(load_checkpoint(checkpoint_path)["model_config"]["hidden_size"])
    if found != int(hidden_size):
        raise InputDataError(
            f"checkpoint {checkpoint_path}: an LSTM of hidden size {found}, not {hidden_size} as its "
            "place in the hidden-size sweep says"
        )
    rows = probe_checkpoint(checkpoint_path, dataset, label=f"h{hidden_size}_{model}", **probing)
    return rows.assign(hidden_size=int(hidden_size), model=model)[SIZE_COLUMNS]
