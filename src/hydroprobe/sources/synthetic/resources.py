"""What generating a synthetic world asks of a scheduler: rule generate_synthetic_world's mem_mb
and runtime, sized from the config's ``synthetic`` settings as hydroprobe.job_resources sizes
the other rules. Import-light (the Snakefile reads it at parse time).

The generator holds a few float64 fields per land cell and day (the forcing, the runoff, the
soil layers): memory and time grow with land cells x simulated days. Measured with
benchmarks/scale_gb_world.py on the Great-Britain world (3,660 land cells, 45 years): peak RSS
5.2 GB, 280 CPU-s, 690 s wall on a busy 2-core machine.
"""

from __future__ import annotations

import math

import pandas as pd

LAND_CELLS = {"ne_scotland": 258, "great_britain": 3660}
FIXED_MB = 600  # the interpreter, numpy, shapely, xarray, the catchment polygons
BYTES_PER_CELL_DAY = 84  # peak RSS above FIXED_MB / (land cells x days): 81 measured
SECONDS_PER_CELL_DAY = 1.1e-5  # wall time of the whole generation / (land cells x days)
FIXED_SECONDS = 60
MEMORY_MARGIN = 1.3
MIN_MEMORY_MB = 2000
MIN_RUNTIME_MIN = 30


def _cell_days(settings: dict) -> int:
    days = (pd.Timestamp(settings["end"]) - pd.Timestamp(settings["start"])).days + 1
    return LAND_CELLS[settings["region"]] * days


def mem_mb(settings: dict) -> int:
    """The job's memory request (MB, whole GB): the generator's peak with a margin."""
    needed = (FIXED_MB + _cell_days(settings) * BYTES_PER_CELL_DAY / 2**20) * MEMORY_MARGIN
    return max(MIN_MEMORY_MB, math.ceil(needed / 1000) * 1000)


def runtime_min(settings: dict) -> int:
    """The job's time limit (minutes), twice the measured time."""
    seconds = FIXED_SECONDS + _cell_days(settings) * SECONDS_PER_CELL_DAY
    return max(MIN_RUNTIME_MIN, math.ceil(2 * seconds / 60))
