"""Writing outputs so that a half-written one never looks complete.

Each writer puts the data under a temporary name beside the target and renames it into place
only once it is whole; a crash leaves at most a `.tmp-*` leftover, never a partial target.
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import xarray as xr


def _temporary_sibling(path: Path) -> Path:
    return path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")


def _replace(tmp: Path, path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    os.replace(tmp, path)


@contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary sibling of ``path`` to write to (a file or a folder, not yet created);
    it replaces ``path`` only when the block completes, and is removed if the block raises, so a
    half-written output never looks complete. A block that writes nothing raises
    `FileNotFoundError` and leaves ``path`` as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_sibling(path)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{path}: nothing was written to its temporary {tmp.name}")
        _replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink()


def write_zarr_atomic(ds: xr.Dataset, path: str | os.PathLike, **to_zarr_kwargs) -> Path:
    """Write `ds` to a zarr store at `path`, replacing it only when the write has finished."""
    with atomic_output(path) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False, **to_zarr_kwargs)
    return Path(path)


def write_netcdf_atomic(ds: xr.Dataset, path: str | os.PathLike, **to_netcdf_kwargs) -> Path:
    """Write `ds` to a NetCDF file at `path`, moved into place only when complete."""
    with atomic_output(path) as tmp:
        ds.to_netcdf(tmp, **to_netcdf_kwargs)
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
