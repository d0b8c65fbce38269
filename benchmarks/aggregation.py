"""Benchmark: ERA5-Land to catchment means at Great-Britain scale, against a plain read of the inputs.

The synthetic world: the paper's ERA5-Land box (49.96-58.64 N, 7.57 W-1.68 E; 0.1° cell centres,
87 x 92 cells) with a coarse Great-Britain coastline (plus the part of Ireland and the Isle of Man
inside the box) as land-sea mask, sea NaN as in ERA5-Land; ``--basins`` catchment polygons centred
on land, areas log-normal around CAMELS-GB's median (~200 km², 1.5-10,000 km²), clipped to the
coastline (coastal ones overlap sea cells), about one in eight nested inside another. Written in
the formats the workflow reads with the synthetic world's own writers: the CAMELS-GB boundaries
shapefile in EPSG:27700 and ERA5-Land daily NetCDF in the new-CDS layout, one file per
variable-year; plus one month of hourly fields (the paper's download mode) in one file.

Each measurement runs in its own subprocess so that its peak RSS (VmHWM) is its own; the RSS after
its imports (xarray and dask; exactextract and zarr for hydroprobe and exactextract, netCDF4 for
the plain reads) is printed beside it. Wall and CPU seconds of the timed span only (CPU seconds are less sensitive to other
load on a shared machine; the load average is printed).

1. hydroprobe, as the workflow runs it: rule ``catchment_weights`` (``read_boundaries``,
   ``open_era5_land``, ``land_cells``, ``compute_catchment_weights``, NetCDF written) then rule
   ``aggregate_era5_land`` (``aggregate_to_basins`` with dask threads, zarr written).
2. a plain read: netCDF4 reads every file, every value touched (a sum); the limit.
3. exactextract's own ``weighted_mean`` on ``--ee-days`` days of one variable, value rasters NaN
   over sea, the spherical cell-area raster as weights: per basin
   sum(coverage·area·x) / sum(coverage·area) over the cells with data, which is hydroprobe's
   method ``exact`` (coverage x cell area, renormalised over the cells with data), so the two must
   agree to 1e-6.
4. hourly input: ``hourly_to_daily`` (what rule ``download_era5_land_hourly`` runs on each month:
   UTC daily means, written) against a plain read of the same hourly file.

    python benchmarks/aggregation.py                          # 4 years x 5 variables, ~670 basins
    python benchmarks/aggregation.py --years 39 --keep /tmp/agg39   # the paper's 1981-2019
    python benchmarks/aggregation.py --hdf5-chunk-cache-mb 1  # HDF5 caching no decompressed chunk

Disk: ~4 MB of NetCDF per variable-year (~0.8 GB at 39 years x 5 variables); ``--keep`` builds the
world once (70 s per 12 years on 2 cores) and reuses it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import peak_rss_mb  # noqa: E402  (benchmarks/ is not a package)

from hydroprobe.sources.synthetic.great_britain import (  # noqa: E402  (the world of region great_britain)
    LAT,
    LON,
    coastline,
    land_mask,
    make_catchments,
)

RES = 0.1
FIRST_YEAR = 1981
VARIABLES = ["swvl1", "swvl2", "swvl3", "swvl4", "sd"]
AGREEMENT = 1e-6
TARGET_READ_RATIO = 2.0


def daily_fields(rng, n_days: int, land: np.ndarray, phase: float) -> np.ndarray:
    """(time, lat ascending, lon) float32: a seasonal cycle whose mean and amplitude vary in
    space, plus cell noise, NaN over sea (values differ cell to cell, so weights matter)."""
    lat2, lon2 = np.meshgrid(LAT, LON, indexing="ij")
    mean = 0.3 + 0.05 * np.sin(lat2 * 1.3) * np.cos(lon2 * 0.9)
    amp = 0.08 + 0.03 * np.cos(lat2 * 0.7 + lon2)
    t = np.arange(n_days)[:, None, None]
    data = mean + amp * np.sin(2 * np.pi * t / 365.25 + phase)
    data = data + 0.01 * rng.standard_normal(data.shape)
    return np.where(land, data, np.nan).astype(np.float32)


def build_world(root: Path, a) -> dict:
    import pandas as pd

    from hydroprobe.sources.synthetic.camels import write_boundaries
    from hydroprobe.sources.synthetic.catchments import area_km2
    from hydroprobe.sources.synthetic.era5 import write_era5_year

    rng = np.random.default_rng(a.seed)
    land_polygon = coastline()
    land = land_mask(land_polygon)
    catchments = make_catchments(a.basins, land_polygon, land, a.seed)
    write_boundaries(root / "camels", catchments)
    era5 = root / "era5"
    for i, var in enumerate(a.variables):
        for year in range(FIRST_YEAR, FIRST_YEAR + a.years):
            dates = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
            data = daily_fields(rng, dates.size, land, phase=0.3 * i + year)
            write_era5_year(era5, var, year, dates, data, LAT, LON)
    hours = pd.date_range("1981-01-01", periods=24 * a.hourly_days, freq="h")
    data = daily_fields(rng, hours.size, land, phase=0.0)  # the field's shape matters, not its cycle
    hourly = write_era5_year(root / "hourly", a.variables[0], FIRST_YEAR, hours, data, LAT, LON)
    areas = np.array([area_km2(c.polygon) for c in catchments])
    kinds = pd.Series([c.kind for c in catchments]).value_counts().to_dict()
    return {
        "land_cells": int(land.sum()),
        "areas": [float(areas.min()), float(np.median(areas)), float(areas.max())],
        "kinds": kinds,
        "hourly": str(hourly),
    }


# ---------------------------------------------------------------------------------------------
# one measurement (run in a subprocess)


def cpu_seconds() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(fn):
    t0, c0 = time.perf_counter(), cpu_seconds()
    value = fn()
    return value, time.perf_counter() - t0, cpu_seconds() - c0


def child(a) -> dict:
    import dask
    import xarray as xr

    if a.phase in ("weights", "aggregate", "exactextract"):  # before the baseline: what the job imports
        import zarr  # noqa: F401
        from exactextract import exact_extract  # noqa: F401
    else:
        import netCDF4

    if a.hdf5_chunk_cache_mb is not None:  # HDF5's cache of decompressed chunks, per open variable
        import netCDF4

        netCDF4.set_chunk_cache(int(a.hdf5_chunk_cache_mb * 2**20))
    root = Path(a.root)
    dask.config.set(scheduler="threads", num_workers=a.threads)
    base = peak_rss_mb()
    out: dict = {"baseline_rss": base}
    if a.phase in ("weights", "aggregate"):  # as the two rule scripts run
        from hydroprobe.basins.aggregate import few_open_files

        files_bound = few_open_files()  # held (referenced) until the phase ends
        files_bound.__enter__()
    if a.phase == "weights":
        from hydroprobe.basins.weights import compute_catchment_weights, land_cells
        from hydroprobe.io import write_netcdf_atomic
        from hydroprobe.sources.camels_gb import read_boundaries
        from hydroprobe.sources.era5_land import open_era5_land

        def run():
            boundaries = read_boundaries(root / "camels")
            fields = open_era5_land(root / "era5", a.variables)
            land, out["land_s"], _ = _timed(lambda: land_cells(fields))
            weights, out["coverage_s"], _ = _timed(lambda: compute_catchment_weights(boundaries, land))
            write_netcdf_atomic(weights, root / "catchment_weights.nc")
            return weights.sizes["entry"]

        out["entries"], out["sec"], out["cpu"] = _timed(run)
    elif a.phase == "aggregate":
        from hydroprobe.basins.aggregate import aggregate_to_basins, write_basin_series
        from hydroprobe.sources.era5_land import open_era5_land

        def run():
            fields = open_era5_land(root / "era5", a.variables)
            weights = xr.load_dataset(root / "catchment_weights.nc")
            write_basin_series(aggregate_to_basins(fields, weights), root / "basin_series.zarr")

        _, out["sec"], out["cpu"] = _timed(run)
    elif a.phase in ("read", "hourly_read"):
        files = [Path(a.hourly)] if a.phase == "hourly_read" else sorted((root / "era5").glob("*/*.nc"))

        def run():
            total = 0.0
            for path in files:
                with netCDF4.Dataset(path) as nc:
                    var = nc.variables[path.parent.name]
                    var.set_auto_mask(False)
                    total += float(np.nansum(var[:], dtype=np.float64))
            return total

        _, out["sec"], out["cpu"] = _timed(run)
    elif a.phase == "hourly":
        from hydroprobe.sources.download.era5_land import hourly_to_daily

        _, out["sec"], out["cpu"] = _timed(lambda: hourly_to_daily(a.hourly, root / "hourly_daily.nc"))
    elif a.phase == "exactextract":
        out.update(exactextract_means(root, a.variables[0], a.ee_days))
    out["peak_rss"] = peak_rss_mb()
    return out


def exactextract_means(root: Path, variable: str, n_days: int) -> dict:
    """exactextract's weighted_mean of the first `n_days` days, weights the spherical cell areas,
    and the largest |difference| to hydroprobe's basin series of the same days."""
    import pandas as pd
    import shapely
    import xarray as xr
    from exactextract import exact_extract
    from exactextract.feature import JSONFeatureSource
    from exactextract.raster import NumPyRasterSource
    from shapely.geometry import mapping

    from hydroprobe.basins.weights import _TO_LONLAT, cell_areas
    from hydroprobe.io import open_zarr
    from hydroprobe.sources.camels_gb import read_boundaries

    boundaries = read_boundaries(root / "camels")
    path = sorted((root / "era5" / variable).glob("*.nc"))[0]
    with xr.open_dataset(path) as ds:  # new-CDS order: latitude descending, row 0 is the north
        days = ds[variable].isel(valid_time=slice(0, n_days)).load()
    lat = days["latitude"].values
    extent = dict(
        xmin=LON[0] - RES / 2, ymin=lat.min() - RES / 2, xmax=LON[-1] + RES / 2, ymax=lat.max() + RES / 2
    )
    area = np.repeat(cell_areas(lat, RES, RES)[:, None], LON.size, axis=1)

    def run():
        # the same lon/lat polygons hydroprobe hands to exactextract
        features = [
            {
                "type": "Feature",
                "properties": {"basin": int(b)},
                "geometry": mapping(
                    shapely.make_valid(shapely.transform(g, _TO_LONLAT.transform, interleaved=False))
                ),
            }
            for b, g in boundaries.items()
        ]
        rasters = [
            NumPyRasterSource(days.values[d].astype(np.float64), **extent, name=f"d{d}")
            for d in range(n_days)
        ]
        weights = NumPyRasterSource(area, **extent, name="area")
        return exact_extract(
            rasters,
            JSONFeatureSource(features),
            "weighted_mean",
            weights=weights,
            include_cols=["basin"],
            output="pandas",
        ).set_index("basin")

    table, sec, cpu = _timed(run)
    ours = open_zarr(root / "basin_series.zarr")[variable].isel(time=slice(0, n_days)).load()
    ours = ours.to_pandas().loc[table.index]
    theirs = table[[f"d{d}_area_weighted_mean" for d in range(n_days)]].to_numpy()
    diff = np.abs(ours.to_numpy(dtype=np.float64) - theirs)
    worst = np.unravel_index(np.nanargmax(diff), diff.shape)
    return {
        "sec": sec,
        "cpu": cpu,
        "days": n_days,
        "basins": int(table.shape[0]),
        "max_abs_diff": float(np.nanmax(diff)),
        "worst_basin": int(table.index[worst[0]]),
        "nan_mismatch": int((np.isnan(ours.to_numpy()) != np.isnan(theirs)).sum()),
        "date": str(pd.Timestamp(days["valid_time"].values[0]).date()),
    }


