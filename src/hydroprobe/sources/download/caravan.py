"""Caravan (Kratzert et al. 2023, CC-BY-4.0) from its Zenodo record.

The record's file list comes from the Zenodo REST API (`/api/records/<id>`), which also gives
each file's size and checksum, so nothing about the archive's name or hash is hard-coded. The
archive (zip or tar.gz) is downloaded through a temporary file, checked, extracted safely into a
temporary folder beside the destination, and the folder holding `attributes/` and `timeseries/`
is moved into place only when complete.

Caravan's versions live in different Zenodo records; `CARAVAN_RECORD` (records/7944025) is the
default of ``caravan.zenodo_record``, which selects another version. A whole archive is large
(several GB; the netCDF and csv layouts may come as separate archives in later versions), so a
local copy via `caravan.path` is often the better choice.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydroprobe.errors import InputDataError
from hydroprobe.io import atomic_output
from hydroprobe.sources.download.transfer import download, safe_extract

ZENODO_API = "https://zenodo.org/api/records/{record}"
CARAVAN_RECORD = "7944025"
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")


def record_files(
    record: str, opener: Callable[..., Any] = urllib.request.urlopen, timeout: float = 60
) -> list[dict]:
    """The files of a Zenodo record: dicts with `name`, `url`, `size`, `checksum`."""
    url = ZENODO_API.format(record=record)
    try:
        with opener(url, timeout=timeout) as response:
            meta = json.load(response)
    except Exception as err:
        raise InputDataError(f"{url}: cannot read the Zenodo record ({err})") from None
    files = []
    for entry in meta.get("files") or []:
        links = entry.get("links") or {}
        # the download link: "content" (InvenioRDM), else the legacy API's "self" (also the bytes)
        link = links.get("content") or links.get("download") or links.get("self")
        if entry.get("key") and link:
            files.append(
                {
                    "name": entry["key"],
                    "url": link,
                    "size": entry.get("size"),
                    "checksum": entry.get("checksum"),
                }
            )
    if not files:
        raise InputDataError(f"{url}: the Zenodo record lists no files")
    return files


def choose_archive(files: list[dict], layout: str = "csv", filename: str | None = None) -> dict:
    """The archive to fetch: `filename` if given, else the one Caravan archive, else the one
    whose name says the layout (`csv`, or `nc`/`netcdf`)."""
    if filename:
        for f in files:
            if f["name"] == filename:
                return f
        raise InputDataError(f"Zenodo record has no file {filename!r}; it has {[f['name'] for f in files]}")
    archives = [f for f in files if f["name"].lower().endswith(ARCHIVE_SUFFIXES)]
    if len(archives) > 1:
        tags = ("nc", "netcdf") if layout == "netcdf" else ("csv",)
        named = [
            f for f in archives if any(t in f["name"].lower().replace(".", "-").split("-") for t in tags)
        ]
        archives = named or archives
    if len(archives) != 1:
        raise InputDataError(
            f"cannot tell which Caravan archive to fetch among {[f['name'] for f in files]}; set caravan.archive"
        )
    return archives[0]


def find_caravan_root(root: Path) -> Path | None:
    """The shallowest folder under `root` holding both `attributes/` and `timeseries/`."""
    candidates = [
        p
        for p in [root, *root.rglob("*")]
        if p.is_dir() and (p / "attributes").is_dir() and (p / "timeseries").is_dir()
    ]
    return min(candidates, key=lambda p: len(p.parts)) if candidates else None


def fetch_caravan(
    dest: str | os.PathLike,
    record: str = CARAVAN_RECORD,
    layout: str = "csv",
    archive: str | None = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
) -> Path:
    """Download Caravan's archive from Zenodo and unpack it so that `dest` is the Caravan folder.

    `archive` names the record's file to fetch (config ``caravan.archive``); `None` picks it by
    `layout` (see `choose_archive`).

    The archive is downloaded and unpacked in a temporary folder beside `dest`, and the Caravan
    folder is moved into place only when complete; `dest` must not exist or be empty.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise InputDataError(f"{dest}: exists and is not empty; remove it or set caravan.path to it")
    chosen = choose_archive(record_files(record, opener), layout, archive)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (
        atomic_output(dest) as staged,
        tempfile.TemporaryDirectory(dir=dest.parent, prefix=".tmp-caravan-") as work,
    ):
        downloaded = download(
            chosen["url"],
            Path(work) / chosen["name"],
            opener=opener,
            size=chosen.get("size"),
            checksum=chosen.get("checksum"),
        )
        unpacked = safe_extract(downloaded, Path(work) / "unpacked")
        root = find_caravan_root(unpacked)
        if root is None:
            raise InputDataError(f"{chosen['name']}: no folder with attributes/ and timeseries/ inside")
        root.rename(staged)
    return dest
