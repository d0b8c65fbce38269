"""The rules catchment_weights and aggregate_era5_land, run as Snakemake runs their scripts, on a
small ERA5-Land folder and CAMELS-GB boundaries: the numbers they write, and the one line they
fail with when a file is wrong (naming it, and leaving no output that looks complete)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import shapefile
import shapely
import xarray as xr
from pyproj import CRS, Transformer

from hydroprobe import data_warnings
from hydroprobe.basins.weights import cell_areas
from hydroprobe.errors import InputDataError
from hydroprobe.io import open_zarr
from hydroprobe.sources.synthetic.era5 import write_era5_year

SCRIPTS = Path(__file__).resolve().parents[2] / "workflow_scripts"
LAT = np.round(np.arange(57.6, 58.05, 0.1), 1)  # ascending, as the synthetic writer takes it
LON = np.round(np.arange(-4.0, -3.65, 0.1), 1)
SEA = (0, 3)  # (57.6, -3.7)
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
# basin 1: the 2 x 2 cells at 57.7-57.8 N, 4.0-3.9 W; basin 2: 57.6-57.7 N, 3.8-3.7 W (one sea cell)
BOXES = {1: (-4.04, 57.66, -3.86, 57.84), 2: (-3.84, 57.56, -3.66, 57.74)}
VARIABLES = ["swvl1", "sd"]


def _field(year: int, seed: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    dates = pd.date_range(f"{year}-01-01", f"{year}-12-31")
    data = np.random.default_rng(seed).uniform(0.1, 0.5, (dates.size, LAT.size, LON.size)).astype("float32")
    data[:, SEA[0], SEA[1]] = np.nan
    return dates, data


def _write_era5(era5_dir: Path, years=(2000, 2001, 2002), skip=(), edit=None) -> None:
    """One file per variable and year, as the CDS layout; `edit(var, year, data)` may spoil one."""
    for k, var in enumerate(VARIABLES):
        for year in years:
            if (var, year) in skip:
                continue
            dates, data = _field(year, 10 * k + year)
            if edit is not None:
                edit(var, year, data)
            write_era5_year(era5_dir, var, year, dates, data, LAT, LON)


def _write_boundaries(camels_dir: Path, boxes=BOXES) -> Path:
    """The boundaries shapefile, and a time-series file per basin (the job checks the basins)."""
    (camels_dir / "timeseries").mkdir(parents=True)
    for basin in boxes:
        (camels_dir / "timeseries" / f"CAMELS_GB_hydromet_timeseries_{basin}_19701001-20150930.csv").touch()
    folder = camels_dir / "CAMELS_GB_catchment_boundaries"
    folder.mkdir(parents=True)
    base = folder / "CAMELS_GB_catchment_boundaries"
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON) as w:
        w.field("ID_STRING", "C", size=10)
        for basin, box in boxes.items():
            poly = shapely.segmentize(shapely.box(*box), 0.002)
            poly = shapely.transform(poly, TO_BNG.transform, interleaved=False)
            w.poly([list(poly.exterior.coords)[::-1]])  # clockwise outer ring
            w.record(str(basin))
    base.with_suffix(".prj").write_text(CRS.from_epsg(27700).to_wkt(version="WKT1_ESRI"))
    return base.with_suffix(".shp")


@pytest.fixture
def world(tmp_path):
    _write_era5(tmp_path / "era5")
    _write_boundaries(tmp_path / "camels")
    return tmp_path


def _run(script: str, tmp_path: Path, **io) -> Path:
    """Run a workflow script with the `snakemake` object Snakemake hands it; returns its log."""
    log = tmp_path / "logs" / f"{script}.log"
    snakemake = SimpleNamespace(
        input=SimpleNamespace(**io["input"]),
        output=[str(io["output"])],
        log=[str(log)],
        params=SimpleNamespace(**io["params"]),
        threads=1,
    )
    runpy.run_path(str(SCRIPTS / f"{script}.py"), init_globals={"snakemake": snakemake})
    return log


def _weights(tmp_path: Path) -> Path:
    out = tmp_path / "results" / "catchment_weights.nc"
    _run(
        "catchment_weights",
        tmp_path,
        input={"camels_gb": str(tmp_path / "camels"), "era5_land": str(tmp_path / "era5")},
        output=out,
        params={"method": "exact", "basins": None, "variables": VARIABLES},
    )
    return out


def _aggregate(tmp_path: Path) -> Path:
    out = tmp_path / "results" / "era5_land_basins.zarr"
    _run(
        "aggregate_era5_land",
        tmp_path,
        input={
            "weights": str(tmp_path / "results" / "catchment_weights.nc"),
            "era5_land": str(tmp_path / "era5"),
        },
        output=out,
        params={"variables": VARIABLES},
    )
    return out


def _fails(step, tmp_path: Path, script: str) -> str:
    """Run a failing step: it exits with status 1 and its error is the log's last line, one line;
    no output (nor a temporary of one) is left under results/. Returns the error message."""
    with pytest.raises(SystemExit) as exit_:
        step(tmp_path)
    assert exit_.value.code == 1
    last = (tmp_path / "logs" / f"{script}.log").read_text().splitlines()[-1]
    prefix = f"ERROR {InputDataError.__name__}: "
    assert last.startswith(prefix), last
    results = tmp_path / "results"
    left = sorted(p.name for p in results.iterdir()) if results.exists() else []
    assert left == ([] if script == "catchment_weights" else ["catchment_weights.nc"]), left
    return last.removeprefix(prefix)


def test_a_value_missing_at_the_first_step_drops_the_cell_from_that_day_only(world):
    def plant(var, year, data):
        if var == "swvl1" and year == 2000:
            data[0, 1, 0] = np.nan  # (57.7, -4.0), a land cell of basin 1, on 2000-01-01 only

    _write_era5(world / "era5", edit=plant)
    weights = xr.load_dataset(_weights(world))
    basin1 = weights.where(weights["basin"] == 1, drop=True)
    cells = dict(
        zip(
            zip(basin1["latitude"].values.round(3), basin1["longitude"].values.round(3)),
            basin1["weight"].values,
        )
    )
    # every cell of basin 1 keeps its area weight: (57.7, -4.0) was not taken for sea
    area = dict(zip((57.7, 57.8), cell_areas(np.array([57.7, 57.8]), 0.1, 0.1)))
    total = sum(area[la] for la, _ in cells)
    for (la, lo), w in cells.items():
        assert w == pytest.approx(area[la] / total, rel=1e-3), (la, lo)
    series = open_zarr(_aggregate(world)).load()
    x = {
        var: np.concatenate([_field(y, 10 * k + y)[1] for y in (2000, 2001, 2002)])
        for k, var in enumerate(VARIABLES)
    }
    x["swvl1"][0, 1, 0] = np.nan
    rows = {la: i for i, la in enumerate(LAT)}
    cols = {lo: j for j, lo in enumerate(LON)}
    for var in VARIABLES:
        values = np.stack([x[var][:, rows[la], cols[lo]] for la, lo in cells], axis=1)  # (time, cell)
        w = np.array(list(cells.values()))
        want = values @ w
        if var == "swvl1":  # day 0: the other three cells, renormalised
            want[0] = np.nansum(values[0] * w) / w[np.isfinite(values[0])].sum()
        np.testing.assert_allclose(series[var].sel(basin=1).values, want, rtol=1e-6)
    assert np.isfinite(series["swvl1"]).all()


def test_a_missing_year_becomes_nan_and_a_data_warning(world):
    _write_era5(world / "era5", skip=[("swvl1", 2001)])
    (world / "era5" / "swvl1" / "era5_land_swvl1_2001.nc").unlink()
    _weights(world)
    out = _aggregate(world)
    series = open_zarr(out)
    assert data_warnings.read(series) == [
        data_warnings.DataWarning(
            "aggregate_era5_land",
            "swvl1",
            f"year 2001 missing from {world / 'era5' / 'swvl1'}: NaN in the basin series",
        )
    ]
    assert np.isnan(series["swvl1"].sel(time="2001")).all()
    assert np.isfinite(series["swvl1"].sel(time=["2000-12-31", "2002-01-01"])).all()
    assert np.isfinite(series["sd"]).all()
    log = (world / "logs" / "aggregate_era5_land.log").read_text()
    assert "WARNING hydroprobe: swvl1: year 2001 missing from" in log


def test_complete_folders_give_no_warning(world):
    _weights(world)
    assert json.loads(open_zarr(_aggregate(world)).attrs[data_warnings.ATTRIBUTE]) == []


def test_truncated_file_stops_the_weights_job(world):
    path = world / "era5" / "sd" / "era5_land_sd_2001.nc"
    path.write_bytes(path.read_bytes()[:5000])
    message = _fails(_weights, world, "catchment_weights")
    assert message.startswith(f"{path}: cannot open as NetCDF: truncated or not a NetCDF file")


def test_another_grid_in_one_file_stops_the_aggregation_naming_it(world):
    _weights(world)
    path = world / "era5" / "sd" / "era5_land_sd_2002.nc"
    dates, data = _field(2002, 0)
    write_era5_year(world / "era5", "sd", 2002, dates, data[:, :, :3], LAT, LON[:3] + 0.05)
    message = _fails(_aggregate, world, "aggregate_era5_land")
    assert message == (
        f"{path}: grid differs from that of {world / 'era5' / 'sd' / 'era5_land_sd_2000.nc'}: "
        "longitude -3.95..-3.75 (step 0.1°, 3 cells) vs -4..-3.7 (step 0.1°, 4 cells)"
    )


def test_swvl_in_another_unit_is_refused(world):
    _weights(world)
    path = world / "era5" / "swvl1" / "era5_land_swvl1_2001.nc"
    ds = xr.load_dataset(path)
    ds["swvl1"].attrs["units"] = "kg m**-2"
    ds.to_netcdf(path)
    message = _fails(_aggregate, world, "aggregate_era5_land")
    assert message == f"{path}: swvl1 is in 'kg m**-2', expected 'm**3 m**-3' (or %, percent, converted)"


def test_catchment_off_the_grid_stops_the_weights_job(tmp_path):
    _write_era5(tmp_path / "era5")
    _write_boundaries(tmp_path / "camels", {**BOXES, 3: (-2.5, 55.0, -2.4, 55.1)})
    message = _fails(_weights, tmp_path, "catchment_weights")
    assert message.startswith(
        "basin 3: catchment (lon -2.50..-2.40, lat 55.00..55.10) lies outside the ERA5-Land"
    )


def test_boundaries_without_prj_stop_the_weights_job(world):
    shp = world / "camels" / "CAMELS_GB_catchment_boundaries" / "CAMELS_GB_catchment_boundaries.shp"
    shp.with_suffix(".prj").unlink()
    message = _fails(_weights, world, "catchment_weights")
    assert message.startswith(f"{shp.with_suffix('.prj')} is missing")
