"""Checks shared by the readers of tabular sources (CAMELS-GB, Caravan)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hydroprobe.errors import InputDataError

# DataFrame.attrs key of a merged attribute table: column -> {"file": path, "basins": set of ids}
SOURCE_FILES = "source_files"


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
        pass
    for column in df.columns:
        values = df[column]
        wrong = pd.to_numeric(values, errors="coerce").isna() & values.notna()
        if wrong.any():
            row = int(np.flatnonzero(wrong.to_numpy())[0])
            line = f" (line {row + 2})" if str(path).endswith(".csv") else ""
            raise InputDataError(
                f"{path}: non-numeric value {values.iloc[row]!r} in column {column} "
                f"at {_row_label(df.index[row])}{line}"
            )
    raise InputDataError(f"{path}: a column is not numeric")  # pragma: no cover (astype failed above)


def _row_label(label) -> str:
    return f"{label:%Y-%m-%d}" if isinstance(label, pd.Timestamp) else str(label)


def daily_dates(values: pd.Series, path) -> pd.DatetimeIndex:
    """`values` (``YYYY-MM-DD`` strings of a csv's date column) as dates, strictly increasing.

    A date that does not parse, one that repeats or one out of order is an error naming the file,
    the date and its line (a repeated day would otherwise be trained on twice, and fail only
    later, in a job that names no file).
    """
    dates = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputDataError(f"{path}: date {values.iloc[row]!r} on line {row + 2} is not YYYY-MM-DD")
    index = pd.DatetimeIndex(dates, name="date")
    step = np.diff(index.asi8)
    if (step <= 0).any():
        row = int(np.flatnonzero(step <= 0)[0]) + 1
        if step[row - 1] == 0:
            raise InputDataError(
                f"{path}: date {index[row]:%Y-%m-%d} appears more than once (lines {row + 1} and {row + 2})"
            )
        raise InputDataError(
            f"{path}: dates out of order: {index[row]:%Y-%m-%d} on line {row + 2} follows "
            f"{index[row - 1]:%Y-%m-%d}"
        )
    return index


def static_arrays(attrs: pd.DataFrame, basins: list, columns: list[str], where: str) -> dict[str, np.ndarray]:
    """Column -> float32 array over `basins` from an attribute table indexed by basin.

    A basin missing from the table, a non-numeric column or a NaN value is an error naming
    the basin or column and `where` the table came from. A table merged from several files
    may say which file each column came from and which basins each file lists
    (``attrs.attrs[SOURCE_FILES]``, as `column_sources` builds it): then a basin a file lacks
    is named as missing from that file, rather than as a NaN value.
    """
    sources = attrs.attrs.get(SOURCE_FILES, {})
    for b in basins:
        if b not in attrs.index:
            first = sources.get(columns[0], {}).get("file") if columns else None
            raise InputDataError(f"basin {b} missing from {first or 'the ' + where}")
    out = {}
    for col in columns:
        try:
            values = attrs.loc[basins, col].astype("float64").to_numpy()
        except (ValueError, TypeError):
            raise InputDataError(f"static attribute {col!r} is not numeric ({where})") from None
        nan = np.flatnonzero(~np.isfinite(values))
        if nan.size:
            basin = basins[nan[0]]
            source = sources.get(col)
            if source is None:
                raise InputDataError(f"basin {basin}: static attribute {col!r} is NaN ({where})")
            if basin not in source["basins"]:
                raise InputDataError(
                    f"basin {basin} missing from {source['file']} (static attribute {col!r})"
                )
            raise InputDataError(f"basin {basin}: static attribute {col!r} is NaN in {source['file']}")
        out[col] = values.astype(np.float32)
    return out


def column_sources(tables: dict) -> dict:
    """``SOURCE_FILES`` of a table merged from `tables` (path -> DataFrame indexed by basin), each
    column taken from the first table that has it."""
    sources: dict = {}
    for path, table in tables.items():
        for col in table.columns:
            sources.setdefault(col, {"file": str(path), "basins": set(table.index)})
    return sources
