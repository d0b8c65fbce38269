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


def _day(value) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d}"


def overlap(period, first, last) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The part (start, end) of the inclusive ``period`` inside ``first``…``last``; None if none."""
    start = max(pd.Timestamp(period[0]), pd.Timestamp(first))
    end = min(pd.Timestamp(period[1]), pd.Timestamp(last))
    return (start, end) if start <= end else None


def check_within(periods: dict, first, last, data: str) -> None:
    """Stop on the first of ``periods`` (config name -> (start, end)) that is not wholly inside
    ``first``…``last``, the dates of ``data``, naming its config key, the period and those dates."""
    from hydroprobe.config import ConfigError  # here: the probe jobs import this module, not jsonschema

    for name, (start, end) in periods.items():
        if overlap((start, end), first, last) != (pd.Timestamp(start), pd.Timestamp(end)):
            raise ConfigError(
                f"config key 'periods.{name}': {_day(start)}…{_day(end)} is not inside the dates of "
                f"the {data} ({_day(first)}…{_day(last)})"
            )
