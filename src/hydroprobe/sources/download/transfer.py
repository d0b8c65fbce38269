"""Moving data from the network onto disk safely: HTTP downloads and archive extraction.

* `download` streams a URL to a file through a temporary sibling, checks its size and
  checksums, and moves it into place only when complete and matching;
* `safe_extract` unpacks a zip or tar archive, refusing (before anything is written) any entry
  that is a link, has an absolute name or a drive letter, or would land outside the
  destination (``../``); tar entries also go through tarfile's ``data`` filter (no devices, no
  setuid bits);
* `require_archive` tells a downloaded archive from what servers send instead (an HTML login,
  licence or error page with status 200) before anything is unpacked; `verify_zip` reads every
  member of a zip kept from an earlier run against its CRC before it is reused;
* `unzip_single_netcdf` replaces a zip that holds exactly one NetCDF file by that file (the CDS
  may still deliver a zip where a NetCDF file was asked for).

Every failure raises `InputDataError` with one line naming the URL, archive or entry.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import re
import shutil
import stat
import tarfile
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from hydroprobe.errors import InputDataError
from hydroprobe.io import atomic_output


class _Digests:
    """Byte count, SHA-256 and an optional ``"<algorithm>:<hex>"`` checksum of a stream of blocks,
    and what about them fails the expected values: one comparison for fresh and kept files."""

    def __init__(self, checksum: str | None, name: str):
        self.written = 0
        self.sha256 = hashlib.sha256()
        self.check_algo, _, self.check_hex = (checksum or "").partition(":")
        try:
            self.check = hashlib.new(self.check_algo) if checksum else None
        except ValueError:
            raise InputDataError(f"{name}: unknown checksum algorithm {self.check_algo!r}") from None

    def update(self, block: bytes) -> None:
        self.written += len(block)
        self.sha256.update(block)
        if self.check is not None:
            self.check.update(block)

    def problem(self, size: int | None, sha256: str | None) -> str | None:
        if size is not None and self.written != int(size):
            return f"size {self.written} bytes, expected {size}"
        if sha256 is not None and self.sha256.hexdigest() != sha256.lower():
            return f"SHA-256 {self.sha256.hexdigest()} does not match expected {sha256.lower()}"
        if self.check is not None and self.check.hexdigest() != self.check_hex.lower():
            return (
                f"{self.check_algo} {self.check.hexdigest()} does not match expected {self.check_hex.lower()}"
            )
        return None


def download(
    url: str,
    target: str | os.PathLike,
    sha256: str | None = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
    chunk: int = 1 << 20,
    size: int | None = None,
    timeout: float = 60,
    checksum: str | None = None,
) -> Path:
    """Stream ``url`` to ``target`` through a temporary file beside it.

    The byte count is checked against ``size`` (if given) and the server's Content-Length
    (if sent), the SHA-256 against ``sha256`` (if given), and ``checksum`` written
    ``"<algorithm>:<hex>"`` (as Zenodo publishes them, e.g. ``md5:…``) if given; only a
    complete, matching file is moved into place. ``opener(url, timeout=...)`` must return a
    file-like object (a context manager, like `urllib.request.urlopen`'s response).
    """
    target = Path(target)
    digests = _Digests(checksum, url)
    try:
        with atomic_output(target) as tmp:
            try:
                response = opener(url, timeout=timeout)
            except Exception as err:
                raise InputDataError(f"{url}: download failed ({err})") from None
            with response:
                headers = getattr(response, "headers", None)
                announced = headers.get("Content-Length") if headers is not None else None
                with open(tmp, "wb") as out:
                    while block := response.read(chunk):
                        out.write(block)
                        digests.update(block)
            if announced is not None and str(announced).isdigit() and digests.written != int(announced):
                raise InputDataError(f"{url}: incomplete download ({digests.written} of {announced} bytes)")
            problem = digests.problem(size, sha256)
            if problem is not None:
                raise InputDataError(f"{url}: {problem}")
    except InputDataError:
        raise
    except Exception as err:
        raise InputDataError(f"{url}: download to {target} failed ({err})") from None
    return target


def file_mismatch(
    path: str | os.PathLike,
    size: int | None = None,
    sha256: str | None = None,
    checksum: str | None = None,
    chunk: int = 1 << 20,
) -> str | None:
    """Why the file at ``path`` fails the checks `download` makes (``size``, ``sha256``,
    ``checksum``), or None: whether a file kept from an earlier run can be trusted."""
    digests = _Digests(checksum, str(path))
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digests.update(block)
    return digests.problem(size, sha256)


_DRIVE = re.compile(r"^[A-Za-z]:")
# what a truncated or corrupt zip/gzip/bzip2/xz stream raises while it is read
_DAMAGED_STREAM = (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, zlib.error, lzma.LZMAError)


def _unsafe_reason(name: str, is_link: bool, root: Path) -> str | None:
    """Why an archive entry must not be extracted under ``root`` (resolved), or None."""
    if is_link:
        return "link"
    if "\x00" in name:
        return "NUL in name"
    posix = name.replace("\\", "/")
    if posix.startswith("/"):
        return "absolute path"
    if _DRIVE.match(posix):
        return "drive letter"
    if ".." in PurePosixPath(posix).parts:
        return "path escapes the destination"
    resolved = (root / posix).resolve()
    if resolved != root and root not in resolved.parents:
        return "path escapes the destination"
    return None


def safe_extract_zip(zip_path: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Extract a zip archive into ``dest`` after checking every entry (see the module doc)."""
    zip_path, dest = Path(zip_path), Path(dest)
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise InputDataError(f"{zip_path}: not a readable zip file ({err})") from None
    with zf:
        infos = zf.infolist()
        root = dest.resolve()
        for info in infos:
            is_link = stat.S_ISLNK(info.external_attr >> 16)
            reason = _unsafe_reason(info.filename, is_link, root)
            if reason:
                raise InputDataError(f"{zip_path}: refusing entry {info.filename!r} ({reason})")
        dest.mkdir(parents=True, exist_ok=True)
        for info in infos:
            info.filename = info.filename.replace("\\", "/")
            zf.extract(info, dest)
    return dest


def safe_extract_tar(tar_path: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Extract a tar archive into ``dest`` after checking every entry (see the module doc)."""
    tar_path, dest = Path(tar_path), Path(dest)
    if not hasattr(tarfile, "data_filter"):
        raise InputDataError("extracting tar archives safely needs Python >= 3.11.4")
    try:
        archive = tarfile.open(tar_path)
    except _DAMAGED_STREAM as err:
        raise InputDataError(f"{tar_path}: not a readable tar archive ({err})") from None
    with archive:
        try:
            members = archive.getmembers()  # reads the whole compressed stream: damage shows here
        except _DAMAGED_STREAM as err:
            raise InputDataError(f"{tar_path}: not a readable tar archive ({err})") from None
        root = dest.resolve()
        for member in members:
            reason = _unsafe_reason(member.name, member.issym() or member.islnk(), root)
            if reason is None:
                try:
                    tarfile.data_filter(member, str(root))
                except tarfile.FilterError as err:
                    reason = str(err)
            if reason:
                raise InputDataError(f"{tar_path}: refusing entry {member.name!r} ({reason})")
        dest.mkdir(parents=True, exist_ok=True)
        archive.extractall(dest, members=members, filter="data")
    return dest


def archive_kind(path: str | os.PathLike) -> str | None:
    """``"zip"``, ``"tar"`` (plain, gzip, bzip2 or xz) or None, from the file's bytes, not its name."""
    if zipfile.is_zipfile(path):
        return "zip"
    try:
        return "tar" if tarfile.is_tarfile(path) else None
    except _DAMAGED_STREAM:
        return None


_HTML_STARTS = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")


def require_archive(path: str | os.PathLike, url: str, kinds: tuple[str, ...] = ("zip", "tar")) -> str:
    """The kind of archive at ``path`` (downloaded from ``url``), one of ``kinds``; otherwise an
    `InputDataError` naming the URL, saying whether the server sent a web page instead."""
    kind = archive_kind(path)
    if kind in kinds:
        return kind
    with open(path, "rb") as f:
        start = f.read(512).lstrip().lower()
    expected = " or ".join(kinds)
    if start.startswith(_HTML_STARTS):
        raise InputDataError(
            f"{url}: the server sent a web page, not a {expected} archive (a login, licence or error page?)"
        )
    raise InputDataError(f"{url}: the downloaded file is not a readable {expected} archive")


def verify_zip(path: str | os.PathLike) -> str | None:
    """Why the zip at ``path`` cannot be trusted (not a zip, a member failing its CRC), or None."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (*_DAMAGED_STREAM, NotImplementedError) as err:
        return f"not a readable zip ({err})"
    return f"member {bad!r} is damaged" if bad else None


def safe_extract(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Extract a zip or tar archive (plain or compressed) into ``dest``, checked entry by entry."""
    kind = archive_kind(archive)
    if kind == "zip":
        return safe_extract_zip(archive, dest)
    if kind == "tar":
        return safe_extract_tar(archive, dest)
    raise InputDataError(f"{archive}: neither a zip nor a tar archive")


def unzip_single_netcdf(path: str | os.PathLike) -> Path:
    """Replace the zip at ``path`` by the one ``.nc`` file it holds (in place, atomically)."""
    path = Path(path)
    with atomic_output(path) as extracted, zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.endswith(".nc")]
        if len(names) != 1:
            raise InputDataError(f"{path.name}: a zip with {len(names)} .nc files, expected 1")
        with zf.open(names[0]) as src, open(extracted, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return path
