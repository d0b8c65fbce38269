"""The Great-Britain region: the paper's ERA5-Land box with a GB-like coastline and its catchments.

The box is the one Lees et al. (2022) requested from the CDS (49.96–58.64 N, 7.57 W–1.68 E): the
0.1° cell centres inside it, 87 × 92 cells. Land is a coarse outline of Great Britain, the east of
Ireland and the Isle of Man (a cell is land where its centre is); sea cells are NaN, as in
ERA5-Land. The landscape is built from the embedded region's parts (grid.py): uplands where
Britain has them — the Highlands, Southern Uplands, Lake District, Pennines, Wales, Dartmoor and
Exmoor — over lowlands falling to the south-east, smooth random relief, and the soil fields of
grid.py from elevation. The Atlantic exposure falls with the distance a westerly wind has
travelled over land, so the west is wet and the east and south-east dry, in the rain shadow.

Catchments sit on Great Britain only (CAMELS-GB has no Irish ones): log-normal areas around
CAMELS-GB's median (~200 km², 1.5–10,000 km²), coastal ones clipped to the coastline (so they
overlap sea cells), about one in eight nested inside an earlier one.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import Point, Polygon, box

from .catchments import Catchment, area_km2, elevation_sampler, lowest_point, random_blob, scaled_to_area
from .grid import KM_PER_DEG, RES, Grid, cell_axes, smooth_noise, soil_fields

LAT, LON = cell_axes(-7.5, 1.6, 50.0, 58.6)  # cell centres inside the paper's box
CENTRE = (-3.0, 54.3)  # lon, lat of the local kilometre coordinates
DEFAULT_BASINS = 670  # CAMELS-GB has 671 catchments; the paper's LSTM used 669
MIN_AREA_KM2 = 1.5  # the smallest CAMELS-GB catchment is ~1.6 km²
MAX_AREA_KM2 = 10_000.0  # the Thames at Kingston is ~9,950 km²
MEDIAN_AREA_KM2 = 200.0
NESTED_SHARE = 0.125
# How far a westerly wind carries its moisture over land: the exposure falls as exp(−fetch/this).
EXPOSURE_FETCH_KM = 120.0

# coarse outlines (lon, lat): Great Britain clockwise from Land's End, Ireland's east inside the box
_GB = [
    (-5.7, 50.05), (-5.2, 49.97), (-4.1, 50.35), (-2.45, 50.55), (-1.3, 50.65), (-0.1, 50.8),
    (1.4, 51.1), (1.45, 51.38), (0.9, 51.55), (1.75, 52.1), (1.75, 52.75), (0.3, 52.95),
    (0.3, 53.5), (0.1, 53.6), (-0.1, 54.1), (-0.6, 54.5), (-1.4, 55.0), (-2.0, 55.8),
    (-2.6, 56.05), (-2.6, 56.3), (-2.05, 57.1), (-1.8, 57.5), (-2.0, 57.7), (-3.8, 57.65),
    (-3.8, 57.85), (-3.1, 58.45), (-3.0, 58.62), (-5.0, 58.6), (-5.2, 57.9), (-5.7, 57.5),
    (-6.2, 56.7), (-5.5, 56.4), (-5.7, 55.3), (-4.9, 55.7), (-4.65, 55.45), (-5.1, 54.9),
    (-3.6, 54.9), (-3.6, 54.5), (-3.0, 54.1), (-3.05, 53.6), (-3.0, 53.4), (-4.6, 53.3),
    (-4.6, 53.4), (-4.7, 52.8), (-4.1, 52.5), (-5.3, 51.85), (-4.2, 51.55), (-3.0, 51.55),
    (-4.2, 51.2), (-4.55, 51.0), (-5.0, 50.5),
]  # fmt: skip
_IRELAND = [
    (-7.6, 55.2),
    (-6.2, 55.25),
    (-5.45, 54.45),
    (-6.0, 53.9),
    (-6.05, 53.0),
    (-6.35, 52.2),
    (-7.6, 52.1),
]

# Uplands as Gaussian hills: lon, lat (centre), height (m), lon and lat radius (degrees)
_UPLANDS = [
    (-5.0, 57.7, 650.0, 0.60, 0.45),  # NW Highlands
    (-4.2, 56.9, 700.0, 0.90, 0.35),  # Grampians
    (-3.65, 57.08, 450.0, 0.35, 0.20),  # Cairngorms
    (-3.6, 55.4, 420.0, 0.90, 0.25),  # Southern Uplands
    (-3.1, 54.5, 500.0, 0.25, 0.18),  # Lake District
    (-2.1, 54.2, 430.0, 0.25, 0.90),  # Pennines
    (-0.9, 54.35, 260.0, 0.30, 0.12),  # North York Moors
    (-3.9, 53.0, 550.0, 0.25, 0.20),  # Snowdonia
    (-3.7, 52.3, 420.0, 0.45, 0.45),  # Cambrian Mountains
    (-3.5, 51.85, 420.0, 0.40, 0.15),  # Brecon Beacons
    (-3.9, 50.6, 380.0, 0.15, 0.12),  # Dartmoor
    (-3.65, 51.12, 300.0, 0.20, 0.08),  # Exmoor
    (-4.5, 54.25, 300.0, 0.08, 0.10),  # Isle of Man
    (-6.35, 53.05, 450.0, 0.25, 0.25),  # Wicklow Mountains
    (-6.0, 54.18, 380.0, 0.15, 0.10),  # Mourne Mountains
]


def coastline() -> Polygon:
    """Land polygon (lon/lat) inside the box: GB, the east of Ireland, the Isle of Man."""
    edge = box(LON[0] - RES / 2, LAT[0] - RES / 2, LON[-1] + RES / 2, LAT[-1] + RES / 2)
    man = Point(-4.5, 54.22).buffer(0.2)
    return Polygon(_GB).union(Polygon(_IRELAND)).union(man).intersection(edge)


def land_mask(land_polygon) -> np.ndarray:
    """(lat ascending, lon) True where the cell centre is on land."""
    lon2, lat2 = np.meshgrid(LON, LAT)
    return shapely.contains_xy(land_polygon, lon2, lat2)


def westerly_fetch_km(land: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(lat, lon) km of land a wind from the west has crossed to reach each cell centre (0 at sea;
    the box's western edge counts as open sea), averaged over the rows within 30 km north and
    south: the wind blows from west-south-west to west-north-west, so a narrow inlet (the Bristol
    Channel) does not draw a wet stripe across England."""
    from scipy.ndimage import uniform_filter1d

    fetch = np.zeros(land.shape)
    cell_km = RES * KM_PER_DEG * np.cos(np.deg2rad(lat))
    for i in range(land.shape[0]):
        run = 0.0
        for j in range(land.shape[1]):
            run = run + cell_km[i] if land[i, j] else 0.0
            fetch[i, j] = run
    return uniform_filter1d(fetch, size=7, axis=0, mode="nearest")


