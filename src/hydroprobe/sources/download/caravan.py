"""Caravan (Kratzert et al. 2023, CC-BY-4.0) from its Zenodo record.

The record's file list comes from the Zenodo REST API (``/api/records/<id>``: ``files``, each
with ``key``, ``size``, ``checksum`` ``"md5:<hex>"`` and ``links.self``, the file's bytes), so
nothing about the archive's name or hash is hard-coded. The archive (zip, or tar compressed
with gzip or xz) is downloaded through a temporary file, checked against that size and md5,
extracted safely into a temporary folder beside the destination, and the folder holding
``attributes/`` and ``timeseries/<layout>/`` is moved into place only when complete (see
`fetch_caravan` for what a rerun does with an archive left by a stopped run).

Since version 1.4 the netCDF and csv time series come as separate archives, and since 1.6 in
separate records; `CARAVAN_RECORDS` holds the records of the current release (1.6, May 2025:
``Caravan-csv.tar.gz`` and ``Caravan-nc.tar.gz`` beside ``Caravan-code.zip``), found in public
code and dataset lists, not checked against Zenodo from here. ``caravan.zenodo_record`` selects
another version (e.g. 7944025, version 1.2, one ``Caravan.zip`` holding both layouts). A whole
archive is large (15-25 GB), so a local copy via ``caravan.path`` is often the better choice.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydroprobe.errors import InputDataError
from hydroprobe.io import atomic_output
from hydroprobe.sources.download.transfer import download, file_mismatch, require_archive, safe_extract

ZENODO_API = "https://zenodo.org/api/records/{record}"
CARAVAN_VERSION = "1.6"
CARAVAN_RECORDS = {"csv": "15530022", "netcdf": "15529786"}
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar")
# words in an archive's name that say which time-series layout it holds
LAYOUT_WORDS = {"csv": {"csv"}, "netcdf": {"nc", "netcdf"}}
NOT_DATA_WORDS = {"code"}  # Caravan-code.zip: the scripts that built the dataset


def record_files(
    record: str,
    opener: Callable[..., Any] = urllib.request.urlopen,
    timeout: float = 60,
    api: str | None = None,
) -> list[dict]:
    """The files of a Zenodo record: dicts with `name`, `url`, `size`, `checksum`.

    ``api`` is the record's address pattern (default `ZENODO_API`, read at call time).
    """
    url = (api or ZENODO_API).format(record=record)
    try:
        with opener(url, timeout=timeout) as response:
            meta = json.load(response)
    except Exception as err:
        raise InputDataError(f"{url}: cannot read the Zenodo record ({err})") from None
    entries = meta.get("files") if isinstance(meta, dict) else None
    if isinstance(entries, dict):  # the files endpoint's form: {"entries": [...]}
        entries = entries.get("entries")
    files = []
    for entry in entries or []:
        links = entry.get("links") or {}
        name = entry.get("key") or entry.get("filename")
        # the bytes: "content" where the entry has it (the files endpoint, whose "self" is the
        # entry's metadata), else "self" (the record endpoint's link to the content)
        link = links.get("content") or links.get("download") or links.get("self")
        if name and link:
            size = entry.get("size", entry.get("filesize"))
            files.append({"name": name, "url": link, "size": size, "checksum": entry.get("checksum")})
    if not files:
        raise InputDataError(f"{url}: the Zenodo record lists no files")
    return files


def _words(name: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", name.lower()))


def choose_archive(
    files: list[dict], layout: str = "csv", filename: str | None = None, record: str = "?"
) -> dict:
    """The archive to fetch: `filename` if given, else the one data archive whose name says the
    layout (`csv`, or `nc`/`netcdf`), else the one data archive if its name names no layout
    (version 1.2's ``Caravan.zip`` holds both)."""
    names = [f["name"] for f in files]
    if filename:
        for f in files:
            if f["name"] == filename:
                return f
        raise InputDataError(f"Zenodo record {record} has no file {filename!r}; it has {names}")
    if layout not in LAYOUT_WORDS:
        raise InputDataError(f"config key 'caravan.layout': {layout!r} unknown (csv or netcdf)")
    archives = [
        f
        for f in files
        if f["name"].lower().endswith(ARCHIVE_SUFFIXES) and not _words(f["name"]) & NOT_DATA_WORDS
    ]
    matching = [f for f in archives if _words(f["name"]) & LAYOUT_WORDS[layout]]
    if len(matching) == 1:
        return matching[0]
    other = next(o for o in LAYOUT_WORDS if o != layout)
    if not matching and archives and all(_words(f["name"]) & LAYOUT_WORDS[other] for f in archives):
        raise InputDataError(
            f"Zenodo record {record} holds the {other} Caravan archive {[f['name'] for f in archives]}, "
            f"not {layout}; set caravan.layout: {other}, or caravan.zenodo_record to a {layout} record"
        )
    if not matching and len(archives) == 1:
        return archives[0]
    raise InputDataError(
        f"Zenodo record {record}: cannot tell which Caravan archive to fetch among {names}; set caravan.archive"
    )


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
    record: str | None = None,
    layout: str = "csv",
    archive: str | None = None,
    opener: Callable[..., Any] = urllib.request.urlopen,
    log: Any = None,
) -> Path:
    """Download Caravan's archive from Zenodo and unpack it so that `dest` is the Caravan folder.

    `record` is the Zenodo record (None: the current release's record of `layout`, see
    `CARAVAN_RECORDS`); `archive` names the record's file to fetch (config ``caravan.archive``),
    None picks it by `layout` (see `choose_archive`).

    The archive lands beside `dest`, under its name in the record, only once it is complete and
    matches the listed size and md5; it is unpacked in a temporary folder there, and the Caravan
    folder is moved into place only when complete; `dest` must not exist or be empty. The
    archive is removed after success. A run stopped after the download (killed, disk full)
    leaves it, and the next run reuses it if it still matches the listing (it is tens of GB),
    downloading it again otherwise; an archive whose contents are refused (not an archive, an
    unsafe entry, no Caravan folder of the layout) is removed at once, so a rerun downloads it
    afresh.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise InputDataError(f"{dest}: exists and is not empty; remove it or set caravan.path to it")
    record = record or CARAVAN_RECORDS.get(layout)
    if record is None:
        raise InputDataError(f"config key 'caravan.layout': {layout!r} unknown (csv or netcdf)")
    chosen = choose_archive(record_files(record, opener), layout, archive, record)
    url, size, checksum = chosen["url"], chosen.get("size"), chosen.get("checksum")
    dest.parent.mkdir(parents=True, exist_ok=True)
    kept = dest.parent / chosen["name"]
    if kept.is_file():
        problem = file_mismatch(kept, size=size, checksum=checksum)
        if log is not None:
            log.info("%s from an earlier run: %s", kept, problem or "matches the listing, reused")
        if problem is not None:
            kept.unlink()
    if not kept.is_file():
        download(url, kept, opener=opener, size=size, checksum=checksum)
    try:
        require_archive(kept, url)
        with (
            atomic_output(dest) as staged,
            tempfile.TemporaryDirectory(dir=dest.parent, prefix=".tmp-caravan-") as work,
        ):
            unpacked = safe_extract(kept, Path(work) / "unpacked")
            _caravan_folder(unpacked, layout, url).rename(staged)
    except InputDataError as err:
        kept.unlink(missing_ok=True)
        raise InputDataError(f"{err} (removed {kept.name}: the next run downloads it again)") from None
    kept.unlink()
    return dest


def _caravan_folder(unpacked: Path, layout: str, url: str) -> Path:
    """The Caravan folder inside an unpacked archive, holding ``timeseries/<layout>/``."""
    root = find_caravan_root(unpacked)
    if root is None:
        raise InputDataError(f"{url}: no folder with attributes/ and timeseries/ inside")
    if not (root / "timeseries" / layout).is_dir():
        held = sorted(p.name for p in (root / "timeseries").iterdir() if p.is_dir())
        raise InputDataError(
            f"{url}: the archive has timeseries/{{{','.join(held)}}}/, not timeseries/{layout}/; "
            "set caravan.layout to match"
        )
    return root
