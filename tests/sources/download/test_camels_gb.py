"""CAMELS-GB download / safe unzip / layout normalisation, with fakes instead of the network."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile

import pytest

from hydroprobe.errors import InputDataError
from hydroprobe.sources.camels_gb import list_gauge_ids, read_attributes
from hydroprobe.sources.download.camels_gb import (
    CAMELS_GB_SHA256,
    CAMELS_GB_URL,
    download,
    fetch,
    normalise_layout,
    safe_extract,
)

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
    extracted = safe_extract(zp, tmp_path / "x")
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


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "/abs", "C:/windows/evil", "..\\evil"])
def test_zip_slip_refused(tmp_path, name):
    zp = tmp_path / "bad.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr(zipfile.ZipInfo(name), "bad")  # ZipInfo keeps the raw name
    with pytest.raises(InputDataError) as info:
        safe_extract(zp, tmp_path / "dest")
    assert repr(name) in str(info.value) or name in str(info.value)
    assert not (tmp_path / "dest").exists()  # nothing extracted
    assert not (tmp_path / "evil").exists()


def test_symlink_refused(tmp_path):
    zp = tmp_path / "link.zip"
    info = zipfile.ZipInfo("data/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InputDataError, match="'data/link'.*symbolic link"):
        safe_extract(zp, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def _opener(data, headers=None):
    def opener(url, timeout=None):
        stream = io.BytesIO(data)
        if headers is not None:
            stream.headers = headers
        return stream

    return opener


def test_download_with_fake_opener(tmp_path):
    data = b"x" * 5000
    target = download(
        "https://example.invalid/f.zip",
        tmp_path / "d" / "f.zip",
        sha256=hashlib.sha256(data).hexdigest(),
        opener=_opener(data),
        chunk=1000,
        size=5000,
    )
    assert target.read_bytes() == data
    assert [p.name for p in target.parent.iterdir()] == ["f.zip"]


def test_sha256_mismatch_refused(tmp_path):
    target = tmp_path / "f.zip"
    with pytest.raises(InputDataError, match="SHA-256"):
        download("https://example.invalid/f.zip", target, sha256="0" * 64, opener=_opener(b"data"))
    assert list(tmp_path.iterdir()) == []


def test_short_download_refused(tmp_path):
    with pytest.raises(InputDataError, match="incomplete"):
        download("u", tmp_path / "f.zip", opener=_opener(b"abc", headers={"Content-Length": "10"}))
    with pytest.raises(InputDataError, match="size"):
        download("u", tmp_path / "f.zip", opener=_opener(b"abc"), size=4)
    assert list(tmp_path.iterdir()) == []


def test_fetch_end_to_end_and_non_zip(tmp_path):
    data = _nested_zip(tmp_path / "src.zip").read_bytes()
    dest = fetch(tmp_path / "out" / "camels_gb", opener=_opener(data))
    assert list_gauge_ids(dest) == [1001, 2002]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["camels_gb"]
    with pytest.raises(InputDataError, match="did not return a zip"):
        fetch(tmp_path / "out2" / "camels_gb", opener=_opener(b"<html>licence</html>"))
    assert list((tmp_path / "out2").iterdir()) == []
