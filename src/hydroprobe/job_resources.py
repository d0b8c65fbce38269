"""Memory and time a job asks of a scheduler, sized from the run's config (the rules' resources).

The sizes were measured on the default run (13 basins) and scale with what a job holds:
- the basin dataset and everything built from it: basins x days of the source record (the
  CAMELS-GB record, 1970-10-01...2015-09-30, or Caravan's, 1951...2023: longer than any periods);
- the cell-state stores and what reads them: basins x days of the periods x state width;
- training time: windows drawn x epochs; extraction time: windows (basins x period days).
Throughputs are those of a modest GPU with a wide margin, so a job is not killed by its runtime
on the first try (training also resumes from its per-epoch checkpoint on a retry).

Torch-free: the Snakefile imports it at parse time.
"""

from __future__ import annotations

import math

import pandas as pd

# A null basin list is every basin of the source: CAMELS-GB has 671 (a larger Caravan
# subdataset needs a basin list or --set-resources).
ALL_BASINS = 671
RECORD_DAYS = {"caravan": 26_663}  # 1951-01-01...2023-12-31
CAMELS_GB_RECORD_DAYS = 16_436  # 1970-10-01...2015-09-30
MEMORY_MARGIN = 1.5
MEMORY_STEP_MB = 1000  # requests rounded up to whole GB
# Jobs that read the state stores block by block (probes, state analysis, the series figures, the
# epoch and size read-outs): their peak does not grow with basins or days (0.5-0.6 GB measured at
# 200 basins x 16,000 days, benchmarks/probe_job_memory.py), so they ask a constant.
STREAMED_JOB_MB = 2000
# Extraction holds a group of basins' inputs (64 MB) and states (at most 256 MB in the continuous
# mode) whatever the run's size: 1.1 GB measured on a CPU at the paper's size; a GPU's host-side
# libraries add 1-2 GB.
EXTRACTION_MB = 4000
# The mlp and sgd_elasticnet probes hold their training rows: ~20 bytes a value (rows x features)
# while fitting, measured as 4.1 GB for 800,000 rows of 256 features (sgd_elasticnet on the
# inputs_all lags, benchmarks/probe_job_memory.py --job inputs --probe sgd_elasticnet).
ROW_PROBE_BYTES_PER_VALUE = 20
PROBE_FIXED_MB = 400  # the interpreter, numpy, xarray, scikit-learn
TRAIN_SAMPLES_PER_S = 5_000  # seq 365, hidden 64, fwd + bwd + Adam on one GPU (CPU: ~1300 on 2 cores)
EXTRACT_WINDOWS_PER_S = 20_000  # forward only, inference mode
RUNTIME_MARGIN = 2.0
MIN_RUNTIME_MIN = 30


def basin_count(config: dict) -> int:
    basins = config.get("basins")
    return len(basins) if basins else ALL_BASINS


def record_days(config: dict) -> int:
    """Days of the basin dataset: the source's whole record (it is written in full)."""
    return max(RECORD_DAYS.get(config["source"], CAMELS_GB_RECORD_DAYS), period_days(config))


def period_days(config: dict) -> int:
    """Days from the earliest period start, less one sequence of warm-up, to the latest end: the
    days a cell-state store holds (and a window reaches back into)."""
    periods = config["periods"].values()
    first = min(pd.Timestamp(start) for start, _ in periods)
    last = max(pd.Timestamp(end) for _, end in periods)
    return (last - first).days + 1 + config["model"]["seq_length"]


def mem_mb(config: dict, fixed_mb: int, bytes_per_basin_day: float = 0, per: str = "record") -> int:
    """``fixed_mb`` (the interpreter, its libraries) plus ``bytes_per_basin_day`` for every basin
    and day of the record (``per="record"``) or of the periods (``per="periods"``), with a margin,
    rounded up to a whole GB."""
    days = record_days(config) if per == "record" else period_days(config)
    needed = (fixed_mb + basin_count(config) * days * bytes_per_basin_day / 2**20) * MEMORY_MARGIN
    return math.ceil(needed / MEMORY_STEP_MB) * MEMORY_STEP_MB


def probe_job_mb(config: dict) -> int:
    """A probe job's memory request: the streamed constant, or more when the mlp / sgd_elasticnet
    probes' training rows (at most probes.max_train_values values) need more."""
    from hydroprobe.probes.fit import ROW_ESTIMATORS  # the kinds that hold their rows

    probes = config["probes"]
    if not set(probes["kinds"]) & set(ROW_ESTIMATORS):
        return STREAMED_JOB_MB
    needed = PROBE_FIXED_MB + probes["max_train_values"] * ROW_PROBE_BYTES_PER_VALUE / 2**20
    return max(STREAMED_JOB_MB, math.ceil(needed / MEMORY_STEP_MB) * MEMORY_STEP_MB)


def _minutes(seconds: float, fixed_min: int) -> int:
    return max(MIN_RUNTIME_MIN, math.ceil(fixed_min + seconds * RUNTIME_MARGIN / 60))


def training_runtime_min(config: dict) -> int:
    """Minutes for all epochs: the windows drawn per epoch (every valid training day of every basin
    unless samples_per_epoch caps it), at the GPU throughput, plus the validation passes."""
    training = config["training"]
    train_start, train_end = (pd.Timestamp(day) for day in config["periods"]["train"])
    every_window = basin_count(config) * ((train_end - train_start).days + 1)
    per_epoch = min(training["samples_per_epoch"] or every_window, every_window)
    validation_start, validation_end = (pd.Timestamp(day) for day in config["periods"]["validation"])
    validation = basin_count(config) * ((validation_end - validation_start).days + 1)
    seconds = training["epochs"] * (per_epoch / TRAIN_SAMPLES_PER_S + validation / EXTRACT_WINDOWS_PER_S)
    return _minutes(seconds, fixed_min=10)


def extraction_runtime_min(config: dict) -> int:
    """Minutes to run every basin's window of every period day through the LSTM once."""
    windows = basin_count(config) * period_days(config)
    return _minutes(windows / EXTRACT_WINDOWS_PER_S, fixed_min=10)
