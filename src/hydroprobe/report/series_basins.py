"""Which basins the time-series figures draw, and the file-name slot of each.

The slots are known when the workflow's DAG is built (from the config alone): `best`, `median`
and `worst` when no basins are configured, `basin<id>` for each configured basin. The basins of
the first three follow from the probe scores, once they exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from hydroprobe.errors import InputDataError

RANKED_SLOTS = ("best", "median", "worst")


def series_slots(basins: Sequence[int | str] | None) -> list[str]:
    """The slots of the time-series figures: `best`, `median`, `worst` for `basins` None (config
    report.series_basins null), else `basin<id>` per configured basin, in the given order."""
    if basins is None:
        return list(RANKED_SLOTS)
    return [f"basin{basin}" for basin in basins]


def basin_median_r(scores: pd.DataFrame, job: Mapping[str, object]) -> pd.Series:
    """Per-basin median over the targets of the probe r of one job (`job` selects the rows of
    probe_scores.csv: seed, model, probe, control, features, subset); basins whose r is NaN for
    every target are left out. Indexed by basin, sorted by basin."""
    rows = np.ones(len(scores), dtype=bool)
    for key, value in job.items():
        rows &= scores[key].astype(str).to_numpy() == str(value)
    chosen = scores[rows]
    if chosen.empty:
        raise InputDataError(f"probe scores have no rows for {dict(job)}")
    return chosen.groupby("basin")["r"].median().dropna().sort_index()


def ranked_basins(median_r: pd.Series) -> dict[str, object]:
    """The basin of largest (`best`), middle (`median`) and smallest (`worst`) value of
    `median_r` (indexed by basin); ties go to the smaller basin id, and with an even count of
    basins `median` is the lower of the two middle ones."""
    if median_r.empty:
        raise InputDataError("no basin has a probe r to rank the time-series basins by")
    frame = pd.DataFrame({"basin": median_r.index, "r": median_r.to_numpy(dtype=float)})
    ascending = frame.sort_values(["r", "basin"], kind="mergesort")["basin"].tolist()
    descending = frame.sort_values(["r", "basin"], ascending=[False, True], kind="mergesort")["basin"]
    return {
        "best": descending.iloc[0],
        "median": ascending[(len(ascending) - 1) // 2],
        "worst": ascending[0],
    }


def series_basins(
    slots: Sequence[str], scores: pd.DataFrame, job: Mapping[str, object], available: Sequence
) -> dict[str, object]:
    """The basin of each slot (`series_slots`): ranked by `basin_median_r` of `job` for `best`,
    `median` and `worst`, the configured one for `basin<id>`. A basin is returned as the element
    of `available` (the basin coordinate of the data) whose text is the id."""
    by_text = {str(b): b for b in available}
    out = {}
    ranked = None
    for slot in slots:
        if slot in RANKED_SLOTS:
            if ranked is None:
                ranked = ranked_basins(basin_median_r(scores, job))
            basin = str(ranked[slot])
        elif slot.startswith("basin"):
            basin = slot.removeprefix("basin")
        else:
            raise InputDataError(f"time-series slot '{slot}' unknown; use best, median, worst or basin<id>")
        if basin not in by_text:
            raise InputDataError(f"time-series basin {basin} ({slot}) is not in the data")
        out[slot] = by_text[basin]
    return out
