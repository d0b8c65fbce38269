"""CAMELS-GB reader on real CAMELS-GB v1 files (see tests/data/README.md)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapefile
import shapely
from pyproj import CRS

from hydroprobe.errors import InputDataError
from hydroprobe.sources.camels_gb import (
    TIMESERIES_COLUMNS,
    list_gauge_ids,
    read_attributes,
    read_boundaries,
    read_timeseries,
)
from hydroprobe.sources.columns import static_arrays

CAMELS = Path(__file__).resolve().parents[1] / "data" / "camels_gb"
COLUMNS = TIMESERIES_COLUMNS[1:]  # every column but the date index


def test_list_gauge_ids():
    assert list_gauge_ids(CAMELS) == [96004, 97002]


def test_read_timeseries_real_values():
    df = read_timeseries(CAMELS, 96004)
    assert list(df.columns) == COLUMNS
    assert len(df) == 16436
    assert df.index.name == "date" and isinstance(df.index, pd.DatetimeIndex)
    assert df.index[0] == pd.Timestamp("1970-10-01") and df.index[-1] == pd.Timestamp("2015-09-30")
    assert (df.index.to_series().diff().dropna() == pd.Timedelta("1D")).all()
    assert all(dt == np.float64 for dt in df.dtypes)
    assert df["discharge_spec"].isna().sum() == 6270
    assert df["discharge_spec"].loc[:"1987-11-30"].isna().all()
    assert df["discharge_spec"].loc["1987-12-01":].notna().all()
    assert df.loc["1970-10-01", "precipitation"] == pytest.approx(33.82)
    assert df.loc["2015-09-30", "discharge_spec"] == pytest.approx(0.39)
    assert df[["precipitation", "pet", "temperature"]].notna().all().all()
    q = read_timeseries(CAMELS, 97002, ["discharge_spec"])
    assert list(q.columns) == ["discharge_spec"]
    assert q["discharge_spec"].isna().sum() == 457
    assert q["discharge_spec"].loc[:"1971-12-31"].isna().all()


def test_read_timeseries_errors():
    with pytest.raises(InputDataError, match="basin 12345"):
        read_timeseries(CAMELS, 12345)
    with pytest.raises(InputDataError, match=r"96004.*snowfall"):
        read_timeseries(CAMELS, 96004, ["precipitation", "snowfall"])


def test_read_attributes_real_values():
    attrs = read_attributes(CAMELS)
    assert len(attrs) == 671
    assert attrs.index.name == "gauge_id" and attrs.index.dtype == np.int64
    assert attrs.loc[96004, "p_mean"] == pytest.approx(6.92)
    assert attrs.loc[96004, "frac_snow"] == pytest.approx(0.04)
    assert attrs.loc[97002, "aridity"] == pytest.approx(0.38)
    assert attrs.loc[96004, "shrub_perc"] == pytest.approx(78.27)
    assert attrs.loc[97002, "dom_land_cover"] == "Shrubs"
    sub = read_attributes(CAMELS, ["p_mean", "grass_perc"])
    assert list(sub.columns) == ["p_mean", "grass_perc"]
    assert sub.loc[97002, "grass_perc"] == pytest.approx(10.87)


def test_read_attributes_missing_column():
    with pytest.raises(InputDataError, match=r"area.*camels_gb"):
        read_attributes(CAMELS, ["p_mean", "area"])


@pytest.mark.parametrize("layout", ["attributes", "lees"])
def test_alternative_layouts(tmp_path, layout):
    root = tmp_path / "c"
    if layout == "attributes":
        shutil.copytree(CAMELS / "timeseries", root / "timeseries")
        attr_dir = root / "attributes"
    else:
        shutil.copytree(CAMELS / "timeseries", root / "Catchment_Timeseries")
        attr_dir = root / "Catchment_Attributes"
    attr_dir.mkdir(parents=True)
    for f in CAMELS.glob("CAMELS_GB_*_attributes.csv"):
        shutil.copy(f, attr_dir)
    assert list_gauge_ids(root) == [96004, 97002]
    assert read_attributes(root, ["p_mean"]).loc[97002, "p_mean"] == pytest.approx(2.97)
    assert len(read_timeseries(root, 97002)) == 16436


def _write_shapefile(folder: Path, field: str = "ID_STRING", prj: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "CAMELS_GB_catchment_boundaries"
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON) as w:
        w.field(field, "C", size=10)
        # clockwise outer rings (shapefile convention), BNG metres
        w.poly([[(200000, 900000), (200000, 910000), (210000, 910000), (210000, 900000), (200000, 900000)]])
        w.record("96004")
        w.poly([[(300000, 950000), (300000, 955000), (304000, 955000), (304000, 950000), (300000, 950000)]])
        w.record("97002")
    text = CRS.from_epsg(27700).to_wkt(version="WKT1_ESRI") if prj is None else prj
    base.with_suffix(".prj").write_text(text)


def test_read_boundaries(tmp_path):
    _write_shapefile(tmp_path / "CAMELS_GB_catchment_boundaries")
    polys = read_boundaries(tmp_path)
    assert list(polys) == [96004, 97002]
    assert polys[96004].area == pytest.approx(1e8)
    assert polys[97002].area == pytest.approx(2e7)
    assert isinstance(polys[97002], shapely.Polygon)
    only = read_boundaries(tmp_path, [97002])
    assert list(only) == [97002]
    with pytest.raises(InputDataError, match=r"\.shp: no polygon for basin\(s\) 12345$"):
        read_boundaries(tmp_path, [96004, 12345])


def test_read_boundaries_id_fallback_and_top_level(tmp_path):
    _write_shapefile(tmp_path, field="ID")
    assert list(read_boundaries(tmp_path)) == [96004, 97002]


def test_read_boundaries_wrong_projection(tmp_path):
    _write_shapefile(
        tmp_path / "CAMELS_GB_catchment_boundaries", prj=CRS.from_epsg(4326).to_wkt(version="WKT1_ESRI")
    )
    with pytest.raises(InputDataError, match=r"\.prj.*British National Grid"):
        read_boundaries(tmp_path)


def test_read_boundaries_missing(tmp_path):
    with pytest.raises(InputDataError, match="CAMELS_GB_catchment_boundaries"):
        read_boundaries(tmp_path)


@pytest.mark.parametrize(("suffix", "why"), [(".prj", "projection"), (".dbf", "gauge ids")])
def test_read_boundaries_without_prj_or_dbf(tmp_path, suffix, why):
    _write_shapefile(tmp_path / "CAMELS_GB_catchment_boundaries")
    part = tmp_path / "CAMELS_GB_catchment_boundaries" / f"CAMELS_GB_catchment_boundaries{suffix}"
    part.unlink()
    with pytest.raises(InputDataError, match=rf"^{re.escape(str(part))} is missing: .*{why}"):
        read_boundaries(tmp_path)


def _spoilt_copy(tmp_path, spoil):
    """A copy of the CAMELS-GB fixture whose basin 96004 file has lines changed by `spoil`."""
    root = tmp_path / "c"
    shutil.copytree(CAMELS, root)
    path = next((root / "timeseries").glob("*_96004_*.csv"))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(spoil(lines)) + "\n")
    return root, path


def _replace_line(number, text):
    def spoil(lines):
        lines[number - 1] = text
        return lines

    return spoil


def test_non_numeric_value_names_column_and_date(tmp_path):
    # line 3 is 1970-10-02
    root, path = _spoilt_copy(
        tmp_path, _replace_line(3, "1970-10-02,13.80,1.57,6,67,NaN,NaN,1.91,4.60,85.71,292.95,10.15")
    )
    with pytest.raises(InputDataError) as err:
        read_timeseries(root, 96004)
    assert str(err.value) == (
        f"{path}: cannot parse CAMELS-GB time series (Error tokenizing data. C error: Expected 11 fields "
        "in line 3, saw 12)"
    )
    root, path = _spoilt_copy(
        tmp_path / "b", _replace_line(3, "1970-10-02,13.80,1.57,six,NaN,NaN,1.91,4.60,85.71,292.95,10.15")
    )
    with pytest.raises(InputDataError) as err:
        read_timeseries(root, 96004, ["precipitation", "temperature"])
    assert str(err.value) == f"{path}: non-numeric value 'six' in column temperature at 1970-10-02 (line 3)"
    # a column not asked for is not read as numbers
    assert read_timeseries(root, 96004, ["precipitation"])["precipitation"].iloc[1] == pytest.approx(13.8)


def test_duplicate_date_is_refused_naming_file_and_date(tmp_path):
    root, path = _spoilt_copy(tmp_path, lambda lines: lines[:101] + lines[100:])  # line 101 twice
    with pytest.raises(InputDataError) as err:
        read_timeseries(root, 96004)
    assert str(err.value) == f"{path}: date 1971-01-08 appears more than once (lines 101 and 102)"


def test_dates_out_of_order_or_unreadable(tmp_path):
    root, path = _spoilt_copy(tmp_path, lambda lines: [lines[0], lines[2], lines[1], *lines[3:]])
    with pytest.raises(InputDataError) as err:
        read_timeseries(root, 96004)
    assert str(err.value) == f"{path}: dates out of order: 1970-10-01 on line 3 follows 1970-10-02"
    root, path = _spoilt_copy(tmp_path / "b", _replace_line(5, "04/10/1970,1,1,1,1,1,1,1,1,1,1"))
    with pytest.raises(InputDataError, match=r"date '04/10/1970' on line 5 is not YYYY-MM-DD$"):
        read_timeseries(root, 96004)
    root, path = _spoilt_copy(tmp_path / "c", lambda lines: ["day" + lines[0][4:], *lines[1:]])
    with pytest.raises(InputDataError, match=rf"^{re.escape(str(path))}: missing column date"):
        read_timeseries(root, 96004)


def _attributes_without(tmp_path, table, gauge_id):
    root = tmp_path / "c"
    shutil.copytree(CAMELS, root)
    path = root / f"CAMELS_GB_{table}_attributes.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith(f"{gauge_id},")) + "\n")
    return root, path


def test_basin_missing_from_one_attribute_file_is_named(tmp_path):
    root, climatic = _attributes_without(tmp_path, "climatic", 97002)
    attrs = read_attributes(root, ["grass_perc", "p_mean"])
    assert np.isnan(attrs.loc[97002, "p_mean"])  # the outer join keeps the basin's other tables
    statics = static_arrays(attrs, [96004], ["grass_perc", "p_mean"], "CAMELS-GB attribute tables")
    assert statics["p_mean"][0] == pytest.approx(6.92)
    with pytest.raises(InputDataError) as err:
        static_arrays(attrs, [96004, 97002], ["grass_perc", "p_mean"], "CAMELS-GB attribute tables")
    assert str(err.value) == f"basin 97002 missing from {climatic} (static attribute 'p_mean')"
    with pytest.raises(InputDataError) as err:
        static_arrays(attrs, [96004, 12345], ["grass_perc", "p_mean"], "CAMELS-GB attribute tables")
    assert str(err.value) == f"basin 12345 missing from {root / 'CAMELS_GB_landcover_attributes.csv'}"


def test_nan_attribute_is_named_with_its_file(tmp_path):
    root, climatic = _attributes_without(tmp_path, "climatic", 97002)
    with climatic.open("a") as f:
        f.write("97002,NaN,1.14,0.38,0.1,0.01,20.1,1.2,son,230.1,3.5,jja\n")
    attrs = read_attributes(root, ["p_mean", "aridity"])
    assert attrs.loc[97002, "aridity"] == pytest.approx(0.38)
    with pytest.raises(InputDataError) as err:
        static_arrays(attrs, [96004, 97002], ["aridity", "p_mean"], "CAMELS-GB attribute tables")
    assert str(err.value) == f"basin 97002: static attribute 'p_mean' is NaN in {climatic}"


def test_bad_gauge_id_in_an_attribute_file(tmp_path):
    root, climatic = _attributes_without(tmp_path, "climatic", 97002)
    with climatic.open("a") as f:
        f.write("97002a,1,1.14,0.38,0.1,0.01,20.1,1.2,son,230.1,3.5,jja\n")
    with pytest.raises(
        InputDataError, match=rf"^{re.escape(str(climatic))}: gauge_id '97002a' on line \d+ is not"
    ):
        read_attributes(root)