def make_grid(rng: np.random.Generator) -> Grid:
    """Elevation, land mask, Atlantic exposure and soil fields of the Great-Britain box."""
    lat2, lon2 = np.meshgrid(LAT, LON, indexing="ij")
    land_polygon = coastline()
    land = land_mask(land_polygon)
    uplands = sum(
        h * np.exp(-(((lon2 - lo) / sx) ** 2) - ((lat2 - la) / sy) ** 2) for lo, la, h, sx, sy in _UPLANDS
    )
    # lowlands rise gently from the south-east (London Basin, the Fens) to the north-west
    plain = 30.0 + 120.0 * np.clip((lat2 - 51.0) / 6.0 - lon2 / 8.0, 0, 1)
    hilly = np.clip(uplands / 500.0, 0, 1)
    elev = plain + uplands + 45.0 * smooth_noise(rng, lat2, lon2, 40.0, centre=CENTRE) * (0.3 + hilly)
    coast_deg = shapely.distance(land_polygon.boundary, shapely.points(lon2, lat2))
    elev = np.where(land, np.maximum(elev * np.clip(coast_deg / 0.25, 0.15, 1), 2.0), 0.0)
    exposure = np.where(land, np.exp(-westerly_fetch_km(land, LAT) / EXPOSURE_FETCH_KM), 1.0)
    # Britain's rain falls ~3 times as heavily on its western hills as in East Anglia: wet days
    # there bring more (×1.4), in the rain shadow less (×0.8)
    rain_scale = 0.8 + 0.6 * exposure
    soil = soil_fields(rng, lat2, lon2, elev, centre=CENTRE)
    return Grid(
        lat=LAT,
        lon=LON,
        elev=elev,
        land=land,
        soil=soil,
        exposure=exposure,
        centre=CENTRE,
        rain_scale=rain_scale,
    )


