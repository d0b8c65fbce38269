"""Benchmark: generate the Great-Britain synthetic world of configs/scale_gb.yaml and measure it.

Runs what rule generate_synthetic_world runs (``generate_world`` with the preset's ``synthetic``
settings, or the ones given here) in this process and prints its wall and CPU seconds, the
peak RSS (VmHWM), the time of each phase (landscape, catchments, then weather + hydrology
year by year with each year's ERA5-Land files; then the CAMELS-GB files and the truth), the disk size of camels_gb/, era5_land/ and truth.nc, and the world's size: basins
(by kind), land cells, years simulated and ERA5-Land years written.

    python benchmarks/scale_gb_world.py                              # the preset's world, ~670 basins, 45 years
    python benchmarks/scale_gb_world.py --start 1990-10-01 --end 1995-09-30 --era5-years 1991 1994
    python benchmarks/scale_gb_world.py --keep /tmp/gb_world         # keep the files
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import peak_rss_mb  # noqa: E402  (benchmarks/ is not a package)

ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "configs" / "scale_gb.yaml"


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def disk_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def main(argv=None) -> int:
    preset = yaml.safe_load(PRESET.read_text())["synthetic"]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=preset.get("seed", 20220531))
    ap.add_argument("--basins", type=int, default=preset.get("n_basins"))
    ap.add_argument("--start", default=preset.get("start", "1970-10-01"))
    ap.add_argument("--end", default=preset.get("end", "2015-09-30"))
    ap.add_argument("--era5-years", type=int, nargs=2, default=preset["era5_years"])
    ap.add_argument("--keep", help="write the world here and keep it (default: a temporary folder)")
    a = ap.parse_args(argv)

    from hydroprobe.sources.synthetic.world import build_world, era5_writer, write_world

    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="hydroprobe-gb-world-"))
    try:
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), cpu_seconds()
        # as generate_world (the rule) builds it
        writer = era5_writer(root, a.era5_years)
        world = build_world(
            a.seed, a.start, a.end, "great_britain", a.basins, keep_fields=False, on_span=writer
        )
        t1, c1 = time.perf_counter(), cpu_seconds()
        rss_built = peak_rss_mb()
        write_world(world, root)
        t2, c2 = time.perf_counter(), cpu_seconds()
        kinds = pd.Series([c.kind for c in world.catchments]).value_counts().to_dict()
        years = len(world.dates) / 365.25
        print(
            f"Great-Britain world (seed {a.seed}): {len(world.basins)} basins {kinds}, "
            f"{int(world.grid.land.sum())} land cells of {world.grid.land.size}, "
            f"{a.start}...{a.end} ({years:.1f} years, {len(world.dates)} days), "
            f"ERA5-Land {a.era5_years[0]}-{a.era5_years[1]}"
        )
        print(f"load average {load0:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        print(
            f"build (landscape, catchments, weather, hydrology, ERA5-Land): {t1 - t0:7.1f} s wall {c1 - c0:7.1f} s CPU"
        )
        print(
            f"write (CAMELS-GB, truth):                                  {t2 - t1:7.1f} s wall {c2 - c1:7.1f} s CPU"
        )
        print(
            f"total {t2 - t0:.1f} s wall, {c2 - c0:.1f} s CPU, peak RSS {peak_rss_mb():.0f} MB "
            f"({rss_built:.0f} MB when built)"
        )
        print(
            f"disk: camels_gb/ {disk_mb(root / 'camels_gb'):.0f} MB, era5_land/ {disk_mb(root / 'era5_land'):.0f} MB, "
            f"truth.nc {disk_mb(root / 'truth.nc'):.0f} MB"
        )
    finally:
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
