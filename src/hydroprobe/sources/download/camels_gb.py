"""Download, safely unzip and normalise CAMELS-GB v1 (Coxon et al. 2020, EIDC).

The data package of DOI 10.5285/8344e4f3-d2ea-44f5-8afa-86d2987543a9 is published as one
zip (~256 MB) at `CAMELS_GB_URL`. The EIDC asks users to accept its licence (Open Government
Licence v3); where the direct address answers with a web page instead of the zip, download it
by hand from the catalogue page and point ``camels_gb.path`` at the unzipped copy.

`CAMELS_GB_SHA256` is ``None``: a public config records
``de33e2731d7285423801db723acbd0c8d97c1505b3d184830032c755a341742c`` for this zip, but we
could not verify it, so no hash is enforced by default (pass ``sha256=`` to enforce one).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from hydroprobe.errors import InputDataError
from hydroprobe.io import atomic_output

CAMELS_GB_DOI = "10.5285/8344e4f3-d2ea-44f5-8afa-86d2987543a9"
CAMELS_GB_URL = "https://data-package.ceh.ac.uk/data/8344e4f3-d2ea-44f5-8afa-86d2987543a9.zip"
CAMELS_GB_SHA256: str | None = None  # unverified candidate: de33e273...5a341742c (see module doc)
CATALOGUE_URL = "https://catalogue.ceh.ac.uk/documents/8344e4f3-d2ea-44f5-8afa-86d2987543a9"

TIMESERIES_DIR = "timeseries"
BOUNDARIES_DIR = "CAMELS_GB_catchment_boundaries"
ATTRIBUTE_GLOB = "CAMELS_GB_*_attributes.csv"


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
    complete, matching file is moved into place. ``opener(url, timeout=...)`` must return a file-like object (a context
    manager, like `urllib.request.urlopen`'s response).
    """
    target = Path(target)
    digest = hashlib.sha256()
    check_algo, _, check_hex = (checksum or "").partition(":")
    try:
        check = hashlib.new(check_algo) if checksum else None
    except ValueError:
        raise InputDataError(f"{url}: unknown checksum algorithm {check_algo!r}") from None
    written = 0
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
                    while True:
                        block = response.read(chunk)
                        if not block:
                            break
                        out.write(block)
                        digest.update(block)
                        if check is not None:
                            check.update(block)
                        written += len(block)
            if announced is not None and str(announced).isdigit() and written != int(announced):
                raise InputDataError(f"{url}: incomplete download ({written} of {announced} bytes)")
            if size is not None and written != int(size):
                raise InputDataError(f"{url}: size {written} bytes, expected {size}")
            if sha256 is not None and digest.hexdigest().lower() != sha256.lower():
                raise InputDataError(
                    f"{url}: SHA-256 {digest.hexdigest()} does not match expected {sha256.lower()}"
                )
            if check is not None and check.hexdigest().lower() != check_hex.lower():
                raise InputDataError(
                    f"{url}: {check_algo} {check.hexdigest()} does not match expected {check_hex.lower()}"
                )
    except InputDataError:
        raise
    except Exception as err:
        raise InputDataError(f"{url}: download to {target} failed ({err})") from None
    return target


_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if "\x00" in name:
        return "NUL in name"
    posix = name.replace("\\", "/")
    if posix.startswith("/"):
        return "absolute path"
    if _DRIVE.match(posix):
        return "drive letter"
    if ".." in PurePosixPath(posix).parts:
        return "path escapes the destination"
    return None


