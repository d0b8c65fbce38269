"""Benchmark tables: per-basin scores gathered, and medians over basins."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

PROBE_KEYS = ["seed", "model", "probe", "control", "target"]
PROBE_SCORE_COLUMNS = PROBE_KEYS + ["basin", "r", "r2", "nse"]
PROBE_SUMMARY_COLUMNS = PROBE_KEYS + ["n_basins", "median_r", "median_r2", "median_nse"]


def gather_probe_scores(paths: Iterable[str]) -> pd.DataFrame:
    """Concatenate the per-job probe score files into one table, sorted by its keys."""
    frames = [pd.read_csv(p) for p in paths]
    scores = pd.concat(frames, ignore_index=True)[PROBE_SCORE_COLUMNS]
    return scores.sort_values(PROBE_KEYS + ["basin"], ignore_index=True)


def summarise_probe_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Median r, r² and NSE over basins for each (seed, model, probe, control, target).

    Basins whose r is not finite (no test data, or a target with no variance) are left out of
    the medians, and `n_basins` counts the basins that entered them.
    """
    summary = (
        scores.groupby(PROBE_KEYS, sort=True)
        .agg(
            n_basins=("r", "count"),  # count() skips NaN, as median() does
            median_r=("r", "median"),
            median_r2=("r2", "median"),
            median_nse=("nse", "median"),
        )
        .reset_index()
    )
    return summary[PROBE_SUMMARY_COLUMNS]
