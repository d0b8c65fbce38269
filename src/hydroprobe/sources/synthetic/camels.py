"""Writers for the CAMELS-GB v1 folder layout: time series CSVs, attribute tables, boundaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapefile
from pyproj import CRS
from pyproj.enums import WktVersion

from hydroprobe.io import atomic_output, write_csv_atomic
from hydroprobe.sources.camels_gb import ATTRIBUTE_GROUPS, TIMESERIES_COLUMNS

from .catchments import Catchment, to_bng


def timeseries_path(camels_dir: Path, gauge_id: int) -> Path:
    return camels_dir / "timeseries" / f"CAMELS_GB_hydromet_timeseries_{gauge_id}_19701001-20150930.csv"


def write_timeseries(camels_dir: Path, gauge_id: int, df: pd.DataFrame) -> Path:
    """One basin's daily series, the 11 CAMELS-GB columns in order, values to 3 decimals; missing
    flow as NaN.

    The bytes pandas' ``to_csv(float_format="%.3f", na_rep="NaN")`` writes, one ``%`` per line
    rather than per value: 670 basins x 45 years take seconds instead of ten minutes.
    """
    dates = pd.DatetimeIndex(df["date"]).strftime("%Y-%m-%d")
    values = df[TIMESERIES_COLUMNS[1:]].to_numpy(np.float64)
    line = "%s" + ",%.3f" * values.shape[1] + "\n"
    body = "".join(line % (day, *row) for day, row in zip(dates, values.tolist()))
    # "%.3f" writes a missing value as nan (the only letters in the body)
    text = ",".join(TIMESERIES_COLUMNS) + "\n" + body.replace("nan", "NaN")
    path = timeseries_path(camels_dir, gauge_id)
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="ascii", newline="\n")
    return path


def write_attributes(camels_dir: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Eight `CAMELS_GB_<group>_attributes.csv` tables, first column gauge_id."""
    for group in ATTRIBUTE_GROUPS:
        df = tables[group]
        cols = ["gauge_id"] + [c for c in df.columns if c != "gauge_id"]
        write_csv_atomic(
            df[cols],
            camels_dir / f"CAMELS_GB_{group}_attributes.csv",
            float_format="%.4f",
            na_rep="NaN",
            lineterminator="\n",
        )


def write_boundaries(camels_dir: Path, catchments: list[Catchment]) -> Path:
    """Shapefile of the polygons in EPSG:27700 with fields ID_STRING (C) and ID (N).

    Written to a temporary folder and moved into place as a whole.
    """
    final = camels_dir / "CAMELS_GB_catchment_boundaries"
    with atomic_output(final) as tmp:
        tmp.mkdir()
        base = tmp / "CAMELS_GB_catchment_boundaries"
        with shapefile.Writer(str(base), shapeType=shapefile.POLYGON) as w:
            w.field("ID_STRING", "C", size=16)
            w.field("ID", "N", size=10, decimal=0)
            for c in catchments:
                poly = to_bng(c.polygon)
                # shapefile outer rings are clockwise
                ring = list(poly.exterior.coords)
                if _ccw(ring):
                    ring = ring[::-1]
                w.poly([ring])
                w.record(str(c.gauge_id), int(c.gauge_id))
        base.with_suffix(".prj").write_text(CRS.from_epsg(27700).to_wkt(WktVersion.WKT1_ESRI))
    return final


def _ccw(ring) -> bool:
    s = 0.0
    for (x0, y0), (x1, y1) in zip(ring[:-1], ring[1:]):
        s += (x1 - x0) * (y1 + y0)
    return s < 0
