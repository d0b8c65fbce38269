"""The Great-Britain synthetic world (region great_britain): coastline, landscape, climate, the
catchment set; and the embedded NE-Scotland world left exactly as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from hydroprobe.config import ConfigError
from hydroprobe.sources.synthetic import build_world, generate_world
from hydroprobe.sources.synthetic import great_britain as gb
from hydroprobe.sources.synthetic.catchments import area_km2
from hydroprobe.sources.synthetic.grid import RES

SEED = 5
N_BASINS = 40


@pytest.fixture(scope="module")
def world():
    # a winter and a summer: enough for snow and for the summer drying of the soils
    return build_world(SEED, "1990-10-01", "1991-09-30", region="great_britain", n_basins=N_BASINS)


@pytest.fixture(scope="module")
def catchment_set():
    """The preset's number of catchments on the GB coastline (no weather: seconds)."""
    polygon = gb.coastline()
    return gb.make_catchments(gb.DEFAULT_BASINS, polygon, gb.land_mask(polygon), SEED)


def _cell(grid, lon: float, lat: float) -> tuple[int, int]:
    return int(np.argmin(np.abs(grid.lat - lat))), int(np.argmin(np.abs(grid.lon - lon)))


def _cells_in(grid, lon0, lon1, lat0, lat1) -> np.ndarray:
    """Flat model-cell positions (the weather's cell axis) of the land cells inside a box."""
    lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    inside = (lon2 >= lon0) & (lon2 <= lon1) & (lat2 >= lat0) & (lat2 <= lat1) & grid.land
    return np.flatnonzero(np.isin(grid.land_index, np.flatnonzero(inside.ravel())))


# ---------------------------------------------------------------- the box and its coastline


def test_grid_is_the_papers_era5_land_box(world):
    g = world.grid
    assert g.shape == (87, 92)
    assert (g.lat[0], g.lat[-1], g.lon[0], g.lon[-1]) == (50.0, 58.6, -7.5, 1.6)
    # every cell centre on a multiple of 0.1° inside the box requested from the CDS (N, W, S, E)
    assert g.lat[0] - RES / 2 < 50.0 and g.lat[-1] < 58.64 and g.lon[0] > -7.57 and g.lon[-1] < 1.68


def test_land_where_britain_is(world):
    g = world.grid
    # GB is ~230,000 km² (~3,100 cells of ~75 km² at 54°N), plus the Isle of Man and east Ireland
    assert 3000 < g.land.sum() < 4300
    assert 0.35 < g.land.mean() < 0.55
    for lon, lat in [(-0.1, 51.5), (-3.6, 57.1), (-3.2, 55.9), (-3.8, 52.3), (-4.5, 54.2), (-6.3, 53.3)]:
        assert g.land[_cell(g, lon, lat)], (
            lon,
            lat,
        )  # London, Cairngorms, Edinburgh, Wales, Man, Dublin's hills
    for lon, lat in [(1.3, 54.0), (-5.0, 53.8), (-7.0, 51.0), (-2.0, 50.2), (-7.0, 58.0)]:
        assert not g.land[_cell(g, lon, lat)], (lon, lat)  # North Sea, Irish Sea, Atlantic, Channel, Minch


# ---------------------------------------------------------------- landscape and climate


def test_uplands_in_the_west_and_north_lowlands_in_the_south_east(world):
    g = world.grid
    lat2, lon2 = np.meshgrid(g.lat, g.lon, indexing="ij")

    def mean_elev(lon0, lon1, lat0, lat1):
        inside = (lon2 >= lon0) & (lon2 <= lon1) & (lat2 >= lat0) & (lat2 <= lat1) & g.land
        return g.elev[inside].mean()

    highlands = mean_elev(-5.5, -3.0, 56.5, 58.0)
    wales = mean_elev(-4.2, -3.2, 51.8, 53.2)
    pennines = mean_elev(-2.4, -1.8, 53.5, 55.0)
    south_east = mean_elev(-1.0, 1.6, 50.8, 52.8)
    assert min(highlands, wales, pennines) > 2.5 * south_east
    assert south_east < 120
    assert 800 < g.elev.max() < 1345  # below Ben Nevis
    assert (g.elev[~g.land] == 0).all() and (g.elev[g.land] >= 2).all()


