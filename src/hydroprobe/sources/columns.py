"""Checks shared by the readers of tabular sources (CAMELS-GB, Caravan)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hydroprobe.errors import InputDataError


def numeric_columns(df: pd.DataFrame, path, columns=None) -> pd.DataFrame:
    """`df` restricted to `columns` (all when None) as float64; errors name the file and column."""
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise InputDataError(f"{path}: missing column(s) {', '.join(missing)}")
        df = df[list(columns)]
    try:
        return df.astype("float64")
    except (ValueError, TypeError):
        bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
        raise InputDataError(f"{path}: non-numeric value in column(s) {', '.join(bad)}") from None


def static_arrays(attrs: pd.DataFrame, basins: list, columns: list[str], where: str) -> dict[str, np.ndarray]:
    """Column -> float32 array over `basins` from an attribute table indexed by basin.

    A basin missing from the table, a non-numeric column or a NaN value is an error naming
    the basin or column and `where` the table came from.
    """
    for b in basins:
        if b not in attrs.index:
            raise InputDataError(f"basin {b}: missing from the {where}")
    out = {}
    for col in columns:
        try:
            values = attrs.loc[basins, col].astype("float64").to_numpy()
        except (ValueError, TypeError):
            raise InputDataError(f"static attribute {col!r} is not numeric ({where})") from None
        nan = np.flatnonzero(~np.isfinite(values))
        if nan.size:
            raise InputDataError(f"basin {basins[nan[0]]}: static attribute {col!r} is NaN")
        out[col] = values.astype(np.float32)
    return out
