"""Discharge skill of a model per basin, per evaluation period, and of the seed ensemble: the
scores and medians of the discharge tables (rules evaluate_discharge and discharge_table)."""

from __future__ import annotations

import pandas as pd
import xarray as xr

from hydroprobe.metrics import DISCHARGE_METRICS
from hydroprobe.periods import period_slice

DISCHARGE_SCORE_COLUMNS = ["period", "basin"] + list(DISCHARGE_METRICS)


def discharge_scores(
    observed: xr.DataArray, simulated: xr.DataArray, periods: dict[str, tuple[str, str]]
) -> pd.DataFrame:
    """Every metric of ``DISCHARGE_METRICS`` per basin and named period (inclusive dates);
    both arrays have dims basin and time.

    Days where either series is NaN (gaps in the gauge record, incomplete input windows) are
    skipped, basin by basin. A period outside the simulated days yields NaN scores, not an error.
    """
    rows = []
    for name, period in periods.items():
        sim = simulated.sel(time=period_slice(period)).transpose("basin", "time")
        obs = observed.sel(basin=sim["basin"], time=sim["time"]).transpose("basin", "time")
        for basin, o, s in zip(sim["basin"].values, obs.values, sim.values):
            rows.append(
                {
                    "period": name,
                    "basin": int(basin),
                    **{metric: fn(o, s) for metric, fn in DISCHARGE_METRICS.items()},
                }
            )
    return pd.DataFrame(rows, columns=DISCHARGE_SCORE_COLUMNS)


def ensemble_mean(simulations: list[xr.DataArray]) -> xr.DataArray:
    """The seed ensemble's simulation: the mean of the members day by day (a day missing in any
    member stays missing, so every member is scored on the same days)."""
    if not simulations:
        raise ValueError("ensemble_mean needs at least one simulation")
    aligned = xr.align(*simulations, join="inner")
    return xr.concat(aligned, dim="member").mean("member", skipna=False)


def discharge_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Medians over basins of every metric, per seed (``"ensemble"`` for the seed ensemble) and
    period; ``n_basins`` counts the basins with a finite NSE."""
    grouped = scores.groupby(["seed", "period"], sort=False)
    summary = grouped[list(DISCHARGE_METRICS)].median().add_prefix("median_")
    summary.insert(0, "n_basins", grouped["nse"].count())
    return summary.reset_index()
