"""Reader for the CAMELS-GB v1 dataset (Coxon et al. 2020, EIDC doi:10.5285/8344e4f3-...).

Lees et al. (2022) drive their LSTM with CAMELS-GB daily catchment means (precipitation,
pet, temperature; mm/day and degC) and predict `discharge_spec` (mm/day). This module only
reads the files as published; it neither fills flow gaps (they stay NaN) nor converts units.

Accepted layouts (`camels_dir`):

* the official v1 zip: ``timeseries/`` + top-level ``CAMELS_GB_*_attributes.csv`` +
  ``CAMELS_GB_catchment_boundaries/CAMELS_GB_catchment_boundaries.shp``;
* neuralhydrology's: attribute tables under ``attributes/``;
* Tommy Lees' copy: ``Catchment_Timeseries/`` and ``Catchment_Attributes/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from hydroprobe.errors import InputDataError
from hydroprobe.sources.columns import SOURCE_FILES, column_sources, daily_dates, numeric_columns

# The published v1 layout: the columns of every time-series file, the attribute table groups.
TIMESERIES_COLUMNS = [
    "date",
    "precipitation",
    "pet",
    "temperature",
    "discharge_spec",
    "discharge_vol",
    "peti",
    "humidity",
    "shortwave_rad",
    "longwave_rad",
    "windspeed",
]
ATTRIBUTE_GROUPS = [
    "topographic",
    "climatic",
    "hydrologic",
    "landcover",
    "soil",
    "hydrogeology",
    "hydrometry",
    "humaninfluence",
]
TIMESERIES_DIRS = ("timeseries", "Catchment_Timeseries")
ATTRIBUTE_DIRS = (".", "attributes", "Catchment_Attributes")
_TS_PATTERN = re.compile(r"^CAMELS_GB_hydromet_timeseries_(\d+)_\d{8}-\d{8}\.csv$")
_BOUNDARY_SHP = Path("CAMELS_GB_catchment_boundaries") / "CAMELS_GB_catchment_boundaries.shp"
# Words that identify British National Grid / OSGB36 in an ESRI or OGC WKT .prj file.
_BNG_MARKERS = ("british_national_grid", "british national grid", "osgb", "27700")


def _timeseries_files(camels_dir: Path) -> dict[int, Path]:
    files: dict[int, Path] = {}
    for name in TIMESERIES_DIRS:
        folder = camels_dir / name
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            match = _TS_PATTERN.match(path.name)
            if match:
                files.setdefault(int(match.group(1)), path)
    return files


def list_gauge_ids(camels_dir: str | os.PathLike) -> list[int]:
    """Sorted gauge ids (NRFA station numbers) that have a time-series file."""
    camels_dir = Path(camels_dir)
    files = _timeseries_files(camels_dir)
    if not files:
        raise InputDataError(
            f"no CAMELS_GB_hydromet_timeseries_*.csv found under {camels_dir}/timeseries "
            f"(or Catchment_Timeseries)"
        )
    return sorted(files)


def read_timeseries(
    camels_dir: str | os.PathLike, gauge_id: int, columns: list[str] | None = None
) -> pd.DataFrame:
    """Daily hydro-meteorological series of one catchment.

    Returns float64 columns on a DatetimeIndex named ``date`` (1970-10-01...2015-09-30 in v1).
    Missing flow is written ``NaN`` in the files and stays NaN here. A missing file or column,
    a non-numeric value (named with its column and date), or a date that does not parse,
    repeats or is out of order is an error naming the file.
    """
    camels_dir = Path(camels_dir)
    path = _timeseries_files(camels_dir).get(int(gauge_id))
    if path is None:
        raise InputDataError(
            f"basin {gauge_id}: no CAMELS_GB_hydromet_timeseries_{gauge_id}_*.csv under "
            f"{camels_dir}/timeseries"
        )
    try:
        df = pd.read_csv(path, na_values=["NaN"], dtype={"date": str})
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputDataError(f"{path}: cannot parse CAMELS-GB time series ({_first_line(err)})") from None
    if "date" not in df.columns:
        raise InputDataError(f"{path}: missing column date (has {', '.join(map(str, df.columns[:5]))}, ...)")
    df = df.set_index(daily_dates(df["date"], path)).drop(columns="date")
    return numeric_columns(df, path, columns)


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _attribute_files(camels_dir: Path) -> list[Path]:
    files: list[Path] = []
    for name in ATTRIBUTE_DIRS:
        folder = camels_dir / name
        if folder.is_dir():
            files.extend(sorted(folder.glob("CAMELS_GB_*_attributes.csv")))
    return files


def read_attributes(camels_dir: str | os.PathLike, columns: list[str] | None = None) -> pd.DataFrame:
    """All CAMELS-GB attribute tables merged on ``gauge_id`` (int index).

    Tables are outer-joined so a catchment missing from one table keeps its other attributes
    (NaN where absent); ``attrs[SOURCE_FILES]`` records which file each column came from and
    which basins it lists, so `hydroprobe.sources.columns.static_arrays` can name the file a
    basin is missing from. With ``columns``, only those are returned, in that order.
    """
    camels_dir = Path(camels_dir)
    files = _attribute_files(camels_dir)
    if not files:
        raise InputDataError(f"no CAMELS_GB_*_attributes.csv found in {camels_dir} or its attributes/")
    tables = {path: _attribute_table(path) for path in files}
    frames = list(tables.values())
    merged = frames[0]
    for df in frames[1:]:
        new = [c for c in df.columns if c not in merged.columns]
        merged = merged.join(df[new], how="outer")
    merged = merged.sort_index()
    merged.index.name = "gauge_id"
    if columns is not None:
        missing = [c for c in columns if c not in merged.columns]
        if missing:
            raise InputDataError(
                f"attribute column(s) {', '.join(missing)} not found in the CAMELS_GB_*_attributes.csv "
                f"files of {camels_dir}"
            )
        merged = merged[list(columns)]
    sources = column_sources(tables)
    merged.attrs[SOURCE_FILES] = {c: sources[c] for c in merged.columns}
    return merged


def _attribute_table(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, na_values=["NaN"])
    if "gauge_id" not in df.columns:
        raise InputDataError(f"{path}: no gauge_id column")
    ids = pd.to_numeric(df["gauge_id"], errors="coerce")
    if ids.isna().any() or (ids % 1 != 0).any():
        row = int(np.flatnonzero((ids.isna() | (ids % 1 != 0)).to_numpy())[0])
        raise InputDataError(
            f"{path}: gauge_id {df['gauge_id'].iloc[row]!r} on line {row + 2} is not a gauge id"
        )
    df["gauge_id"] = ids.astype("int64")
    if df["gauge_id"].duplicated().any():
        raise InputDataError(
            f"{path}: gauge_id {df['gauge_id'][df['gauge_id'].duplicated()].iloc[0]} appears twice"
        )
    return df.set_index("gauge_id")


def _boundary_shapefile(camels_dir: Path) -> Path:
    candidate = camels_dir / _BOUNDARY_SHP
    if candidate.is_file():
        return candidate
    top = sorted(camels_dir.glob("*.shp"))
    if top:
        return top[0]
    raise InputDataError(f"no catchment boundary shapefile: expected {candidate} or a .shp in {camels_dir}")


def read_boundaries(camels_dir: str | os.PathLike, gauge_ids: list[int] | None = None) -> dict:
    """Catchment polygons keyed by gauge id, as shapely geometries in EPSG:27700 (metres).

    The key is the ``ID_STRING`` field (the one Lees et al. rasterised on), else ``ID``.
    The ``.prj`` beside the shapefile must describe British National Grid (no reprojection is
    done here), and the ``.dbf`` must be there (it holds the ids).
    """
    import shapefile  # pyshp
    from shapely.geometry import shape

    path = _boundary_shapefile(Path(camels_dir))
    prj = path.with_suffix(".prj")
    if not prj.is_file():
        # without it the coordinates could be anything; polygons in another system would land
        # off the ERA5-Land grid with a message about the grid, not about this file
        raise InputDataError(
            f"{prj} is missing: the boundaries' projection (British National Grid) is unknown"
        )
    text = prj.read_text(errors="replace").lower()
    if not any(marker in text for marker in _BNG_MARKERS):
        raise InputDataError(f"{prj}: projection is not British National Grid (EPSG:27700)")
    if not path.with_suffix(".dbf").is_file():
        raise InputDataError(f"{path.with_suffix('.dbf')} is missing: it holds the gauge ids of the polygons")
    try:
        reader = shapefile.Reader(str(path))
    except shapefile.ShapefileException as err:
        raise InputDataError(f"{path}: cannot read shapefile ({err})") from None
    with reader:
        fields = [f[0] for f in reader.fields[1:]]
        key = next((k for k in ("ID_STRING", "ID") if k in fields), None)
        if key is None:
            raise InputDataError(f"{path}: no ID_STRING or ID field")
        boundaries: dict[int, object] = {}
        for rec in reader.iterShapeRecords():
            raw = rec.record[key]
            try:
                gid = int(float(str(raw).strip()))
            except ValueError:
                raise InputDataError(f"{path}: {key} value {raw!r} is not a gauge id") from None
            geom = shape(rec.shape.__geo_interface__)
            if not geom.is_valid:
                geom = geom.buffer(0)
            boundaries[gid] = geom
    if gauge_ids is None:
        return dict(sorted(boundaries.items()))
    missing = [int(g) for g in gauge_ids if int(g) not in boundaries]
    if missing:
        raise InputDataError(f"{path}: no polygon for basin(s) {', '.join(map(str, missing))}")
    return {int(g): boundaries[int(g)] for g in gauge_ids}
