"""Orchestration: build the synthetic world, run the model, aggregate, write all outputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hydroprobe.config import ConfigError

from . import great_britain
from .attributes import attribute_tables
from .basins import basin_mean, extra_met, gap_mask, weight_matrix
from .camels import write_attributes, write_boundaries, write_timeseries
from .catchments import Catchment, area_km2, exact_weights, make_catchments
from .era5 import write_era5_year
from .grid import Grid, make_grid
from .hydrology import Output, Params, make_params, run_model
from .truth import write_truth
from .weather import Weather, make_weather

CAMELS_START, CAMELS_END = "1970-10-01", "2015-09-30"
REGIONS = ("ne_scotland", "great_britain")


@dataclass
class World:
    """Everything generated, kept in memory for tests and diagnostics."""

    dates: pd.DatetimeIndex
    grid: Grid
    weather: Weather
    params: Params
    output: Output
    catchments: list[Catchment]
    weights: pd.DataFrame
    wmat: np.ndarray  # (basin, model cell)
    basins: list[int]
    basin_series: dict[str, np.ndarray]  # name -> (time, basin)
    rng_extra: np.random.Generator  # draws the basin-level humidity/radiation/wind


def build_world(
    seed: int,
    start: str = CAMELS_START,
    end: str = CAMELS_END,
    region: str = "ne_scotland",
    n_basins: int | None = None,
    keep_diagnostics: bool = True,
) -> World:
    """Generate the landscape, weather, catchments and the model run (no files).

    `region`: ne_scotland (the embedded 13 catchments) or great_britain (`n_basins` catchments,
    default great_britain.DEFAULT_BASINS, on the paper's ERA5-Land box). `keep_diagnostics`:
    keep the cells' evapotranspiration and snowfall (tests; no file holds them).
    """
    _check_region(region, n_basins)
    rng = np.random.Generator(np.random.PCG64(seed))
    r_grid, r_wx, r_catch, r_extra = rng.spawn(4)
    dates = pd.date_range(start, end, freq="D")
    grid = great_britain.make_grid(r_grid) if region == "great_britain" else make_grid(r_grid)
    wx = make_weather(r_wx, grid, dates)
    params = make_params(grid)
    out = run_model(params, wx, keep_diagnostics=keep_diagnostics)
    if region == "great_britain":
        catchments = great_britain.catchments_on(grid, r_catch, n_basins or great_britain.DEFAULT_BASINS)
    else:
        catchments = make_catchments(r_catch, grid)
    basins = [c.gauge_id for c in catchments]
    weights = exact_weights({c.gauge_id: c.polygon for c in catchments}, grid.lat, grid.lon, grid.land)
    wmat = weight_matrix(weights, grid, basins)
    series = {
        "precipitation": basin_mean(wx.precip, wmat),
        "pet": basin_mean(wx.pet, wmat),
        "peti": basin_mean(wx.peti, wmat),
        "temperature": basin_mean(wx.temp, wmat),
        "discharge_spec": basin_mean(out.runoff, wmat),
        "baseflow": basin_mean(out.baseflow, wmat),
        "sd": basin_mean(out.swe, wmat),
    }
    th = basin_mean(out.theta, wmat)
    for k in range(4):
        series[f"swvl{k + 1}"] = th[:, :, k]
    miss = gap_mask(r_extra, len(basins), len(dates))
    series["discharge_obs"] = np.where(miss, np.nan, series["discharge_spec"])
    return World(dates, grid, wx, params, out, catchments, weights, wmat, basins, series, r_extra)


def _cell_field(world: World, cell_values: np.ndarray) -> np.ndarray:
    """(time, model cell) → (time, lat, lon) with NaN over sea."""
    ny, nx = world.grid.shape
    full = np.full((cell_values.shape[0], ny * nx), np.nan, np.float32)
    full[:, world.grid.land_index] = cell_values
    return full.reshape(-1, ny, nx)


def write_world(world: World, out_dir: Path, era5_years: Sequence[int]) -> None:
    """Write camels_gb/, era5_land/ and truth.nc under `out_dir`."""
    out_dir = Path(out_dir)
    camels = out_dir / "camels_gb"
    s = world.basin_series
    rng = world.rng_extra
    areas = {}
    for b, c in enumerate(world.catchments):
        areas[c.gauge_id] = area_km2(c.polygon)
        lat = c.polygon.centroid.y
        ex = extra_met(rng, s["precipitation"][:, b], s["temperature"][:, b], lat, world.dates)
        q = s["discharge_obs"][:, b]
        df = pd.DataFrame(
            {
                "date": world.dates,
                "precipitation": s["precipitation"][:, b],
                "pet": s["pet"][:, b],
                "temperature": s["temperature"][:, b],
                "discharge_spec": q,
                "discharge_vol": q * areas[c.gauge_id] / 86.4,
                "peti": s["peti"][:, b],
                **ex,
            }
        )
        write_timeseries(camels, c.gauge_id, df)
    write_attributes(camels, attribute_tables(world, areas))
    write_boundaries(camels, world.catchments)

    _check_era5_years(era5_years, world.dates[0], world.dates[-1])
    y0, y1 = era5_years
    fields = {f"swvl{k + 1}": world.output.theta[:, :, k] for k in range(4)}
    fields["sd"] = world.output.swe
    years = world.dates.year
    for var, vals in fields.items():
        for year in range(y0, y1 + 1):
            sel = years == year
            write_era5_year(
                out_dir / "era5_land",
                var,
                year,
                world.dates[sel],
                _cell_field(world, vals[sel]),
                world.grid.lat,
                world.grid.lon,
            )
    stores = {v: s[v] for v in ("swvl1", "swvl2", "swvl3", "swvl4", "sd")}
    write_truth(out_dir / "truth.nc", world.basins, world.dates, stores, world.weights)


def generate_world(
    out_dir: Path,
    seed: int,
    era5_years: Sequence[int],
    *,
    start: str = CAMELS_START,
    end: str = CAMELS_END,
    region: str = "ne_scotland",
    n_basins: int | None = None,
) -> None:
    """Generate the synthetic world for `seed` and write it under `out_dir`, ERA5-Land files for
    the years `era5_years` (first, last) (the config's ``synthetic`` settings).

    `start`/`end` shorten the simulated span (tests, small rehearsals); the CAMELS file names
    keep the standard 19701001-20150930 suffix regardless. The settings are checked before the
    minutes of simulation, not after.
    """
    _check_region(region, n_basins)
    _check_span(start, end)
    _check_era5_years(era5_years, pd.Timestamp(start), pd.Timestamp(end))
    world = build_world(seed, start, end, region, n_basins, keep_diagnostics=False)
    write_world(world, Path(out_dir), era5_years)


def _check_region(region: str, n_basins: int | None) -> None:
    if region not in REGIONS:
        raise ConfigError(f"synthetic.region: {region!r} is not one of {', '.join(REGIONS)}")
    if n_basins is not None and region != "great_britain":
        raise ConfigError(
            f"synthetic.n_basins: {region} has its own fixed catchments; set it only with region great_britain"
        )


def _check_span(start: str, end: str) -> None:
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    if not pd.Timestamp(CAMELS_START) <= first < last <= pd.Timestamp(CAMELS_END):
        raise ConfigError(
            f"synthetic.start/end: {start}...{end} must lie inside the CAMELS-GB record "
            f"{CAMELS_START}...{CAMELS_END}, start before end"
        )


def _check_era5_years(era5_years: Sequence[int], first: pd.Timestamp, last: pd.Timestamp) -> None:
    y0, y1 = era5_years
    if y0 > y1 or y0 < first.year or y1 > last.year:
        raise ConfigError(
            f"synthetic.era5_years: {list(era5_years)} outside the simulated span {first.year}-{last.year}"
        )
