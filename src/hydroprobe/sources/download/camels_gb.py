"""Download, safely unzip and normalise CAMELS-GB v1 (Coxon et al. 2020, EIDC).

The data package of DOI 10.5285/8344e4f3-d2ea-44f5-8afa-86d2987543a9 is published as one
zip (~256 MB) at `CAMELS_GB_URL`. The EIDC asks users to accept its licence (Open Government
Licence v3); where the direct address answers with a web page instead of the zip, download it
by hand from the catalogue page and point ``camels_gb.path`` at the unzipped copy.

`CAMELS_GB_SHA256` is ``None``: a public config records
``de33e2731d7285423801db723acbd0c8d97c1505b3d184830032c755a341742c`` for this zip, a hash not
checked against the EIDC's file, so no hash is enforced by default (pass ``sha256=`` to enforce
one). The download, the size check and the safe unzip are those of `transfer`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hydroprobe.errors import InputDataError
from hydroprobe.io import atomic_output
from hydroprobe.sources.download.transfer import download, safe_extract_zip

CAMELS_GB_DOI = "10.5285/8344e4f3-d2ea-44f5-8afa-86d2987543a9"
CAMELS_GB_URL = "https://data-package.ceh.ac.uk/data/8344e4f3-d2ea-44f5-8afa-86d2987543a9.zip"
CAMELS_GB_SHA256: str | None = None  # unverified candidate: de33e273...5a341742c (see module doc)
CATALOGUE_URL = "https://catalogue.ceh.ac.uk/documents/8344e4f3-d2ea-44f5-8afa-86d2987543a9"

TIMESERIES_DIR = "timeseries"
BOUNDARIES_DIR = "CAMELS_GB_catchment_boundaries"
ATTRIBUTE_GLOB = "CAMELS_GB_*_attributes.csv"


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
        safe_extract_zip(zip_path, extracted)
        normalise_layout(extracted, staged)
    if not keep_zip:
        zip_path.unlink()
    return dest
