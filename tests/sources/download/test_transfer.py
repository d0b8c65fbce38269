"""HTTP download and safe unpacking, with fakes instead of the network."""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
import zipfile

import pytest

from hydroprobe.errors import InputDataError
from hydroprobe.sources.download.transfer import (
    download,
    safe_extract,
    safe_extract_tar,
    safe_extract_zip,
    unzip_single_netcdf,
)

UNSAFE_NAMES = ["../evil", "a/../../evil", "/abs", "C:/windows/evil", "..\\evil"]


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
        checksum="md5:" + hashlib.md5(data).hexdigest(),
    )
    assert target.read_bytes() == data
    assert [p.name for p in target.parent.iterdir()] == ["f.zip"]


def test_sha256_mismatch_refused(tmp_path):
    target = tmp_path / "f.zip"
    with pytest.raises(InputDataError, match="SHA-256"):
        download("https://example.invalid/f.zip", target, sha256="0" * 64, opener=_opener(b"data"))
    with pytest.raises(InputDataError, match="md5"):
        download("u", target, checksum="md5:" + "0" * 32, opener=_opener(b"data"))
    with pytest.raises(InputDataError, match="unknown checksum algorithm"):
        download("u", target, checksum="nosuch:00", opener=_opener(b"data"))
    assert list(tmp_path.iterdir()) == []


def test_short_download_refused(tmp_path):
    with pytest.raises(InputDataError, match="incomplete"):
        download("u", tmp_path / "f.zip", opener=_opener(b"abc", headers={"Content-Length": "10"}))
    with pytest.raises(InputDataError, match="size"):
        download("u", tmp_path / "f.zip", opener=_opener(b"abc"), size=4)
    assert list(tmp_path.iterdir()) == []


def test_failed_connection_leaves_nothing(tmp_path):
    def offline(url, timeout=None):
        raise OSError("network unreachable")

    with pytest.raises(InputDataError, match="download failed.*unreachable"):
        download("https://example.invalid/f.zip", tmp_path / "f.zip", opener=offline)
    assert list(tmp_path.iterdir()) == []


def _zip(path, name, data=b"bad", external_attr=None):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", "fine")
        info = zipfile.ZipInfo(name)  # ZipInfo keeps the raw name
        if external_attr is not None:
            info.external_attr = external_attr
        zf.writestr(info, data)
    return path


def _tar(path, name, kind=tarfile.REGTYPE, linkname=""):
    with tarfile.open(path, "w:gz") as archive:
        ok = tarfile.TarInfo("ok.txt")
        ok.size = 4
        archive.addfile(ok, io.BytesIO(b"fine"))
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        info.size = 0
        archive.addfile(info, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
    return path


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_zip_slip_refused(tmp_path, name):
    zp = _zip(tmp_path / "bad.zip", name)
    with pytest.raises(InputDataError, match="refusing entry") as info:
        safe_extract_zip(zp, tmp_path / "dest")
    assert repr(name) in str(info.value)
    assert not (tmp_path / "dest").exists()  # nothing extracted
    assert not (tmp_path / "evil").exists()


def test_zip_symlink_refused(tmp_path):
    zp = _zip(tmp_path / "link.zip", "data/link", b"/etc/passwd", (stat.S_IFLNK | 0o777) << 16)
    with pytest.raises(InputDataError, match="'data/link'.*link"):
        safe_extract_zip(zp, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize("name", [n for n in UNSAFE_NAMES if "\\" not in n])
def test_tar_slip_refused(tmp_path, name):
    path = _tar(tmp_path / "bad.tar.gz", name)
    with pytest.raises(InputDataError, match="refusing entry") as info:
        safe_extract_tar(path, tmp_path / "dest")
    assert repr(name) in str(info.value)
    assert not (tmp_path / "dest").exists()
    assert not (tmp_path / "evil").exists()


@pytest.mark.parametrize(
    "kind,linkname",
    [(tarfile.SYMTYPE, "/etc/passwd"), (tarfile.SYMTYPE, "ok.txt"), (tarfile.LNKTYPE, "ok.txt")],
)
def test_tar_links_refused(tmp_path, kind, linkname):
    path = _tar(tmp_path / "link.tar.gz", "data/link", kind, linkname)
    with pytest.raises(InputDataError, match="'data/link'.*link"):
        safe_extract_tar(path, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_tar_device_refused(tmp_path):
    path = _tar(tmp_path / "dev.tar.gz", "data/dev", tarfile.CHRTYPE)
    with pytest.raises(InputDataError, match="'data/dev'"):
        safe_extract_tar(path, tmp_path / "dest")


def test_safe_extract_either_kind(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("top/a.txt", "zip")
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("top/b.txt")
        info.size = 3
        archive.addfile(info, io.BytesIO(b"tar"))
    assert (safe_extract(tmp_path / "a.zip", tmp_path / "out") / "top" / "a.txt").read_text() == "zip"
    assert (safe_extract(tmp_path / "b.tar.gz", tmp_path / "out") / "top" / "b.txt").read_text() == "tar"
    (tmp_path / "page.html").write_text("<html>licence</html>")
    with pytest.raises(InputDataError, match="neither a zip nor a tar"):
        safe_extract(tmp_path / "page.html", tmp_path / "out")


def test_unzip_single_netcdf(tmp_path):
    path = tmp_path / "piece.nc"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data_stream-oper_stepType-instant.nc", b"CDF\x01netcdf bytes")
    assert unzip_single_netcdf(path) == path
    assert path.read_bytes() == b"CDF\x01netcdf bytes"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.nc", b"a")
        zf.writestr("b.nc", b"b")
    with pytest.raises(InputDataError, match="2 .nc files"):
        unzip_single_netcdf(path)
    assert zipfile.is_zipfile(path)  # left as it was
    assert [p.name for p in tmp_path.iterdir()] == ["piece.nc"]