def test_wet_west_dry_east_and_snow_in_the_scottish_mountains(world):
    g, wx, out = world.grid, world.weather, world.output
    west_wales = _cells_in(g, -4.5, -3.6, 52.0, 53.2)
    east_anglia = _cells_in(g, 0.3, 1.6, 52.0, 53.0)
    highlands = _cells_in(g, -4.8, -3.3, 56.7, 57.5)
    south = _cells_in(g, -4.0, 1.6, 50.0, 51.6)
    p_west, p_east = wx.precip[:, west_wales].mean(), wx.precip[:, east_anglia].mean()
    assert p_west > 2.0 * p_east
    assert 1.2 < p_east < 2.3  # East Anglia: ~600 mm a year
    # snow lies for weeks on the Scottish mountains, hardly ever in the south
    snow_days = (out.swe > 0.001).mean(axis=0)
    assert snow_days[highlands].mean() > 0.1
    assert snow_days[south].mean() < 0.02
    # the south-east dries more in summer than the wet west (top layer, August vs February)
    months = world.dates.month
    drying = out.theta[months == 2, :, 0].mean(0) - out.theta[months == 8, :, 0].mean(0)
    assert drying[east_anglia].mean() > drying[west_wales].mean()


def test_basin_climate_spans_camels_gb(world):
    s = world.basin_series
    p, pet = s["precipitation"].mean(0), s["pet"].mean(0)
    assert p.min() < 2.2 and p.max() > 3.5  # CAMELS-GB p_mean: 1.6 (East Anglia) ... 8.9 mm/d
    assert 0.8 < pet.min() and pet.max() < 2.2
    for name in ("swvl1", "swvl2", "swvl3", "swvl4", "sd", "discharge_spec"):
        assert np.isfinite(s[name]).all(), name  # every basin lies over some land cell


# ---------------------------------------------------------------- catchments


def test_catchment_areas_span_camels_gb(catchment_set):
    areas = np.array([area_km2(c.polygon) for c in catchment_set])
    assert len(catchment_set) == gb.DEFAULT_BASINS
    assert areas.min() >= gb.MIN_AREA_KM2 and areas.min() < 5
    assert 2000 < areas.max() <= gb.MAX_AREA_KM2 * 1.01
    assert 100 < np.median(areas) < 300  # CAMELS-GB's median is ~200 km²
    kinds = pd.Series([c.kind for c in catchment_set]).value_counts()
    assert 0.07 < kinds["nested"] / len(catchment_set) < 0.18
    assert kinds["coastal"] >= 30
    assert len({c.gauge_id for c in catchment_set}) == len(catchment_set)


def test_nested_catchments_lie_inside_an_earlier_one(catchment_set):
    earlier = {c.gauge_id: c.polygon for c in catchment_set}
    for c in catchment_set:
        if c.kind != "nested":
            continue
        hosts = [g for g, poly in earlier.items() if g < c.gauge_id and c.polygon.within(poly.buffer(1e-9))]
        assert hosts, c.gauge_id
        assert area_km2(c.polygon) < area_km2(earlier[hosts[-1]])


def test_coastal_catchments_overlap_sea_cells_and_none_is_only_sea(catchment_set):
    polygon = gb.coastline()
    land = gb.land_mask(polygon)
    rows, cols = np.nonzero(~land)
    sea = shapely.union_all(
        shapely.box(
            gb.LON[cols] - RES / 2, gb.LAT[rows] - RES / 2, gb.LON[cols] + RES / 2, gb.LAT[rows] + RES / 2
        )
    )
    rows, cols = np.nonzero(land)
    land_cells = shapely.union_all(
        shapely.box(
            gb.LON[cols] - RES / 2, gb.LAT[rows] - RES / 2, gb.LON[cols] + RES / 2, gb.LAT[rows] + RES / 2
        )
    )
    coastal = [c for c in catchment_set if c.kind == "coastal"]
    over_sea = [c for c in coastal if c.polygon.intersection(sea).area > 0]
    assert len(over_sea) > 0.8 * len(coastal)
    ireland = shapely.Polygon(gb._IRELAND)
    for c in catchment_set:
        assert c.polygon.intersection(land_cells).area > 0, c.gauge_id
        assert c.polygon.within(polygon.buffer(1e-9)) and not c.polygon.intersects(ireland), c.gauge_id


