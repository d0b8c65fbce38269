"""Download, safely unzip and normalise CAMELS-GB v1 (Coxon et al. 2020, EIDC).

The data package of DOI 10.5285/8344e4f3-d2ea-44f5-8afa-86d2987543a9 is published as one
zip (~256 MB) at `CAMELS_GB_URL`. Inside, everything sits under a folder named by the UUID
(once or twice nested), with the data in ``data/`` and the documentation in
``supporting-documents/``; the catchment boundaries come as a zip of their own,
``data/CAMELS_GB_catchment_boundaries.zip``, with the shapefile set at its root. Both forms of
the boundaries, that inner zip or an already unpacked ``CAMELS_GB_catchment_boundaries/``
folder, are accepted; the inner zip is unpacked under the same safety rules as the outer one.

The EIDC asks users to accept its licence (Open Government Licence v3); where the direct
address answers with a web page instead of the zip, download it by hand from the catalogue
page and point ``camels_gb.path`` at the unzipped copy.

`CAMELS_GB_SHA256` is ``None``: a public config records
``de33e2731d7285423801db723acbd0c8d97c1505b3d184830032c755a341742c`` for this zip, a hash not
checked against the EIDC's file, so no hash is enforced by default (``camels_gb.download.sha256``
enforces one). The download, the size check and the safe unzip are those of `transfer`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hydroprobe.errors import InputDataError
from hydroprobe.io import atomic_output
from hydroprobe.sources.download.transfer import (
    download,
    file_mismatch,
    require_archive,
    safe_extract_zip,
    verify_zip,
)

CAMELS_GB_DOI = "10.5285/8344e4f3-d2ea-44f5-8afa-86d2987543a9"
CAMELS_GB_URL = "https://data-package.ceh.ac.uk/data/8344e4f3-d2ea-44f5-8afa-86d2987543a9.zip"
CAMELS_GB_SHA256: str | None = None  # unverified candidate: de33e273...5a341742c (see module doc)
CATALOGUE_URL = "https://catalogue.ceh.ac.uk/documents/8344e4f3-d2ea-44f5-8afa-86d2987543a9"

TIMESERIES_DIR = "timeseries"
BOUNDARIES_DIR = "CAMELS_GB_catchment_boundaries"
BOUNDARIES_ZIP = f"{BOUNDARIES_DIR}.zip"
BOUNDARIES_SHP = f"{BOUNDARIES_DIR}.shp"
ATTRIBUTE_GLOB = "CAMELS_GB_*_attributes.csv"


def _find_data_root(root: Path) -> Path | None:
    candidates = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if TIMESERIES_DIR in dirs and any(Path(f).match(ATTRIBUTE_GLOB) for f in files):
            candidates.append(here)
    return min(candidates, key=lambda p: len(p.parts)) if candidates else None


def unpack_boundaries(data: str | os.PathLike) -> Path:
    """Make sure ``data`` holds ``CAMELS_GB_catchment_boundaries/CAMELS_GB_catchment_boundaries.shp``.

    A folder already there is kept; otherwise ``CAMELS_GB_catchment_boundaries.zip`` is unpacked
    safely into it (its shapefile set at the zip's root, or inside one folder of that name) and
    the inner zip removed. Raises `InputDataError` naming the folder or zip at fault.
    """
    data = Path(data)
    folder, inner = data / BOUNDARIES_DIR, data / BOUNDARIES_ZIP
    if (folder / BOUNDARIES_SHP).is_file():
        return folder
    if folder.exists():
        raise InputDataError(f"{folder}: CAMELS-GB boundaries folder lacks {BOUNDARIES_SHP}")
    if not inner.is_file():
        raise InputDataError(f"{data}: CAMELS-GB folder lacks {BOUNDARIES_DIR}/ and {BOUNDARIES_ZIP}")
    with atomic_output(folder) as staged:
        unpacked = safe_extract_zip(inner, staged.with_name(staged.name + "-unpacked"))
        try:
            shp = min(unpacked.rglob(BOUNDARIES_SHP), key=lambda p: len(p.parts), default=None)
            if shp is None:
                raise InputDataError(f"{inner}: no {BOUNDARIES_SHP} inside")
            shp.parent.rename(staged)
        finally:
            shutil.rmtree(unpacked, ignore_errors=True)
    inner.unlink()
    return folder


def normalise_layout(extracted_root: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Move the CAMELS-GB data folder (however deeply nested, e.g. the EIDC zip's
    ``<uuid>/data/`` or ``<uuid>/<uuid>/data/``) so that ``dest`` holds the v1 layout:
    ``timeseries/``, ``CAMELS_GB_*_attributes.csv`` and ``CAMELS_GB_catchment_boundaries/``
    (unpacked from the inner boundaries zip where the archive ships that).

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
    if not any((data / TIMESERIES_DIR).glob("CAMELS_GB_hydromet_timeseries_*.csv")):
        raise InputDataError(f"{data / TIMESERIES_DIR}: no CAMELS_GB_hydromet_timeseries_*.csv")
    unpack_boundaries(data)
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
    url: str | None = None,
    sha256: str | None = CAMELS_GB_SHA256,
    zip_path: str | os.PathLike | None = None,
    keep_zip: bool = False,
    log: Any = None,
    **download_kwargs: Any,
) -> Path:
    """Download the zip (``url``, default `CAMELS_GB_URL`), extract it safely and normalise it
    into ``dest``, which must not exist or be empty.

    The normalised folder is assembled beside ``dest`` and moved into place only when complete.
    The zip (``zip_path``, default ``<dest>.zip`` beside ``dest``) lands there only once it is
    complete and matches its size and ``sha256``; a run stopped after that (killed, disk full)
    leaves it for the next run, which reuses it only if every member still matches its CRC (and
    the SHA-256 if given), and downloads it again otherwise. A zip whose contents are refused
    (not a zip, an unsafe entry, not the CAMELS-GB layout) is removed at once, so a rerun
    downloads it afresh instead of failing on the same bytes; ``keep_zip`` keeps it after success.
    """
    url = url or CAMELS_GB_URL
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputDataError(f"{dest}: destination for CAMELS-GB exists and is not empty")
    dest.parent.mkdir(parents=True, exist_ok=True)
    zip_path = Path(zip_path) if zip_path is not None else dest.parent / f"{dest.name}.zip"
    if zip_path.is_file():
        problem = verify_zip(zip_path) or file_mismatch(zip_path, sha256=sha256)
        if log is not None:
            log.info("%s from an earlier run: %s", zip_path, problem or "verified, reused")
        if problem is not None:
            zip_path.unlink()
    if not zip_path.is_file():
        download(url, zip_path, sha256=sha256, **download_kwargs)
    try:
        require_archive(zip_path, url, kinds=("zip",))
    except InputDataError as err:  # the EIDC's licence page, or another answer than the zip
        zip_path.unlink()
        raise InputDataError(
            f"{err}; download it from {CATALOGUE_URL} and set camels_gb.path to the unzipped folder"
        ) from None
    try:
        with (
            atomic_output(dest) as staged,
            tempfile.TemporaryDirectory(dir=dest.parent, prefix=".tmp-camels-") as extracted,
        ):
            safe_extract_zip(zip_path, extracted)
            try:
                normalise_layout(extracted, staged)
            except InputDataError as err:  # name the place in the zip, not the temporary folder
                inside = str(err).replace(f"{extracted}/", "")
                raise InputDataError(f"{url}: in the zip, {inside}") from None
    except InputDataError as err:
        zip_path.unlink(missing_ok=True)
        raise InputDataError(f"{err} (removed {zip_path.name}: the next run downloads it again)") from None
    if not keep_zip:
        zip_path.unlink()
    return dest
