"""Where a run's source data lie, from its validated config: one answer for the rules and scripts.

``config["source"]`` picks the data: ``synthetic`` (the embedded world, written under
`SYNTHETIC_DIR`), ``local`` (the user's CAMELS-GB and ERA5-Land folders), ``download``
(CAMELS-GB from the EIDC and ERA5-Land from the CDS, each only where its ``path`` is null) or
``caravan`` (the user's Caravan folder, or Zenodo's where ``caravan.path`` is null). A CAMELS-GB
run may take its probe targets from Caravan's camelsgb basin means instead of ERA5-Land
(``probe_target_source: caravan``): then it reads no ERA5-Land at all.

An ERA5-Land folder holds one sub-folder per variable, ``<folder>/<short>/*.nc``, the layout
`hydroprobe.sources.era5_land.open_era5_land` reads. Downloaded ERA5-Land is one file per CDS
request (`era5_land_file`: a month in hourly mode, a year in daily mode) and one download job
per variable x year (`era5_land_jobs`, writing `era5_land_job_files`): a job per month would
plan thousands of jobs for the paper's 39 years, and Snakemake's planning time grows with the
job count. The rules list those files as their input; `era5_land_input_dir` finds the folder
back from such a list.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hydroprobe.errors import InputDataError

SYNTHETIC_DIR = "resources/synthetic"
CAMELS_GB_DOWNLOAD_DIR = "resources/camels_gb"
CARAVAN_DOWNLOAD_DIR = "resources/caravan"
ERA5_LAND_DOWNLOAD_DIR = "resources/era5_land"  # daily files, the layout open_era5_land reads
# An hourly-mode job's work folder per variable-year (raw CDS months, finished daily months):
# outside the folder above, and not a Snakemake output, so it survives a failed job.
ERA5_LAND_HOURLY_DIR = "resources/era5_land_hourly"


def probe_targets_from_caravan(config: dict) -> bool:
    """Whether a CAMELS-GB run (source local or download) takes its probe targets from Caravan's
    camelsgb basin means instead of ERA5-Land grids (config ``probe_target_source: caravan``)."""
    return config["source"] in ("local", "download") and config.get("probe_target_source") == "caravan"


def uses_era5_land(config: dict) -> bool:
    """Whether the run reads ERA5-Land grids (for the probe targets and the maps' land cells)."""
    return config["source"] != "caravan" and not probe_targets_from_caravan(config)


def downloads_caravan(config: dict) -> bool:
    """Whether Caravan is downloaded from Zenodo (source caravan, or probe targets from Caravan,
    with ``caravan.path`` null)."""
    wanted = config["source"] == "caravan" or probe_targets_from_caravan(config)
    return wanted and not config["caravan"].get("path")


def downloads_camels_gb(config: dict) -> bool:
    """Whether CAMELS-GB is downloaded from the EIDC (source download, ``camels_gb.path`` null)."""
    return config["source"] == "download" and not config["camels_gb"].get("path")


def downloads_era5_land(config: dict) -> bool:
    """Whether ERA5-Land is downloaded from the CDS (source download, ``era5_land.path`` null,
    probe targets not from Caravan)."""
    return config["source"] == "download" and uses_era5_land(config) and not config["era5_land"].get("path")


def caravan_dir(config: dict) -> str:
    """The Caravan folder: the user's copy, or the one downloaded from Zenodo."""
    return config["caravan"].get("path") or CARAVAN_DOWNLOAD_DIR


def camels_gb_dir(config: dict) -> str:
    """The CAMELS-GB folder: written by the synthetic world, downloaded, or the user's own copy."""
    if config["source"] == "synthetic":
        return f"{SYNTHETIC_DIR}/camels_gb"
    if downloads_camels_gb(config):
        return CAMELS_GB_DOWNLOAD_DIR
    return config["camels_gb"]["path"]


def era5_land_dir(config: dict) -> str:
    """The run's ERA5-Land folder (one sub-folder per variable): synthetic, downloaded or the user's."""
    if config["source"] == "synthetic":
        return f"{SYNTHETIC_DIR}/era5_land"
    if downloads_era5_land(config):
        return ERA5_LAND_DOWNLOAD_DIR
    return config["era5_land"]["path"]


def era5_land_jobs(config: dict) -> list[tuple[str, int]]:
    """(short_name, year) of every download job: one per variable x year in either mode."""
    first, last = config["era5_land"]["download"]["years"]
    return [(short, year) for short in config["era5_land"]["variables"] for year in range(first, last + 1)]


def era5_land_job_files(
    era5_dir: str | os.PathLike, short_name: str, year: int | str, mode: str
) -> list[Path]:
    """The files one download job writes, one per CDS request: the year's 12 months of daily means
    (hourly mode) or the year's file (daily mode). ``short_name`` and ``year`` may be the
    wildcards ``"{short}"`` and ``"{year}"``, for the rule's output patterns."""
    months = range(1, 13) if mode == "hourly" else [None]
    return [era5_land_file(era5_dir, short_name, year, month) for month in months]


def era5_land_file(
    era5_dir: str | os.PathLike, short_name: str, year: int | str, month: int | None = None
) -> Path:
    """``<era5_dir>/<short>/era5_land_<short>_<YYYY>[<MM>].nc``: the file of one CDS request."""
    year = year if str(year).startswith("{") else f"{int(year):04d}"
    stem = f"era5_land_{short_name}_{year}" + ("" if month is None else f"{int(month):02d}")
    return Path(era5_dir) / short_name / f"{stem}.nc"


def era5_land_hourly_work_dir(short_name: str, year: int | str) -> Path:
    """``ERA5_LAND_HOURLY_DIR/<short>/<YYYY>``: where an hourly-mode job keeps its finished months."""
    return Path(ERA5_LAND_HOURLY_DIR) / short_name / str(year)


def era5_land_input(config: dict) -> str | list[str]:
    """The ERA5-Land input of a rule: the run's folder, or (downloaded) the list of its daily
    files, one per CDS request, so that each download job is a job of its own."""
    if not downloads_era5_land(config):
        return era5_land_dir(config)
    mode = config["era5_land"]["download"]["mode"]
    return [
        str(path)
        for short, year in era5_land_jobs(config)
        for path in era5_land_job_files(ERA5_LAND_DOWNLOAD_DIR, short, year, mode)
    ]


def probe_target_input(config: dict) -> dict[str, str]:
    """The input rule build_basin_dataset takes its probe targets from: the ERA5-Land basin series,
    or (probe targets from Caravan) the Caravan folder."""
    if probe_targets_from_caravan(config):
        return {"caravan": caravan_dir(config)}
    return {"era5_basins": "results/era5_land_basins.zarr"}


def era5_land_input_dir(era5_input: str | os.PathLike | Sequence[str | os.PathLike]) -> str:
    """The ERA5-Land folder of a rule's `era5_land_input`: the folder itself, or the folder
    above the variable folders of its files."""
    if isinstance(era5_input, (str, os.PathLike)):
        return str(era5_input)
    folders = {str(Path(f).parents[1]) for f in era5_input}
    if len(folders) != 1:
        raise InputDataError(
            f"ERA5-Land files lie in {len(folders)} folders ({sorted(folders)}), expected one"
        )
    return folders.pop()