def run_child(phase: str, a, root: Path, hourly: str = "") -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--root", str(root), "--hourly", hourly]
    cmd += ["--threads", str(a.threads), "--ee-days", str(a.ee_days), "--variables", *a.variables]
    if a.hdf5_chunk_cache_mb is not None:
        cmd += ["--hdf5-chunk-cache-mb", str(a.hdf5_chunk_cache_mb)]
    res = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------


def _line(name: str, r: dict) -> str:
    return (
        f"{name:<34}{r['sec']:8.2f} s wall {r['cpu']:8.2f} s CPU   peak RSS {r['peak_rss']:6.0f} MB "
        f"(after imports {r['baseline_rss']:4.0f} MB)"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--years", type=int, default=4, help="years of daily data per variable (39: the paper)")
    ap.add_argument("--basins", type=int, default=670)
    ap.add_argument("--variables", nargs="+", default=VARIABLES)
    ap.add_argument(
        "--threads", type=int, default=2, help="dask threads of the aggregation (the rule's threads)"
    )
    ap.add_argument("--ee-days", type=int, default=5, help="days compared with exactextract")
    ap.add_argument("--hourly-days", type=int, default=31, help="days of the hourly file (a month)")
    ap.add_argument(
        "--hdf5-chunk-cache-mb",
        type=float,
        help="HDF5 chunk cache per open variable in every phase (default: netCDF-C's, 64 MB)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="build the world in this folder and keep it (reused if it is there)")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--hourly", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.phase:
        print(json.dumps(child(a)))
        return 0

    tmp = None
    if a.keep:
        root = Path(a.keep)
    else:
        tmp = tempfile.mkdtemp(prefix="hydroprobe-aggregation-")
        root = Path(tmp)
    try:
        t0 = time.perf_counter()
        info_path = root / "world.json"
        if info_path.is_file():
            info = json.loads(info_path.read_text())
        else:
            root.mkdir(parents=True, exist_ok=True)
            info = build_world(root, a)
            info_path.write_text(json.dumps(info))
        for old in ("catchment_weights.nc", "basin_series.zarr", "hourly_daily.nc"):
            shutil.rmtree(root / old, ignore_errors=True) if (root / old).is_dir() else (root / old).unlink(
                missing_ok=True
            )
        n_days = sum(366 if (y % 4 == 0) else 365 for y in range(FIRST_YEAR, FIRST_YEAR + a.years))
        inputs_mb = sum(p.stat().st_size for p in (root / "era5").glob("*/*.nc")) / 2**20
        one_var_mb = n_days * LAT.size * LON.size * 4 / 2**20
        print(
            f"grid {LAT.size} x {LON.size} cells ({info['land_cells']} with data), {a.basins} basins "
            f"({info['kinds']}; area min/median/max {info['areas'][0]:.1f}/{info['areas'][1]:.0f}/"
            f"{info['areas'][2]:.0f} km²), {len(a.variables)} variables x {a.years} years = {n_days} days, "
            f"{inputs_mb:.0f} MB of NetCDF on disk; world built in {time.perf_counter() - t0:.0f} s"
        )
        load0 = os.getloadavg()[0]
        weights = run_child("weights", a, root)
        aggregate = run_child("aggregate", a, root)
        read = run_child("read", a, root)
        ee = run_child("exactextract", a, root)
        hourly = run_child("hourly", a, root, info["hourly"])
        hourly_read = run_child("hourly_read", a, root, info["hourly"])
        print(f"load average {load0:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        print(
            _line("hydroprobe catchment_weights", weights)
            + f"  [land_cells {weights['land_s']:.2f} s, coverage {weights['coverage_s']:.2f} s, "
            f"{weights['entries']} basin-cell pairs]"
        )
        print(_line(f"hydroprobe aggregate_era5_land ({a.threads} th)", aggregate))
        print(_line("plain read (netCDF4, every value)", read))
        print(_line(f"exactextract weighted_mean, {ee['days']} days", ee))
        print(_line(f"hourly_to_daily, {a.hourly_days} days", hourly))
        print(_line("plain read of that hourly file", hourly_read))
        agg_s = weights["sec"] + aggregate["sec"]
        agg_cpu = weights["cpu"] + aggregate["cpu"]
        peak = max(weights["peak_rss"], aggregate["peak_rss"])
        growth = max(
            weights["peak_rss"] - weights["baseline_rss"], aggregate["peak_rss"] - aggregate["baseline_rss"]
        )
        print(
            f"ratio aggregation (both rules) / plain read: {agg_s / read['sec']:.2f} wall, "
            f"{agg_cpu / read['cpu']:.2f} CPU (target <= {TARGET_READ_RATIO:g})"
        )
        print(
            f"peak RSS of the aggregation {peak:.0f} MB ({growth:.0f} MB above its imports) vs one variable's "
            f"(time, lat, lon) float32 array {one_var_mb:.0f} MB: ratio {peak / one_var_mb:.2f} "
            f"({growth / one_var_mb:.2f} above imports)"
        )
        print(
            f"ratio hourly->daily / plain read of the hourly file: {hourly['sec'] / hourly_read['sec']:.2f} wall, "
            f"{hourly['cpu'] / hourly_read['cpu']:.2f} CPU"
        )
        print(
            f"max |hydroprobe - exactextract| over {ee['basins']} basins x {ee['days']} days of "
            f"{a.variables[0]}: {ee['max_abs_diff']:.2e} (basin {ee['worst_basin']}; NaN mismatches "
            f"{ee['nan_mismatch']}; tolerance {AGREEMENT:g})"
        )
        ok = ee["max_abs_diff"] <= AGREEMENT and ee["nan_mismatch"] == 0
        print("weighted means agree" if ok else "weighted means DISAGREE")
        return 0 if ok else 1
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
