"""Discharge skill of a model per basin."""

from __future__ import annotations

import pandas as pd
import xarray as xr

from hydroprobe.metrics import kge, nse


def discharge_scores(observed: xr.DataArray, simulated: xr.DataArray, period: tuple[str, str]) -> pd.DataFrame:
    """NSE and KGE per basin over `period` (inclusive); both arrays have dims basin and time.

    Days where either series is NaN (gaps in the gauge record, incomplete input windows) are
    skipped, basin by basin.
    """
    window = slice(pd.Timestamp(period[0]), pd.Timestamp(period[1]))
    sim = simulated.sel(time=window).transpose("basin", "time")
    obs = observed.sel(basin=sim["basin"], time=sim["time"]).transpose("basin", "time")
    rows = [
        {"basin": int(basin), "nse": nse(o, s), "kge": kge(o, s)}
        for basin, o, s in zip(sim["basin"].values, obs.values, sim.values)
    ]
    return pd.DataFrame(rows, columns=["basin", "nse", "kge"])