def make_catchments(n: int, land_polygon, land: np.ndarray, seed) -> list[Catchment]:
    """`n` catchments (lon/lat polygons) on Great Britain, each over at least one land cell.

    `seed`: an int or a numpy Generator. Outlets are the polygons' centroids; `with_outlets`
    moves them to the lowest boundary point once the landscape exists.
    """
    rng = np.random.default_rng(seed)
    gb = land_polygon.intersection(Polygon(_GB))  # CAMELS-GB: no Irish catchments
    rows, cols = np.nonzero(land & shapely.contains_xy(gb, *np.meshgrid(LON, LAT)))
    land_cells = shapely.box(
        LON[cols] - RES / 2, LAT[rows] - RES / 2, LON[cols] + RES / 2, LAT[rows] + RES / 2
    )
    land_tree = shapely.STRtree(land_cells)

    def covers_land(poly) -> bool:
        near = land_cells[land_tree.query(poly, predicate="intersects")]
        return bool(shapely.area(shapely.intersection(near, poly)).sum() > 0)

    out: list[Catchment] = []
    while len(out) < n:
        gid = 1001 + len(out)
        if out and rng.random() < NESTED_SHARE:  # a part of an earlier one around one of its points
            parent = out[rng.integers(len(out))].polygon
            inner = _point_in(rng, parent)
            target = parent.area * rng.uniform(0.08, 0.4)
            blob = random_blob(rng, inner.x, inner.y, 1.0, rng.uniform(1, 2), rng.uniform(0, 180))
            blob = _scaled_deg(blob, inner, target)
            poly = _part_with(parent.intersection(blob), inner)
            kind = "nested"
        else:
            k = rng.integers(rows.size)
            lon = LON[cols[k]] + rng.uniform(-0.045, 0.045)
            lat = LAT[rows[k]] + rng.uniform(-0.045, 0.045)
            centre = Point(lon, lat)
            if not gb.contains(centre):
                continue
            area = float(np.clip(rng.lognormal(np.log(MEDIAN_AREA_KM2), 1.3), MIN_AREA_KM2, MAX_AREA_KM2))
            aspect, rot = rng.uniform(1.0, 2.0), rng.uniform(0, 180)
            blob = scaled_to_area(
                random_blob(rng, lon, lat, np.sqrt(area / np.pi), aspect, rot), lon, lat, area
            )
            poly = _part_with(blob.intersection(gb), centre)
            kind = "coastal" if not blob.within(gb) else "inland"
        # a sliver left by the coastline, or a coastal catchment over sea cells only (its
        # ERA5-Land mean would not exist, as for the paper's dropped gauge 107001)
        if poly is None or area_km2(poly) < MIN_AREA_KM2 or not covers_land(poly):
            continue
        out.append(Catchment(gid, f"synthetic {gid}", poly, (poly.centroid.x, poly.centroid.y), kind))
    return out


def with_outlets(catchments: list[Catchment], grid: Grid) -> list[Catchment]:
    """The gauges at each polygon's lowest boundary point on the landscape (at sea on the coast)."""
    elev_at = elevation_sampler(grid)
    for c in catchments:
        c.outlet = lowest_point(c.polygon, elev_at)
    return catchments


def catchments_on(grid: Grid, rng: np.random.Generator, n_basins: int) -> list[Catchment]:
    """The region's catchment set on its landscape (world.build_world's entry point)."""
    return with_outlets(make_catchments(n_basins, coastline(), grid.land, rng), grid)


def _point_in(rng, poly) -> Point:
    x0, y0, x1, y1 = poly.bounds
    while True:
        p = Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if poly.contains(p):
            return p


def _scaled_deg(poly, origin, target_area_deg2: float):
    f = np.sqrt(target_area_deg2 / poly.area)
    return affinity.scale(poly, f, f, origin=origin)


def _part_with(geom, point):
    """The polygon part of `geom` holding `point` (the shapefile writer takes single polygons)."""
    parts = getattr(geom, "geoms", [geom])
    parts = [g for g in parts if g.geom_type == "Polygon" and g.buffer(1e-9).contains(point)]
    return parts[0] if parts else None
