"""Inclusive date periods."""

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.periods import in_periods, period_slice

TIMES = pd.date_range("2000-01-01", periods=10, freq="D")


def test_in_periods_includes_both_ends_and_unions_periods():
    mask = in_periods(TIMES, [("2000-01-02", "2000-01-03"), ("2000-01-09", "2000-02-01")])
    assert np.flatnonzero(mask).tolist() == [1, 2, 8, 9]
    assert not in_periods(TIMES, []).any()


def test_period_slice_selects_inclusive_labels():
    da = xr.DataArray(np.arange(10), dims="time", coords={"time": TIMES})
    assert da.sel(time=period_slice(("2000-01-03", "2000-01-05"))).values.tolist() == [2, 3, 4]
