"""The source paths of a run, from its config: what the rules list and what the scripts open."""

from __future__ import annotations

from pathlib import Path

import pytest

from hydroprobe.errors import InputDataError
from hydroprobe.sources import paths


def _config(source, camels=None, era5=None, caravan=None, mode="hourly", years=(2000, 2001)):
    return {
        "source": source,
        "camels_gb": {"path": camels},
        "caravan": {"path": caravan},
        "era5_land": {
            "path": era5,
            "variables": ["swvl1", "sd"],
            "download": {"mode": mode, "years": list(years)},
        },
    }


@pytest.mark.parametrize(
    "config,camels,era5",
    [
        (_config("synthetic"), "resources/synthetic/camels_gb", "resources/synthetic/era5_land"),
        (_config("local", "/data/camels", "/data/era5"), "/data/camels", "/data/era5"),
        (_config("download"), paths.CAMELS_GB_DOWNLOAD_DIR, paths.ERA5_LAND_DOWNLOAD_DIR),
        (_config("download", "/data/camels"), "/data/camels", paths.ERA5_LAND_DOWNLOAD_DIR),
        (_config("download", None, "/data/era5"), paths.CAMELS_GB_DOWNLOAD_DIR, "/data/era5"),
    ],
)
def test_folders_by_source(config, camels, era5):
    assert paths.camels_gb_dir(config) == camels
    assert paths.era5_land_dir(config) == era5
    # the scripts find the folder the rules' input stands for
    assert paths.era5_land_input_dir(paths.era5_land_input(config)) == era5


def test_downloaded_era5_land_is_one_file_per_request():
    hourly = paths.era5_land_input(_config("download"))
    assert len(hourly) == 2 * 2 * 12
    assert hourly[0] == f"{paths.ERA5_LAND_DOWNLOAD_DIR}/swvl1/era5_land_swvl1_200001.nc"
    assert hourly[-1] == f"{paths.ERA5_LAND_DOWNLOAD_DIR}/sd/era5_land_sd_200112.nc"
    daily = paths.era5_land_input(_config("download", mode="daily"))
    assert daily == [
        f"{paths.ERA5_LAND_DOWNLOAD_DIR}/{v}/era5_land_{v}_{y}.nc"
        for v in ("swvl1", "sd")
        for y in (2000, 2001)
    ]
    assert paths.era5_land_input(_config("download", era5="/data/era5")) == "/data/era5"


@pytest.mark.parametrize("mode, per_job", [("hourly", 12), ("daily", 1)])
def test_one_download_job_per_variable_year(mode, per_job):
    config = _config("download", mode=mode, years=(1980, 2018))
    jobs = paths.era5_land_jobs(config)
    assert len(jobs) == 2 * 39 and jobs[0] == ("swvl1", 1980) and jobs[-1] == ("sd", 2018)
    files = paths.era5_land_job_files(paths.ERA5_LAND_DOWNLOAD_DIR, "sd", 2018, mode)
    assert len(files) == per_job and str(files[-1]) == paths.era5_land_input(config)[-1]
    # the rule's output patterns: the same names with the wildcards in place
    patterns = [str(p) for p in paths.era5_land_job_files("era5", "{short}", "{year}", mode)]
    last = "era5/{short}/era5_land_{short}_{year}" + ("12" if mode == "hourly" else "") + ".nc"
    assert len(patterns) == per_job and patterns[-1] == last


def test_era5_land_file(tmp_path):
    assert (
        paths.era5_land_file(tmp_path, "swvl1", 1995, 1) == tmp_path / "swvl1" / "era5_land_swvl1_199501.nc"
    )
    assert paths.era5_land_file(tmp_path, "sd", 1995) == tmp_path / "sd" / "era5_land_sd_1995.nc"


def test_era5_land_input_dir_of_files_in_two_folders():
    assert paths.era5_land_input_dir(Path("/data/era5")) == "/data/era5"
    with pytest.raises(InputDataError, match="2 folders"):
        paths.era5_land_input_dir(["a/swvl1/x.nc", "b/sd/y.nc"])


def test_what_is_downloaded():
    assert paths.downloads_caravan(_config("caravan"))
    assert not paths.downloads_caravan(_config("caravan", caravan="/data/caravan"))
    assert paths.caravan_dir(_config("caravan")) == paths.CARAVAN_DOWNLOAD_DIR
    assert paths.caravan_dir(_config("caravan", caravan="/data/caravan")) == "/data/caravan"
    assert paths.downloads_camels_gb(_config("download"))
    assert not paths.downloads_camels_gb(_config("local", "/data/camels", "/data/era5"))
    assert paths.downloads_era5_land(_config("download", "/data/camels"))
    assert not paths.downloads_era5_land(_config("synthetic"))
