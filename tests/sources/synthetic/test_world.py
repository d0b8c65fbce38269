"""Tests of the embedded synthetic world (hydroprobe.sources.synthetic): physics, weights, file formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapefile
import xarray as xr
import yaml
from shapely.geometry import box, shape
from workflow_helpers import ROOT

from hydroprobe.sources.camels_gb import ATTRIBUTE_GROUPS, TIMESERIES_COLUMNS
from hydroprobe.sources.synthetic import build_world, generate_world
from hydroprobe.sources.synthetic.catchments import exact_weights
from hydroprobe.sources.synthetic.grid import R_EARTH
from hydroprobe.sources.synthetic.hydrology import DZ_MM
from hydroprobe.sources.synthetic.world import era5_writer, write_world

SEED = 7
START, END = "1990-10-01", "1994-09-30"
YEARS = (1991, 1993)
# the static attributes the default config trains on
REQUIRED_ATTRS = yaml.safe_load((ROOT / "config.yaml").read_text())["model"]["static_inputs"]


@pytest.fixture(scope="module")
def world():
    return build_world(SEED, START, END)


@pytest.fixture(scope="module")
def out(world, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("world")
    era5_writer(d, YEARS)(world.grid, world.dates, world.output)  # the whole run as one span
    write_world(world, d)
    return d


def _ts(out: Path, gid: int) -> pd.DataFrame:
    return pd.read_csv(
        out / "camels_gb" / "timeseries" / f"CAMELS_GB_hydromet_timeseries_{gid}_19701001-20150930.csv"
    )


def _attrs(out: Path) -> pd.DataFrame:
    tabs = [
        pd.read_csv(out / "camels_gb" / f"CAMELS_GB_{g}_attributes.csv", index_col="gauge_id")
        for g in ATTRIBUTE_GROUPS
    ]
    return pd.concat(tabs, axis=1)


def _kind(world, kind: str) -> int:
    return next(c.gauge_id for c in world.catchments if c.kind == kind)


# ---------------------------------------------------------------- physics
def _storage_mm(state) -> np.ndarray:
    """Water held in a cell (mm): the four soil layers, the snowpack and the groundwater store."""
    return (state.theta * DZ_MM).sum(axis=1) + state.swe + state.gw


def test_water_balance_closes_per_cell(world):
    o, wx = world.output, world.weather
    ds = _storage_mm(o.final) - _storage_mm(o.initial)
    flux = wx.precip.sum(0) - o.et.sum(0) - o.runoff.sum(0)
    np.testing.assert_allclose(ds, flux, atol=1e-6, rtol=0)


def test_theta_within_residual_and_porosity(world):
    th, p = world.output.theta, world.params
    for k in range(4):
        assert (th[:, :, k] >= p.thr[None, :] - 1e-6).all()
        assert (th[:, :, k] <= p.phi[None, :] + 1e-6).all()
    assert 0.08 < th.min() and th.max() < 0.55
    assert (world.output.swe >= 0).all()


def test_deeper_layers_vary_more_slowly(out):
    truth = xr.open_dataset(out / "truth.nc")
    for b in truth.basin.values:
        ac = []
        for k in range(1, 5):
            x = truth[f"swvl{k}"].sel(basin=b).values
            a = x - x.mean()
            ac.append((a[1:] * a[:-1]).mean() / a.var())
        assert np.all(np.diff(ac) > 0), (b, ac)
        assert 0.5 < ac[0] < 0.99


def test_snowy_basin_has_winter_snow(world, out):
    snowy, dry = _kind(world, "snowy"), 8007
    truth = xr.open_dataset(out / "truth.nc")
    sd = truth["sd"].sel(basin=snowy).to_series()
    winter = sd[sd.index.month.isin([1, 2])]
    assert (winter.groupby(winter.index.year).max() > 0.01).all()
    assert (sd[sd.index.month.isin([7, 8])] == 0).all()
    att = _attrs(out)
    assert att.loc[snowy, "frac_snow"] > att.loc[dry, "frac_snow"] + 0.05


def test_realistic_ranges(world, out):
    att = _attrs(out)
    assert att["p_mean"].between(1.5, 8).all()
    assert att["runoff_ratio"].between(0.3, 1.0).all()
    assert att.loc[8007, "p_mean"] < att.loc[_kind(world, "wet"), "p_mean"]
    assert (att["p_seasonality"] < 0).all()  # wetter winters
    ts = _ts(out, 8001)
    assert (ts["peti"] >= ts["pet"] - 1e-3).all()
    assert (ts.loc[ts.precipitation > 1, "peti"] > ts.loc[ts.precipitation > 1, "pet"]).mean() > 0.5


# ---------------------------------------------------------------- weights
def test_exact_weights_square_polygon():
    lat = np.round(np.arange(56.6, 58.0001, 0.1), 1)
    lon = np.round(np.arange(-4.0, -1.9999, 0.1), 1)
    land = np.ones((lat.size, lon.size), bool)

    def area(la):
        return R_EARTH**2 * np.deg2rad(0.1) * (np.sin(np.deg2rad(la + 0.05)) - np.sin(np.deg2rad(la - 0.05)))  # noqa: E731

    sq = box(-3.05, 57.05, -2.85, 57.25)  # exactly 2×2 cells
    w = exact_weights({1: sq}, lat, lon, land)
    assert len(w) == 4
    assert w.weight.sum() == pytest.approx(1.0, abs=1e-12)
    tot = 2 * area(57.1) + 2 * area(57.2)
    for _, r in w.iterrows():
        assert r.coverage == pytest.approx(1.0)
        assert r.weight == pytest.approx(area(r.latitude) / tot, rel=1e-9)
    # half a cell: coverage 0.5; a sea cell drops out and the rest is renormalised
    half = box(-3.05, 57.05, -2.90, 57.15)
    w = exact_weights({2: half}, lat, lon, land).set_index("longitude")
    assert w.loc[-2.9, "coverage"] == pytest.approx(0.5)
    assert w.loc[-3.0, "weight"] == pytest.approx(2 / 3)
    land2 = land.copy()
    land2[np.searchsorted(lat, 57.1), np.searchsorted(lon, -2.9)] = False
    w = exact_weights({2: half}, lat, lon, land2)
    assert len(w) == 1 and w.weight.iloc[0] == pytest.approx(1.0)


def test_weights_in_truth_sum_to_one_and_reproduce_era5(out):
    wts = xr.open_dataset(out / "truth.nc", group="weights").to_dataframe()
    np.testing.assert_allclose(wts.groupby("basin").weight.sum(), 1.0, atol=1e-12)
    truth = xr.open_dataset(out / "truth.nc")
    for var in ("swvl1", "swvl4", "sd"):
        da = xr.open_mfdataset(sorted((out / "era5_land" / var).glob("*.nc")))[var].load()
        for b, g in wts.groupby("basin"):
            cells = da.sel(
                latitude=xr.DataArray(g.latitude.values, dims="e"),
                longitude=xr.DataArray(g.longitude.values, dims="e"),
            )
            assert np.isfinite(cells.values).all()
            agg = (cells * xr.DataArray(g.weight.values, dims="e")).sum("e")
            ref = truth[var].sel(basin=b, time=agg.valid_time.values)
            np.testing.assert_allclose(agg.values, ref.values, atol=1e-5)


def test_catchment_set(world):
    cs = world.catchments
    assert len(cs) >= 12
    from hydroprobe.sources.synthetic.catchments import area_km2

    areas = {c.gauge_id: area_km2(c.polygon) for c in cs}
    assert all(20 <= a <= 2000 for a in areas.values())
    assert min(areas.values()) < 40
    g = world.grid
    coastal = next(c for c in cs if c.kind == "coastal")
    sea_overlap = sum(
        coastal.polygon.intersection(
            box(g.lon[j] - 0.05, g.lat[i] - 0.05, g.lon[j] + 0.05, g.lat[i] + 0.05)
        ).area
        for i, j in zip(*np.nonzero(~g.land))
    )
    assert sea_overlap > 0
    outer = next(c for c in cs if c.kind == "nested_outer")
    inner = next(c for c in cs if c.kind == "nested_inner")
    assert outer.polygon.buffer(1e-9).contains(inner.polygon)
    assert inner.outlet == outer.outlet


# ---------------------------------------------------------------- files
def test_timeseries_files(world, out):
    for c in world.catchments:
        ts = _ts(out, c.gauge_id)
        assert list(ts.columns) == TIMESERIES_COLUMNS
        assert len(ts) == len(world.dates) and ts.date.iloc[0] == START
        assert ts.drop(columns=["discharge_spec", "discharge_vol"]).notna().all().all()
    text = (
        out
        / "camels_gb"
        / "timeseries"
        / f"CAMELS_GB_hydromet_timeseries_{world.basins[0]}_19701001-20150930.csv"
    ).read_text()
    assert text.startswith(",".join(TIMESERIES_COLUMNS) + "\n")
    n_gaps = sum(_ts(out, b).discharge_spec.isna().sum() > 0 for b in world.basins)
    assert 1 <= n_gaps < len(world.basins)
    assert not list(out.rglob(".tmp-*"))


def test_discharge_is_weighted_mean_of_cell_runoff(world, out):
    att = _attrs(out)
    q_cells = world.output.runoff @ world.wmat.T
    for b, gid in enumerate(world.basins):
        ts = _ts(out, gid)
        ok = ts.discharge_spec.notna().to_numpy()
        np.testing.assert_allclose(ts.discharge_spec[ok], q_cells[ok, b], atol=6e-4)
        vol = q_cells[:, b] * att.loc[gid, "area"] / 86.4
        np.testing.assert_allclose(ts.discharge_vol[ok], vol[ok], atol=1e-3, rtol=1e-6)
        # forcing uses the same weights
        np.testing.assert_allclose(ts.precipitation, world.weather.precip @ world.wmat[b], atol=6e-4)


def test_attribute_tables(out):
    att = _attrs(out)
    for col in REQUIRED_ATTRS + [
        "gauge_name",
        "gauge_lat",
        "gauge_lon",
        "q_mean",
        "baseflow_index",
        "aridity",
    ]:
        assert col in att.columns, col
        assert att[col].notna().all() if col != "reservoir_cap" else True
    assert (att[["sand_perc", "silt_perc", "clay_perc"]].sum(axis=1) - 100).abs().max() < 1e-2
    assert att.index.dtype.kind == "i"


def test_shapefile_in_bng(world, out):
    base = out / "camels_gb" / "CAMELS_GB_catchment_boundaries" / "CAMELS_GB_catchment_boundaries"
    for ext in ("shp", "shx", "dbf", "prj"):
        assert base.with_suffix(f".{ext}").exists()
    assert "British_National_Grid" in base.with_suffix(".prj").read_text()
    att = _attrs(out)
    with shapefile.Reader(str(base)) as r:
        names = [f[0] for f in r.fields[1:]]
        assert names[:2] == ["ID_STRING", "ID"]
        assert len(r) == len(world.catchments)
        for sr in r.iterShapeRecords():
            x0, y0, x1, y1 = sr.shape.bbox
            assert 0 < x0 < x1 < 700_000 and 0 < y0 < y1 < 1_300_000
            gid = int(sr.record["ID_STRING"])
            assert sr.record["ID"] == gid
            assert shape(sr.shape.__geo_interface__).area / 1e6 == pytest.approx(
                att.loc[gid, "area"], rel=1e-3
            )


def test_era5_netcdf_layout(world, out):
    f = out / "era5_land" / "swvl1" / f"era5_land_swvl1_{YEARS[0]}.nc"
    for v in ("swvl1", "swvl2", "swvl3", "swvl4", "sd"):
        for y in range(YEARS[0], YEARS[1] + 1):
            assert (out / "era5_land" / v / f"era5_land_{v}_{y}.nc").exists()
    ds = xr.open_dataset(f)
    assert ds["swvl1"].dims == ("valid_time", "latitude", "longitude")
    assert ds["swvl1"].dtype == np.float32
    assert np.all(np.diff(ds.latitude.values) < 0) and np.all(np.diff(ds.longitude.values) > 0)
    assert np.allclose(ds.latitude.values * 10, np.round(ds.latitude.values * 10))
    assert ds.sizes["valid_time"] == 365
    assert int(ds["number"]) == 0 and ds["number"].dtype == np.int64
    assert set(ds["expver"].values) == {"0001"}
    assert ds["swvl1"].attrs["units"] == "m**3 m**-3"
    assert ds["valid_time"].encoding["units"] == "seconds since 1970-01-01"
    assert ds["valid_time"].encoding["calendar"] == "proleptic_gregorian"
    v = ds["swvl1"].values
    assert np.isnan(v[:, :, -1]).all()  # east edge is sea
    assert np.isfinite(v[:, :, 0]).all()  # west edge is land
    sd = xr.open_dataset(out / "era5_land" / "sd" / f"era5_land_sd_{YEARS[0]}.nc")["sd"]
    assert sd.attrs["units"] == "m of water equivalent"


def test_truth_file(world, out):
    t = xr.open_dataset(out / "truth.nc")
    assert t.basin.dtype == np.int32 and list(t.basin.values) == world.basins
    assert list(t.attrs["layer_depths_cm"]) == [7, 21, 72, 189]
    assert t["swvl1"].dims == ("basin", "time")


def test_deterministic(out, tmp_path):
    generate_world(tmp_path, SEED, YEARS, start=START, end=END)
    files = sorted(p.relative_to(out) for p in (out / "camels_gb").rglob("*") if p.is_file())
    assert len(files) > 20
    for rel in files:
        if rel.suffix in (".csv", ".shp", ".shx", ".dbf", ".prj"):
            assert (out / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
    a = xr.open_dataset(out / "truth.nc")
    b = xr.open_dataset(tmp_path / "truth.nc")
    xr.testing.assert_identical(a, b)


def test_weather_drawn_in_spans_is_the_weather_drawn_whole():
    """The generator draws a year at a time so that no whole-period field is held: the spans
    continue the AR(1) fields and the random streams exactly where the previous span stopped."""
    from hydroprobe.sources.synthetic.grid import make_grid
    from hydroprobe.sources.synthetic.weather import WeatherGenerator, concatenate_weather

    grid = make_grid(np.random.default_rng(3))
    dates = pd.date_range("1990-10-01", "1992-12-31")
    whole = WeatherGenerator(np.random.default_rng(11), grid, dates).next(len(dates))
    spans = WeatherGenerator(np.random.default_rng(11), grid, dates)
    pieces = concatenate_weather([spans.next(n) for n in (92, 365, 1, 365)])
    for name in ("precip", "temp", "pet", "peti", "anomaly"):
        np.testing.assert_allclose(getattr(pieces, name), getattr(whole, name), rtol=1e-12, atol=1e-12)
    # and a different seed is a different draw (the comparison above could not pass vacuously)
    other = WeatherGenerator(np.random.default_rng(12), grid, dates).next(len(dates))
    assert np.abs(other.temp - whole.temp).max() > 1.0


def test_year_spans_cover_the_days_in_calendar_years_after_the_spin_up():
    from hydroprobe.sources.synthetic.world import year_spans

    dates = pd.date_range("1970-10-01", "1975-06-30")
    spans = year_spans(dates, 730)
    assert spans[0].start == 0 and spans[-1].stop == len(dates)
    assert all(a.stop == b.start for a, b in zip(spans, spans[1:]))
    assert spans[0].stop - spans[0].start >= 730  # the spin-up reads its days in the first span
    assert [str(dates[s.start].date()) for s in spans[1:]] == ["1973-01-01", "1974-01-01", "1975-01-01"]
    short = pd.date_range("1990-10-01", "1991-03-31")
    assert year_spans(short, 730) == [slice(0, len(short))]
