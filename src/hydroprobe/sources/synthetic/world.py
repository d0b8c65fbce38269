"""Orchestration: build the synthetic world, run the model, aggregate, write all outputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
from .hydrology import SPINUP_DAYS, Output, Params, concatenate_outputs, make_params, run_span, spun_up_state
from .truth import write_truth
from .weather import Weather, WeatherGenerator, concatenate_weather

CAMELS_START, CAMELS_END = "1970-10-01", "2015-09-30"
REGIONS = ("ne_scotland", "great_britain")


@dataclass
class World:
    """Everything generated that the writers need; with `keep_fields` also the cell fields."""

    dates: pd.DatetimeIndex
    grid: Grid
    params: Params
    catchments: list[Catchment]
    weights: pd.DataFrame
    wmat: np.ndarray  # (basin, model cell)
    basins: list[int]
    basin_series: dict[str, np.ndarray]  # name -> (time, basin)
    rng_extra: np.random.Generator  # draws the basin-level humidity/radiation/wind
    weather: Weather | None = None  # (time, cell) over the whole period: only with keep_fields
    output: Output | None = None  # idem


def build_world(
    seed: int,
    start: str = CAMELS_START,
    end: str = CAMELS_END,
    region: str = "ne_scotland",
    n_basins: int | None = None,
    keep_fields: bool = True,
    on_span: Callable[[Grid, pd.DatetimeIndex, Output], None] | None = None,
) -> World:
    """Generate the landscape, catchments, weather and the model run (no files).

    `region`: ne_scotland (the embedded 13 catchments) or great_britain (`n_basins` catchments,
    default great_britain.DEFAULT_BASINS, on the paper's ERA5-Land box). The weather and the
    model run a span of calendar years at a time; each span's cell output goes to
    `on_span(grid, dates, output)` and is averaged over the basins. `keep_fields` keeps the whole
    cell fields in the World, with evapotranspiration and snowfall (tests, diagnostics);
    without it the generator holds the basin series, not the grid's (time, cell) fields.
    """
    _check_region(region, n_basins)
    rng = np.random.Generator(np.random.PCG64(seed))
    r_grid, r_wx, r_catch, r_extra = rng.spawn(4)
    dates = pd.date_range(start, end, freq="D")
    grid = great_britain.make_grid(r_grid) if region == "great_britain" else make_grid(r_grid)
    if region == "great_britain":
        catchments = great_britain.catchments_on(grid, r_catch, n_basins or great_britain.DEFAULT_BASINS)
    else:
        catchments = make_catchments(r_catch, grid)
    basins = [c.gauge_id for c in catchments]
    weights = exact_weights({c.gauge_id: c.polygon for c in catchments}, grid.lat, grid.lon, grid.land)
    wmat = weight_matrix(weights, grid, basins)
    params = make_params(grid)

    weather = WeatherGenerator(r_wx, grid, dates)
    series: dict[str, np.ndarray] = {}
    kept_weather, kept_output = [], []
    state = None
    for span in year_spans(dates, SPINUP_DAYS):
        wx = weather.next(span.stop - span.start)
        if state is None:
            state = spun_up_state(params, wx)
        out = run_span(state, params, wx, keep_diagnostics=keep_fields)
        _fill_basin_series(series, span, len(dates), wx, out, wmat)
        if on_span is not None:
            on_span(grid, dates[span], out)
        if keep_fields:
            kept_weather.append(wx)
            kept_output.append(out)
    miss = gap_mask(r_extra, len(basins), len(dates))
    series["discharge_obs"] = np.where(miss, np.nan, series["discharge_spec"])
    world = World(dates, grid, params, catchments, weights, wmat, basins, series, r_extra)
    if keep_fields:
        world.weather = concatenate_weather(kept_weather)
        world.output = concatenate_outputs(kept_output)
    return world


def _fill_basin_series(
    series: dict, span: slice, n_days: int, wx: Weather, out: Output, wmat: np.ndarray
) -> None:
    """The basin means of a span's cell fields into `series`: name -> (time, basin) over all
    `n_days`, allocated when first filled."""
    fields = {
        "precipitation": wx.precip,
        "pet": wx.pet,
        "peti": wx.peti,
        "temperature": wx.temp,
        "discharge_spec": out.runoff,
        "baseflow": out.baseflow,
        "sd": out.swe,
    }
    layers = basin_mean(out.theta, wmat)
    means = {name: basin_mean(field, wmat) for name, field in fields.items()}
    means.update({f"swvl{k + 1}": layers[:, :, k] for k in range(4)})
    for name, values in means.items():
        series.setdefault(name, np.empty((n_days, wmat.shape[0])))[span] = values


def year_spans(dates: pd.DatetimeIndex, first_at_least: int) -> list[slice]:
    """`dates` cut into calendar years (index slices), the leading years merged until the first
    span holds `first_at_least` days (the spin-up reads them there) or every day."""
    year_starts = np.flatnonzero(np.diff(dates.year.to_numpy())) + 1
    starts = [0] + [int(i) for i in year_starts if i >= min(first_at_least, len(dates))]
    return [slice(lo, hi) for lo, hi in zip(starts, starts[1:] + [len(dates)], strict=True)]


def _cell_field(grid: Grid, cell_values: np.ndarray) -> np.ndarray:
    """(time, model cell) → (time, lat, lon) with NaN over sea."""
    ny, nx = grid.shape
    full = np.full((cell_values.shape[0], ny * nx), np.nan, np.float32)
    full[:, grid.land_index] = cell_values
    return full.reshape(-1, ny, nx)


def era5_writer(out_dir: Path, era5_years: Sequence[int]) -> Callable[[Grid, pd.DatetimeIndex, Output], None]:
    """An `on_span` for build_world that writes the ERA5-Land files (one variable, one year) of
    the years `era5_years` (first, last) as the model run reaches them."""
    first, last = era5_years

    def write(grid: Grid, dates: pd.DatetimeIndex, out: Output) -> None:
        fields = {f"swvl{k + 1}": out.theta[:, :, k] for k in range(4)}
        fields["sd"] = out.swe
        for year in sorted({int(y) for y in dates.year if first <= y <= last}):
            sel = dates.year == year
            for var, values in fields.items():
                write_era5_year(
                    Path(out_dir) / "era5_land",
                    var,
                    year,
                    dates[sel],
                    _cell_field(grid, values[sel]),
                    grid.lat,
                    grid.lon,
                )

    return write


def write_world(world: World, out_dir: Path) -> None:
    """Write camels_gb/ and truth.nc under `out_dir` (the ERA5-Land files: `era5_writer`)."""
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
    writer = era5_writer(out_dir, era5_years)
    world = build_world(seed, start, end, region, n_basins, keep_fields=False, on_span=writer)
    write_world(world, out_dir)


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
