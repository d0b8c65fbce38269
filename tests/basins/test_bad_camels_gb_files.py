"""The rule build_basin_dataset, run as Snakemake runs its script, on a CAMELS-GB folder with one
thing wrong: the job stops with one line naming the file (and date or basin), and writes nothing."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.io import write_zarr_atomic

ROOT = Path(__file__).resolve().parents[2]
CAMELS = ROOT / "tests" / "data" / "camels_gb"
BASINS = [96004, 97002]
PERIODS = {
    "train": ["1990-01-01", "1991-12-31"],
    "validation": ["1992-01-01", "1992-12-31"],
    "test": ["1993-01-01", "1994-12-31"],
}


def _run_build(tmp_path: Path, camels: Path) -> Path:
    era5_basins = tmp_path / "results" / "era5_land_basins.zarr"
    time = pd.date_range("1989-01-01", "1995-12-31")
    series = np.random.default_rng(0).uniform(0.2, 0.4, (len(BASINS), time.size)).astype(np.float32)
    write_zarr_atomic(
        xr.Dataset(
            {"swvl1": (("basin", "time"), series)},
            coords={"basin": np.array(BASINS, dtype=np.int32), "time": time},
        ),
        era5_basins,
    )
    out = tmp_path / "results" / "basin_dataset.zarr"
    snakemake = SimpleNamespace(
        input=SimpleNamespace(camels_gb=str(camels), era5_basins=str(era5_basins)),
        output=[str(out)],
        log=[str(tmp_path / "logs" / "build_basin_dataset.log")],
        params=SimpleNamespace(
            basins=BASINS,
            dynamic_inputs=["precipitation", "temperature"],
            target="discharge_spec",
            static_inputs=["p_mean", "grass_perc"],
            periods=PERIODS,
            probe_targets=["swvl1"],
            caravan_layout="csv",
        ),
        rule="build_basin_dataset",
        threads=1,
    )
    runpy.run_path(
        str(ROOT / "workflow_scripts" / "build_basin_dataset.py"), init_globals={"snakemake": snakemake}
    )
    return out


def _fails(tmp_path: Path, camels: Path) -> str:
    with pytest.raises(SystemExit) as exit_:
        _run_build(tmp_path, camels)
    assert exit_.value.code == 1
    last = (tmp_path / "logs" / "build_basin_dataset.log").read_text().splitlines()[-1]
    assert last.startswith(f"ERROR {InputDataError.__name__}: "), last
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["era5_land_basins.zarr"]
    return last.split(": ", 1)[1]


@pytest.fixture
def camels(tmp_path):
    root = tmp_path / "camels"
    shutil.copytree(CAMELS, root)
    return root


def test_the_fixture_builds(tmp_path, camels):
    dataset = xr.open_zarr(_run_build(tmp_path, camels), consolidated=False)
    assert dataset["p_mean"].values.tolist() == pytest.approx([6.92, 2.97])


def test_a_repeated_day_stops_the_job_naming_file_and_date(tmp_path, camels):
    path = next((camels / "timeseries").glob("*_97002_*.csv"))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:7001] + lines[7000:]) + "\n")  # line 7001 twice
    assert _fails(tmp_path, camels) == f"{path}: date 1989-11-29 appears more than once (lines 7001 and 7002)"


def test_a_basin_missing_from_an_attribute_file_stops_the_job_naming_it(tmp_path, camels):
    path = camels / "CAMELS_GB_climatic_attributes.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("97002,")) + "\n")
    assert _fails(tmp_path, camels) == f"basin 97002 missing from {path} (static attribute 'p_mean')"
