"""Date periods: inclusive (start, end) pairs of ISO dates, as the config's `periods` gives them.

Torch-free on purpose: the probe jobs import it and must start fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def period_slice(period) -> slice:
    """A label slice for ``.sel(time=...)``; both ends included, as xarray's label slices are."""
    start, end = period
    return slice(pd.Timestamp(start), pd.Timestamp(end))


def in_periods(times, periods) -> np.ndarray:
    """(time,) bool: which of ``times`` lie inside any of the inclusive ``periods``."""
    times = pd.DatetimeIndex(times)
    keep = np.zeros(len(times), dtype=bool)
    for start, end in periods:
        keep |= np.asarray((times >= pd.Timestamp(start)) & (times <= pd.Timestamp(end)))
    return keep
