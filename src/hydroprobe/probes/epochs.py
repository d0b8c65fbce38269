"""When do the concepts form: the pooled linear probe of every target and the discharge skill
of one seed's LSTM after one kept epoch of training (config training.keep_epochs). The same
read-out of one model (`probe_checkpoint`) serves the hidden-size sweep (`hydroprobe.probes.sizes`).

The states are read out in the continuous mode (one pass per basin, state carried over;
``hydroprobe.states.extract``), seq_length times cheaper than the paper's window mode, into a
temporary store that is removed once the probes are fitted: only the table row survives.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import xarray as xr

from hydroprobe.io import open_zarr
from hydroprobe.model.checkpoints import intermediate_epochs
from hydroprobe.probes.grid import NO_CONTROL
from hydroprobe.probes.job import run_probe_jobs
from hydroprobe.report.discharge import discharge_scores
from hydroprobe.states.extract import extract_cell_states

# one model's row per target; the epoch and size tables add the columns that name the model
CHECKPOINT_COLUMNS = ["seed", "target", "median_r", "median_nse", "discharge_median_nse"]
EPOCH_COLUMNS = ["seed", "epoch", "target", "median_r", "median_nse", "discharge_median_nse"]
EPOCH_STATES_MODE = "continuous"


def probed_epochs(keep_epochs, epochs: int) -> list[int]:
    """The epochs probed when ``training.keep_epochs`` is set: 0 (untrained), the kept ones and
    the last (trained); none when it is empty, so the default run has no epoch job."""
    if not keep_epochs:
        return []
    return [0, *intermediate_epochs(keep_epochs, epochs), int(epochs)]


def ok_median(scores: pd.DataFrame, column: str) -> float:
    """The median over the basins of subset `all` with status ok (as in the probe summary)."""
    ok = scores["subset"].eq("all") & scores["status"].eq("ok") & scores[column].notna()
    return float(scores.loc[ok, column].median())


def checkpoint_scores(
    dataset: xr.Dataset,
    states: xr.Dataset,
    *,
    seed: int,
    label: str,
    targets: Sequence[str],
    validation_period,
    probe_settings: dict,
) -> pd.DataFrame:
    """One row per target (columns `CHECKPOINT_COLUMNS`): the linear probe of the cell state of one
    model (`label` names it in the probe jobs) fitted on the train period, median r and NSE over
    basins on the test period; the discharge simulation's median NSE on the validation period
    (the same for every target)."""
    jobs = [
        dict(seed=seed, model=label, features="cell", probe="linear", control=NO_CONTROL, target=t)
        for t in targets
    ]
    scored = run_probe_jobs(dataset, states, jobs, **probe_settings)
    target = next(name[: -len("_sim")] for name in states.data_vars if name.endswith("_sim"))
    discharge = discharge_scores(dataset[target], states[f"{target}_sim"], {"validation": validation_period})
    discharge_nse = float(discharge["nse"].median())
    rows = [
        {
            "seed": int(seed),
            "target": job["target"],
            "median_r": ok_median(scores, "r"),
            "median_nse": ok_median(scores, "nse"),
            "discharge_median_nse": discharge_nse,
        }
        for job, scores in zip(jobs, scored)
    ]
    return pd.DataFrame(rows, columns=CHECKPOINT_COLUMNS)


def probe_checkpoint(
    checkpoint_path: str | os.PathLike,
    dataset: xr.Dataset,
    *,
    seed: int,
    label: str,
    targets: Sequence[str],
    periods: dict,
    batch_windows: int,
    probe_settings: dict,
    work_dir: str | os.PathLike,
    threads: int | None = None,
) -> pd.DataFrame:
    """`checkpoint_scores` of the model in `checkpoint_path`, its states extracted (continuous mode)
    on the train, validation and test `periods` into a temporary folder under `work_dir`.
    `probe_settings` are the keywords of `run_probe_jobs` (rules/common.smk `probe_params`)."""
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix=f"seed{seed}_{label}.") as tmp:
        store = extract_cell_states(
            checkpoint_path,
            dataset,
            periods=[periods[name] for name in ("train", "validation", "test")],
            out_path=Path(tmp) / "states.zarr",
            batch_windows=batch_windows,
            threads=threads,
            mode=EPOCH_STATES_MODE,
        )
        # scored while the store exists: the probes read it block by block, never whole
        return checkpoint_scores(
            dataset,
            open_zarr(store),
            seed=seed,
            label=label,
            targets=targets,
            validation_period=periods["validation"],
            probe_settings=probe_settings,
        )


def probe_epoch(
    checkpoint_path: str | os.PathLike, dataset: xr.Dataset, *, epoch: int, **probing
) -> pd.DataFrame:
    """`probe_checkpoint` of one seed's model after `epoch` (its checkpoint in `checkpoint_path`),
    as rows of `EPOCH_COLUMNS`; `probing` holds the other keywords of `probe_checkpoint`."""
    rows = probe_checkpoint(checkpoint_path, dataset, label=f"epoch{epoch}", **probing)
    return rows.assign(epoch=int(epoch))[EPOCH_COLUMNS]
