"""CAMELS-GB download and layout normalisation, with fakes instead of the network."""

from __future__ import annotations

import io
import zipfile

import pytest

from hydroprobe.errors import InputDataError
from hydroprobe.sources.camels_gb import list_gauge_ids, read_attributes
from hydroprobe.sources.download.camels_gb import CAMELS_GB_SHA256, CAMELS_GB_URL, fetch, normalise_layout
from hydroprobe.sources.download.transfer import safe_extract_zip

UUID = "8344e4f3-d2ea-44f5-8afa-86d2987543a9"
TS_HEADER = "date,precipitation,pet,temperature,discharge_spec,discharge_vol,peti,humidity,shortwave_rad,longwave_rad,windspeed\n"


def _nested_zip(path, ids=(1001, 2002)):
    base = f"{UUID}/{UUID}/data/"
    with zipfile.ZipFile(path, "w") as zf:
        for gid in ids:
            zf.writestr(
                f"{base}timeseries/CAMELS_GB_hydromet_timeseries_{gid}_19701001-20150930.csv",
                TS_HEADER + "1970-10-01,1.0,0.5,10.0,NaN,NaN,0.5,6.0,100,300,3\n",
            )
        zf.writestr(
            f"{base}CAMELS_GB_climatic_attributes.csv",
            "gauge_id,p_mean\n" + "".join(f"{g},{2.5}\n" for g in ids),
        )
        zf.writestr(f"{base}CAMELS_GB_catchment_boundaries/CAMELS_GB_catchment_boundaries.prj", "OSGB 1936")
        zf.writestr(f"{UUID}/{UUID}/supporting-documents/readme.txt", "doc")
    return path


def test_constants():
    assert CAMELS_GB_URL.endswith(f"{UUID}.zip")
    assert CAMELS_GB_SHA256 is None


def test_nested_zip_normalised(tmp_path):
    zp = _nested_zip(tmp_path / "camels.zip")
    extracted = safe_extract_zip(zp, tmp_path / "x")
    dest = normalise_layout(extracted, tmp_path / "camels_gb")
    assert (dest / "timeseries").is_dir() and (dest / "CAMELS_GB_catchment_boundaries").is_dir()
    assert list_gauge_ids(dest) == [1001, 2002]
    assert list(read_attributes(dest, ["p_mean"])["p_mean"]) == [2.5, 2.5]


def test_normalise_names_missing(tmp_path):
    (tmp_path / "x" / "a" / "timeseries").mkdir(parents=True)
    with pytest.raises(InputDataError, match=r"CAMELS_GB_\*_attributes.csv"):
        normalise_layout(tmp_path / "x", tmp_path / "dest")
    (tmp_path / "x" / "a" / "CAMELS_GB_climatic_attributes.csv").write_text("gauge_id\n1\n")
    (
        tmp_path / "x" / "a" / "timeseries" / "CAMELS_GB_hydromet_timeseries_1_19701001-20150930.csv"
    ).write_text(TS_HEADER)
    with pytest.raises(InputDataError, match="CAMELS_GB_catchment_boundaries"):
        normalise_layout(tmp_path / "x", tmp_path / "dest")


def _opener(data, headers=None):
    def opener(url, timeout=None):
        stream = io.BytesIO(data)
        if headers is not None:
            stream.headers = headers
        return stream

    return opener


def test_fetch_end_to_end_and_non_zip(tmp_path):
    data = _nested_zip(tmp_path / "src.zip").read_bytes()
    dest = fetch(tmp_path / "out" / "camels_gb", opener=_opener(data))
    assert list_gauge_ids(dest) == [1001, 2002]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["camels_gb"]
    with pytest.raises(InputDataError, match="did not return a zip"):
        fetch(tmp_path / "out2" / "camels_gb", opener=_opener(b"<html>licence</html>"))
    assert list((tmp_path / "out2").iterdir()) == []


def test_fetch_refuses_a_non_empty_destination(tmp_path):
    dest = tmp_path / "camels_gb"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep")
    data = _nested_zip(tmp_path / "src.zip").read_bytes()
    with pytest.raises(InputDataError, match="not empty"):
        fetch(dest, opener=_opener(data))
    assert [p.name for p in dest.iterdir()] == ["mine.txt"]
