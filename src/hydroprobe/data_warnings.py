"""Problems in the input data that a run goes on with, said out loud and carried to the tables.

A gap that does not stop a run (a basin without discharge in the training period, a year missing
from an ERA5-Land folder) is logged as a warning naming the basin or variable, and recorded in
the ``data_warnings`` attribute of the dataset the job writes. The attribute travels with the
data down the DAG (ERA5-Land basin series -> basin dataset), and the report stage turns the
basin dataset's list into ``results/tables/data_warnings.csv``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

import pandas as pd
import xarray as xr

ATTRIBUTE = "data_warnings"
COLUMNS = ["stage", "subject", "message"]

log = logging.getLogger("hydroprobe")


@dataclass(frozen=True)
class DataWarning:
    stage: str  # the step that noticed it, e.g. "aggregate_era5_land"
    subject: str  # the basin, variable or file it concerns, e.g. "basin 39001", "swvl1"
    message: str  # one line: what is missing and what the run does about it


def warn(found: list[DataWarning], stage: str, subject: str, message: str) -> DataWarning:
    """Log one data warning and append it to ``found``."""
    warning = DataWarning(stage, subject, message)
    log.warning("%s: %s", subject, message)
    found.append(warning)
    return warning


def read(ds: xr.Dataset) -> list[DataWarning]:
    """The warnings recorded on ``ds`` (none when the attribute is absent)."""
    return [DataWarning(**item) for item in json.loads(ds.attrs.get(ATTRIBUTE, "[]"))]


def attach(ds: xr.Dataset, *warning_lists: list[DataWarning]) -> xr.Dataset:
    """``ds`` with the given warnings added to those it already carries (duplicates dropped)."""
    merged = read(ds)
    for warnings in warning_lists:
        merged += [w for w in warnings if w not in merged]
    ds = ds.copy()
    ds.attrs[ATTRIBUTE] = json.dumps([asdict(w) for w in merged])
    return ds


def table(ds: xr.Dataset) -> pd.DataFrame:
    """The warnings of ``ds`` as a table with columns stage, subject, message."""
    return pd.DataFrame([asdict(w) for w in read(ds)], columns=COLUMNS)
