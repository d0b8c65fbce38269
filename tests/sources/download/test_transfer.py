"""HTTP download and safe unpacking: with fake openers, and through a local HTTP server."""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
import zipfile

import pytest
from http_server import http_server_fixture  # noqa: F401  (provides the http_server fixture)

from hydroprobe.errors import InputDataError
from hydroprobe.sources.download.transfer import (
    archive_kind,
    download,
    file_mismatch,
    require_archive,
    safe_extract,
    safe_extract_tar,
    safe_extract_zip,
    unzip_single_netcdf,
    verify_zip,
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


# ---- through a real HTTP server (tests/http_server.py) ----


def test_download_over_http(http_server, tmp_path):
    data = bytes(range(256)) * 40
    url = http_server.serve("/f.bin", data)
    target = download(url, tmp_path / "f.bin", sha256=hashlib.sha256(data).hexdigest(), chunk=1000)
    assert target.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_redirect_is_followed(http_server, tmp_path):
    """Data portals answer their stable address with a redirect to the file's current place."""
    final = http_server.serve("/store/f.bin", b"payload")
    url = http_server.serve("/f.bin", status=302, headers={"Location": final})
    assert download(url, tmp_path / "f.bin", size=7).read_bytes() == b"payload"
    assert http_server.requests == ["/f.bin", "/store/f.bin"]


@pytest.mark.parametrize("status", [404, 500])
def test_http_error_names_the_url_and_leaves_nothing(http_server, tmp_path, status):
    url = http_server.serve("/f.zip", "<html>gone</html>", status=status)
    with pytest.raises(InputDataError, match=rf"^{url}: download failed \(HTTP Error {status}") as err:
        download(url, tmp_path / "f.zip")
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_truncated_transfer_is_refused_and_a_rerun_succeeds(http_server, tmp_path):
    data = b"z" * 10_000
    url = http_server.serve("/f.zip", data, truncate_after=4_000)
    with pytest.raises(InputDataError, match=rf"^{url}: incomplete download \(4000 of 10000 bytes\)$"):
        download(url, tmp_path / "f.zip")
    assert list(tmp_path.iterdir()) == []
    http_server.serve("/f.zip", data)  # the service recovers
    assert download(url, tmp_path / "f.zip").read_bytes() == data


def test_wrong_declared_size_is_refused(http_server, tmp_path):
    url = http_server.serve("/f.zip", b"x" * 100)
    with pytest.raises(InputDataError, match=rf"^{url}: size 100 bytes, expected 101"):
        download(url, tmp_path / "f.zip", size=101)
    assert list(tmp_path.iterdir()) == []


def test_require_archive_tells_a_web_page(tmp_path):
    page = tmp_path / "f.zip"
    page.write_text("\n  <!DOCTYPE html><html><body>Please log in</body></html>")
    with pytest.raises(
        InputDataError, match=r"^https://x.invalid/f.zip: the server sent a web page, not a zip"
    ):
        require_archive(page, "https://x.invalid/f.zip", kinds=("zip",))
    page.write_bytes(b"\x00\x01 binary junk")
    with pytest.raises(InputDataError, match="not a readable zip or tar archive"):
        require_archive(page, "u")
    with tarfile.open(tmp_path / "a.tar.xz", "w:xz") as archive:
        archive.addfile(tarfile.TarInfo("empty"), io.BytesIO(b""))
    assert require_archive(tmp_path / "a.tar.xz", "u") == "tar"
    with pytest.raises(InputDataError, match="not a readable zip archive"):
        require_archive(tmp_path / "a.tar.xz", "u", kinds=("zip",))


def test_tar_xz_unpacked_and_a_truncated_one_refused(tmp_path):
    path = tmp_path / "a.tar.xz"
    payload = bytes(range(256)) * 400  # large enough to span several xz blocks of output
    with tarfile.open(path, "w:xz") as archive:
        info = tarfile.TarInfo("top/data.bin")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    assert archive_kind(path) == "tar"
    assert (safe_extract(path, tmp_path / "out") / "top" / "data.bin").read_bytes() == payload
    cut = tmp_path / "cut.tar.xz"
    cut.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(InputDataError, match="cut.tar.xz: not a readable tar archive"):
        safe_extract_tar(cut, tmp_path / "cut")
    assert not (tmp_path / "cut").exists()


def test_verify_zip_finds_a_damaged_member(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:  # stored, so the member's bytes sit plainly in the file
        zf.writestr("data/a.csv", b"gauge_id,p_mean\n" + b"1001,2.5\n" * 200)
    assert verify_zip(path) is None
    raw = bytearray(path.read_bytes())
    at = raw.index(b"1001,2.5")
    raw[at : at + 4] = b"9999"
    path.write_bytes(bytes(raw))
    assert verify_zip(path) == "member 'data/a.csv' is damaged"
    path.write_bytes(b"<html>")
    assert verify_zip(path).startswith("not a readable zip")


def test_file_mismatch_makes_the_checks_of_download(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"payload")
    md5 = "md5:" + hashlib.md5(b"payload").hexdigest()
    assert (
        file_mismatch(path, size=7, sha256=hashlib.sha256(b"payload").hexdigest().upper(), checksum=md5)
        is None
    )
    assert file_mismatch(path, size=8) == "size 7 bytes, expected 8"
    assert file_mismatch(path, sha256="0" * 64).startswith("SHA-256 ")
    assert (
        file_mismatch(path, checksum="md5:" + "0" * 32) == f"md5 {md5[4:]} does not match expected {'0' * 32}"
    )
