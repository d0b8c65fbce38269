"""What generating a synthetic world asks of a scheduler: rule generate_synthetic_world's mem_mb
and runtime, sized from the config's ``synthetic`` settings as hydroprobe.job_resources sizes
the other rules. Import-light (the Snakefile reads it at parse time).

The generator runs the weather and the hydrology a calendar year at a time and writes each
year's ERA5-Land files as it goes, so it holds the basin means of the whole period (12 float64
series per basin and day) and two (land cell x land cell) Cholesky factors of the weather's
spatial correlation, not the grid's fields. Measured with benchmarks/scale_gb_world.py on the
Great-Britain world (670 basins, 3,660 land cells, 45 years): peak RSS 1.56 GB, 214 CPU-s,
192 s wall on a 2-core machine (whole-period fields before: 5.2 GB).
"""

from __future__ import annotations

import math

import pandas as pd

LAND_CELLS = {"ne_scotland": 258, "great_britain": 3660}
BASINS = {"ne_scotland": 13, "great_britain": 670}  # great_britain: unless synthetic.n_basins says
FIXED_MB = 350  # the interpreter, numpy, shapely, xarray, the catchment polygons
BYTES_PER_BASIN_DAY = 12 * 8  # the basin series
BYTES_PER_CELL_PAIR = 2 * 8  # the two Cholesky factors
SECONDS_PER_CELL_DAY = 1.1e-5  # wall time of the whole generation / (land cells x days), busy machine
FIXED_SECONDS = 60
MEMORY_MARGIN = 1.3
MIN_MEMORY_MB = 2000
MIN_RUNTIME_MIN = 30


def _days(settings: dict) -> int:
    return (pd.Timestamp(settings["end"]) - pd.Timestamp(settings["start"])).days + 1


def mem_mb(settings: dict) -> int:
    """The job's memory request (MB, whole GB): the generator's peak with a margin."""
    region = settings["region"]
    basins = settings.get("n_basins") or BASINS[region]
    held = basins * _days(settings) * BYTES_PER_BASIN_DAY + LAND_CELLS[region] ** 2 * BYTES_PER_CELL_PAIR
    needed = (FIXED_MB + held / 2**20) * MEMORY_MARGIN
    return max(MIN_MEMORY_MB, math.ceil(needed / 1000) * 1000)


def runtime_min(settings: dict) -> int:
    """The job's time limit (minutes), twice the measured time."""
    seconds = FIXED_SECONDS + LAND_CELLS[settings["region"]] * _days(settings) * SECONDS_PER_CELL_DAY
    return max(MIN_RUNTIME_MIN, math.ceil(2 * seconds / 60))