def test_outlets_on_the_catchment_boundary_at_its_lowest_point(world):
    from hydroprobe.sources.synthetic.catchments import elevation_sampler

    elev_at = elevation_sampler(world.grid)
    for c in world.catchments:
        ring = np.asarray(c.polygon.exterior.coords)
        assert shapely.Point(c.outlet).distance(c.polygon.exterior) < 1e-9
        assert (
            elev_at(np.array([c.outlet[0]]), np.array([c.outlet[1]]))[0]
            == elev_at(ring[:, 0], ring[:, 1]).min()
        )


def test_weights_sum_to_one_over_land_cells(world):
    sums = world.weights.groupby("basin")["weight"].sum()
    assert sorted(sums.index) == sorted(world.basins) and len(world.basins) == N_BASINS
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-12)
    assert world.grid.land[world.weights.i, world.weights.j].all()


# ---------------------------------------------------------------- settings and the default world


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"n_basins": 40}, "synthetic.n_basins"),
        ({"region": "wales"}, "synthetic.region"),
        ({"start": "1960-01-01"}, "synthetic.start/end"),
        ({"start": "1995-01-01", "end": "1994-01-01"}, "synthetic.start/end"),
        ({"start": "1990-01-01", "end": "1992-12-31", "era5_years": (1989, 1992)}, "synthetic.era5_years"),
    ],
)
def test_bad_settings_stop_before_the_simulation(tmp_path, settings, key):
    settings = {"era5_years": (1990, 1991), **settings}
    with pytest.raises(ConfigError, match=key.replace("/", "/")) as caught:
        generate_world(tmp_path, 1, **settings)
    assert "\n" not in str(caught.value)
    assert not any(tmp_path.iterdir())


def test_default_world_is_unchanged():
    """The embedded world's arrays, summed, as the generator made them before regions existed:
    a changed formula or random draw moves these by far more than the tolerance."""
    w = build_world(7, "1990-10-01", "1991-03-31")
    expected = {
        "elev": (w.grid.elev, 65329.29000413217),
        "ksat": (w.grid.soil["ksat"], 66184.89358134559),
        "precip": (w.weather.precip, 187922.63348985673),
        "temp": (w.weather.temp, 282471.70566912944),
        "peti": (w.weather.peti, 21594.23262194),
        "theta": (w.output.theta, 65128.35981710255),
        "swe": (w.output.swe, 47.56980852196284),
        "runoff": (w.output.runoff, 168560.57920291804),
        "weights": (w.weights.weight.to_numpy() * w.weights.i.to_numpy(), 81.62972482033632),
        "discharge_spec": (w.basin_series["discharge_spec"], 8917.457338318334),
        "swvl1": (w.basin_series["swvl1"], 793.96344546423),
        "swvl4": (w.basin_series["swvl4"], 886.6670271321093),
        "sd": (w.basin_series["sd"], 3.790336342116017),
        "discharge_obs": (np.nan_to_num(w.basin_series["discharge_obs"]), 8132.970426601047),
    }
    for name, (array, total) in expected.items():
        assert float(np.sum(np.asarray(array, dtype=np.float64))) == pytest.approx(total, rel=1e-12), name
    assert [c.gauge_id for c in w.catchments] == list(range(8001, 8014))


def test_generation_asks_for_what_the_gb_world_takes(world):
    from hydroprobe.sources.synthetic import resources
    from hydroprobe.sources.synthetic.grid import make_grid

    assert resources.LAND_CELLS["great_britain"] == world.grid.land.sum()
    assert resources.LAND_CELLS["ne_scotland"] == make_grid(np.random.default_rng(0)).land.sum()
    from hydroprobe.sources.synthetic.great_britain import DEFAULT_BASINS

    assert resources.BASINS["great_britain"] == DEFAULT_BASINS
    record = {"start": "1970-10-01", "end": "2015-09-30"}
    # 45 years of Great Britain's 670 basins peaked at 1.56 GB and ran 11.5 minutes on a busy machine
    assert 1600 <= resources.mem_mb({"region": "great_britain", **record}) <= 3000
    assert resources.mem_mb({"region": "great_britain", "n_basins": 2000, **record}) >= 3000
    assert resources.runtime_min({"region": "great_britain", **record}) >= 23
    # the embedded world: what the rule always asked
    assert resources.mem_mb({"region": "ne_scotland", **record}) == 2000
    assert resources.runtime_min({"region": "ne_scotland", **record}) == 30
