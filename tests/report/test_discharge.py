"""Discharge evaluation per basin and period, the seed ensemble, and the summary medians."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydroprobe.metrics import fhv, nse
from hydroprobe.report.discharge import discharge_scores, discharge_summary, ensemble_mean

TIME = pd.date_range("2000-01-01", periods=8, freq="D")
OBS = np.array([[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 4.0, 8.0, 2.0, np.nan, 4.0, 8.0]])


def as_array(values):
    return xr.DataArray(values, dims=("basin", "time"), coords={"basin": [11, 12], "time": TIME})


def test_scores_per_basin_and_period_skip_gaps():
    sim = as_array(OBS * 1.1)
    sim[1, 0] = np.nan  # an incomplete input window
    periods = {"validation": ("2000-01-01", "2000-01-04"), "test": ("2000-01-05", "2000-01-08")}
    scores = discharge_scores(as_array(OBS), sim.transpose("time", "basin"), periods)
    assert scores[["period", "basin"]].values.tolist() == [
        ["validation", 11],
        ["validation", 12],
        ["test", 11],
        ["test", 12],
    ]
    row = scores.set_index(["period", "basin"]).loc[("validation", 12)]
    # days 2-4 only (day 1 has no simulation): obs 2, 4, 8; sim 10 % higher everywhere
    assert row["pbias"] == pytest.approx(10.0)
    assert row["nse"] == pytest.approx(nse([2.0, 4.0, 8.0], [2.2, 4.4, 8.8]))
    assert row["r"] == pytest.approx(1.0)
    test_12 = scores.set_index(["period", "basin"]).loc[("test", 12)]
    assert test_12["fhv"] == pytest.approx(fhv([2.0, 4.0, 8.0], [2.2, 4.4, 8.8]), nan_ok=True)


def test_period_outside_the_simulation_gives_nan_not_an_error():
    scores = discharge_scores(as_array(OBS), as_array(OBS), {"validation": ("1990-01-01", "1990-12-31")})
    assert len(scores) == 2 and scores["nse"].isna().all()


def test_ensemble_mean_averages_members_and_keeps_gaps():
    a = as_array(np.ones((2, 8)))
    b = as_array(np.full((2, 8), 3.0))
    b[0, 2] = np.nan
    mean = ensemble_mean([a, b.isel(time=slice(1, None))])
    assert mean.sizes["time"] == 7  # only the days both members simulated
    assert float(mean.sel(basin=11, time=TIME[3])) == 2.0
    assert np.isnan(float(mean.sel(basin=11, time=TIME[2])))
    with pytest.raises(ValueError):
        ensemble_mean([])


def test_summary_medians_per_seed_and_period():
    scores = pd.DataFrame(
        {
            "seed": ["1", "1", "1", "ensemble", "ensemble", "ensemble"],
            "period": ["test"] * 6,
            "basin": [1, 2, 3] * 2,
            "nse": [0.5, np.nan, 0.9, 0.6, 0.7, 0.8],
            "kge": 0.0,
            "r": 0.0,
            "pbias": [1.0, 2.0, 30.0, 0, 0, 0],
            "fhv": 0.0,
            "fms": 0.0,
            "flv": 0.0,
        }
    )
    summary = discharge_summary(scores).set_index("seed")
    assert summary.loc["1", "median_nse"] == pytest.approx(0.7)
    assert summary.loc["1", "n_basins"] == 2
    assert summary.loc["1", "median_pbias"] == pytest.approx(2.0)
    assert summary.loc["ensemble", "median_nse"] == pytest.approx(0.7)
    assert list(summary.index) == ["1", "ensemble"]
