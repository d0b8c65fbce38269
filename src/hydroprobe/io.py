"""Writing outputs so that a half-written one never looks complete.

Each writer puts the data under a temporary name beside the target and renames it into place
only once it is whole; a crash leaves at most a `.tmp-*` leftover, never a partial target, and
the next write of the same target removes that leftover. A disk that is full or a folder that
cannot be written fails the write with one line naming the target.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import time
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import xarray as xr

LOG = logging.getLogger(__name__)

# The errors that mean "this output cannot be written here", each with what the user can do.
_WRITE_FAILURES = {
    errno.ENOSPC: "free space on that disk (or run the workflow elsewhere), then rerun",
    errno.EDQUOT: "free space within your disk quota (or run the workflow elsewhere), then rerun",
    errno.EFBIG: "the file is larger than this file system allows; run the workflow elsewhere",
    errno.EROFS: "the file system is read-only; run the workflow where it can write",
    errno.EACCES: "make the folder writable for this user (or run the workflow elsewhere), then rerun",
    errno.EPERM: "make the folder writable for this user (or run the workflow elsewhere), then rerun",
}
# Errors that carry no file name (a write() to an open file) are the target's only for these.
_UNNAMED_WRITE_FAILURES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
# Less free space than this, when a library reports a write failure without its errno, is a full disk.
_FULL_DISK_BYTES = 1 << 20


class OutputWriteError(OSError):
    """An output could not be written (disk full, no permission, read-only file system).

    Keeps the errno of the underlying `OSError`; its text is one line naming the target and
    what to do."""

    def __str__(self) -> str:
        return str(self.strerror)


def _temporary_sibling(path: Path) -> Path:
    return path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")


def _is_temporary_of(name: str, target: Path) -> bool:
    return re.fullmatch(rf"\.tmp-[0-9a-f]{{8}}-{re.escape(target.name)}", name) is not None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _discard(tmp: Path) -> None:
    """Remove a failed write's temporary. A zarr store's chunks are written concurrently and
    those still in flight when one fails land after it (in the room its removal frees on a full
    disk), so a folder is removed again until it stays away."""
    for settle_s in (0.05, 0.2, 0.5) if tmp.is_dir() else ():
        with contextlib.suppress(OSError):
            _remove(tmp)
        time.sleep(settle_s)
    if tmp.exists() or tmp.is_symlink():
        with contextlib.suppress(OSError):
            _remove(tmp)


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the `.tmp-*` leftovers of earlier writes of ``path`` (a killed job's half-written
    output) and return them. A target has one writer at a time (Snakemake's directory lock and
    its DAG see to that), so such a leftover is never live; the temporaries of other targets in
    the same folder are left alone."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    stale = [p for p in path.parent.iterdir() if _is_temporary_of(p.name, path)]
    for leftover in stale:
        _remove(leftover)
        LOG.info("removed %s, left behind by an interrupted write of %s", leftover, path)
    return stale


def _about_output(err: OSError, path: Path, tmp: Path) -> bool:
    """Whether a write failure concerns the output: it names the target, its temporary (or a file
    inside them) or a folder above the target; or it names no file and means a full disk."""
    names = [Path(os.fsdecode(n)) for n in (err.filename, err.filename2) if n is not None]
    if not names:
        return err.errno in _UNNAMED_WRITE_FAILURES
    ours = (path.absolute(), tmp.absolute())
    above = path.absolute().parents
    for name in (n.absolute() for n in names):
        if name in above or any(name == p or p in name.parents for p in ours):
            return True
    return False


@contextmanager
def _naming_the_target(path: Path, tmp: Path):
    """Turn a disk-full or permission error while writing ``path`` into one line naming it."""
    try:
        yield
    except OSError as err:
        if err.errno not in _WRITE_FAILURES or isinstance(err, OutputWriteError):
            raise
        if not _about_output(err, path, tmp):
            raise
        reason = err.strerror or os.strerror(err.errno)
        raise OutputWriteError(
            err.errno, f"cannot write {path}: {reason} - {_WRITE_FAILURES[err.errno]}"
        ) from err


@contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary sibling of ``path`` to write to (a file or a folder, not yet created);
    it replaces ``path`` only when the block completes, and is removed if the block raises, so a
    half-written output never looks complete. Leftover temporaries of ``path`` from an earlier,
    interrupted write are removed first. A block that writes nothing raises `FileNotFoundError`
    and leaves ``path`` as it was; a full disk or a folder without write permission raises
    `OutputWriteError` naming ``path``."""
    path = Path(path)
    tmp = _temporary_sibling(path)
    try:
        with _naming_the_target(path, tmp):
            path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(path)
            yield tmp
            if not tmp.exists():
                raise FileNotFoundError(f"{path}: nothing was written to its temporary {tmp.name}")
            if path.exists() or path.is_symlink():
                _remove(path)
            os.replace(tmp, path)
    finally:
        if tmp.exists() or tmp.is_symlink():
            _discard(tmp)


def write_zarr_atomic(ds: xr.Dataset, path: str | os.PathLike, **to_zarr_kwargs) -> Path:
    """Write `ds` to a zarr store at `path`, replacing it only when the write has finished."""
    with atomic_output(path) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False, **to_zarr_kwargs)
    return Path(path)


def write_netcdf_atomic(ds: xr.Dataset, path: str | os.PathLike, **to_netcdf_kwargs) -> Path:
    """Write `ds` to a NetCDF file at `path`, moved into place only when complete."""
    with atomic_output(path) as tmp:
        try:
            ds.to_netcdf(tmp, **to_netcdf_kwargs)
        except RuntimeError as err:
            # netCDF-C reports a full disk as a bare "NetCDF: HDF error", without the errno
            if shutil.disk_usage(tmp.parent).free >= _FULL_DISK_BYTES:
                raise
            raise OutputWriteError(
                errno.ENOSPC,
                f"cannot write {path}: {err}, its disk is full - {_WRITE_FAILURES[errno.ENOSPC]}",
            ) from err
    return Path(path)


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike, **to_csv_kwargs) -> Path:
    """Write `df` as CSV at `path` (no index unless asked), moved into place when complete."""
    to_csv_kwargs.setdefault("index", False)
    with atomic_output(path) as tmp:
        df.to_csv(tmp, **to_csv_kwargs)
    return Path(path)


def open_zarr(path: str | os.PathLike) -> xr.Dataset:
    """Open a zarr store written by `write_zarr_atomic` (lazy, dask-backed).

    Snakemake drops a `.snakemake_timestamp` file into directory outputs; zarr warns that it
    is not part of the hierarchy, which is harmless, so that warning is silenced here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*snakemake_timestamp.*")
        return xr.open_zarr(path, consolidated=False)