def safe_extract(zip_path: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Extract ``zip_path`` into ``dest``, refusing (before writing anything) any entry that is a
    symbolic link or would land outside ``dest`` (``../``, absolute paths, drive letters)."""
    zip_path, dest = Path(zip_path), Path(dest)
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise InputDataError(f"{zip_path}: not a readable zip file ({err})") from None
    with zf:
        infos = zf.infolist()
        root = dest.resolve()
        for info in infos:
            reason = _unsafe_reason(info)
            if reason is None:
                resolved = (root / info.filename.replace("\\", "/")).resolve()
                if resolved != root and root not in resolved.parents:
                    reason = "path escapes the destination"
            if reason:
                raise InputDataError(f"{zip_path}: refusing zip entry {info.filename!r} ({reason})")
        dest.mkdir(parents=True, exist_ok=True)
        for info in infos:
            info.filename = info.filename.replace("\\", "/")
            zf.extract(info, dest)
    return dest


def _find_data_root(root: Path) -> Path | None:
    candidates = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if TIMESERIES_DIR in dirs and any(Path(f).match(ATTRIBUTE_GLOB) for f in files):
            candidates.append(here)
    return min(candidates, key=lambda p: len(p.parts)) if candidates else None


def normalise_layout(extracted_root: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Move the CAMELS-GB data folder (however deeply nested, e.g. the EIDC zip's
    ``<uuid>/<uuid>/data/``) so that ``dest`` holds the v1 layout: ``timeseries/``,
    ``CAMELS_GB_*_attributes.csv`` and ``CAMELS_GB_catchment_boundaries/``.

    ``dest`` must not exist or be empty. Raises `InputDataError` naming what is missing.
    """
    extracted_root, dest = Path(extracted_root), Path(dest)
    if not extracted_root.is_dir():
        raise InputDataError(f"{extracted_root}: extracted CAMELS-GB folder not found")
    data = _find_data_root(extracted_root)
    if data is None:
        has_ts = any(p.is_dir() for p in extracted_root.rglob(TIMESERIES_DIR))
        has_attr = any(extracted_root.rglob(ATTRIBUTE_GLOB))
        missing = [n for n, ok in ((f"{TIMESERIES_DIR}/", has_ts), (ATTRIBUTE_GLOB, has_attr)) if not ok]
        what = (
            " and ".join(missing) if missing else f"{TIMESERIES_DIR}/ and {ATTRIBUTE_GLOB} in the same folder"
        )
        raise InputDataError(f"{extracted_root}: not a CAMELS-GB v1 copy, no {what} found")
    if not (data / BOUNDARIES_DIR).is_dir():
        raise InputDataError(f"{data}: CAMELS-GB folder lacks {BOUNDARIES_DIR}/")
    if not any((data / TIMESERIES_DIR).glob("CAMELS_GB_hydromet_timeseries_*.csv")):
        raise InputDataError(f"{data / TIMESERIES_DIR}: no CAMELS_GB_hydromet_timeseries_*.csv")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputDataError(f"{dest}: destination for CAMELS-GB exists and is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    if data.resolve() == dest.resolve():
        return dest
    for child in sorted(data.iterdir()):
        shutil.move(str(child), str(dest / child.name))
    return dest


def fetch(
    dest: str | os.PathLike,
    url: str = CAMELS_GB_URL,
    sha256: str | None = CAMELS_GB_SHA256,
    zip_path: str | os.PathLike | None = None,
    keep_zip: bool = False,
    **download_kwargs: Any,
) -> Path:
    """Download (unless ``zip_path`` already exists), extract safely and normalise into ``dest``.

    The normalised folder is assembled beside ``dest`` and moved into place only when complete;
    ``dest`` must not exist or be empty.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputDataError(f"{dest}: destination for CAMELS-GB exists and is not empty")
    dest.parent.mkdir(parents=True, exist_ok=True)
    zip_path = Path(zip_path) if zip_path is not None else dest.parent / f"{dest.name}.zip"
    if not zip_path.is_file():
        download(url, zip_path, sha256=sha256, **download_kwargs)
    if not zipfile.is_zipfile(zip_path):
        zip_path.unlink()
        raise InputDataError(
            f"{url}: the server did not return a zip (a licence or login page?); download it from "
            f"{CATALOGUE_URL} and set camels_gb.path to the unzipped folder"
        )
    with (
        atomic_output(dest) as staged,
        tempfile.TemporaryDirectory(dir=dest.parent, prefix=".tmp-camels-") as extracted,
    ):
        safe_extract(zip_path, extracted)
        normalise_layout(extracted, staged)
    if not keep_zip:
        zip_path.unlink()
    return dest
