"""Inclusive date periods."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydroprobe.config import ConfigError
from hydroprobe.periods import check_within, in_periods, overlap, period_slice

TIMES = pd.date_range("2000-01-01", periods=10, freq="D")


def test_in_periods_includes_both_ends_and_unions_periods():
    mask = in_periods(TIMES, [("2000-01-02", "2000-01-03"), ("2000-01-09", "2000-02-01")])
    assert np.flatnonzero(mask).tolist() == [1, 2, 8, 9]
    assert not in_periods(TIMES, []).any()


def test_period_slice_selects_inclusive_labels():
    da = xr.DataArray(np.arange(10), dims="time", coords={"time": TIMES})
    assert da.sel(time=period_slice(("2000-01-03", "2000-01-05"))).values.tolist() == [2, 3, 4]


def test_overlap_is_the_part_inside_or_none():
    assert overlap(("1990-01-01", "1999-12-31"), "1995-06-01", "2005-01-01") == (
        pd.Timestamp("1995-06-01"),
        pd.Timestamp("1999-12-31"),
    )
    assert overlap(("1990-01-01", "1990-12-31"), "1991-01-01", "2005-01-01") is None


def test_check_within_names_the_first_period_outside_the_data():
    periods = {"train": ("1991-01-01", "1993-12-31"), "test": ("1994-01-01", "1996-01-01")}
    check_within({"train": periods["train"]}, "1991-01-01", "1995-12-31", "data")  # both ends count
    with pytest.raises(ConfigError) as err:
        check_within(periods, "1990-01-01", "1995-12-31", "CAMELS-GB time series in /data")
    assert str(err.value) == (
        "config key 'periods.test': 1994-01-01…1996-01-01 is not inside the dates of the "
        "CAMELS-GB time series in /data (1990-01-01…1995-12-31)"
    )
