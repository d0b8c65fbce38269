"""Catchment polygons (lon/lat) and their exact area weights on the 0.1° grid.

Polygons are irregular blobs (ellipses with random harmonic perturbations of the radius,
many vertices) scaled to a target area in British National Grid. The set spans wet mountain,
dry lowland and snowy high catchments, one smaller than a grid cell, one on the coast
(overlapping sea cells) and a nested pair (the inner one is the outer one cut to a blob around
the shared outlet).

Weights: for each cell, coverage = area(polygon ∩ cell box)/area(cell box) in degree space,
times the spherical cell area; renormalised to sum to 1 over land cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import Polygon, box

from .grid import RES, Grid, spherical_cell_area

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _bng_coords(xy: np.ndarray) -> np.ndarray:
    return np.column_stack(_TO_BNG.transform(xy[:, 0], xy[:, 1]))


@dataclass
class Catchment:
    gauge_id: int
    name: str
    polygon: Polygon  # lon/lat
    outlet: tuple[float, float]  # lon, lat
    kind: str


# gauge_id, name, centre lon, lat, target area km², aspect, rotation (deg), kind
_SPECS = [
    (8001, "Allt Mor at Glenbeag", -3.72, 57.08, 260.0, 1.6, 20, "snowy"),
    (8002, "River Feshie at Feshiebridge", -3.62, 57.18, 420.0, 1.4, -30, "snowy"),
    (8003, "River Carron at Braeval", -3.80, 57.62, 180.0, 1.3, 60, "wet"),
    (8004, "Water of Aven at Achmore", -3.88, 56.88, 320.0, 1.8, 10, "wet"),
    (8005, "Burn of Deskie at Mill of Deskie", -3.45, 57.45, 32.0, 1.3, 45, "subgrid"),
    (8006, "River Deveron at Turriff", -3.05, 57.52, 900.0, 1.5, 15, "mixed"),
    (8007, "River Ythan at Ellon", -2.62, 57.30, 480.0, 1.5, -20, "dry"),
    (8008, "Cowie Water at Stonehaven", -2.33, 56.98, 160.0, 1.4, 0, "coastal"),
    (8009, "Burn of Leuchar at Skene", -2.75, 57.12, 95.0, 1.3, 0, "dry"),
    (8010, "River Ugie at Inverugie", -2.90, 57.66, 330.0, 1.4, 30, "dry"),
    (8011, "River Don at Parkhill", -3.05, 57.15, 1700.0, 1.6, 5, "nested_outer"),
    (8012, "River Don at Alford", -3.05, 57.15, 0.0, 1.0, 0, "nested_inner"),
    (8013, "River Isla at Grange", -3.35, 56.80, 230.0, 1.5, -40, "mixed"),
]


def random_blob(rng, lon, lat, a_km, aspect, rot_deg, n=180) -> Polygon:
    """An irregular lon/lat polygon around (lon, lat): an ellipse of mean radius ~`a_km`, with
    random harmonics and a ragged edge."""
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 7):
        r += rng.normal(0, 0.10 / k**0.6) * np.cos(k * ang + rng.uniform(0, 2 * np.pi))
    r += 0.015 * rng.standard_normal(n)  # ragged edge
    x = a_km * aspect * r * np.cos(ang)
    y = a_km / aspect * r * np.sin(ang)
    t = np.deg2rad(rot_deg)
    xr, yr = x * np.cos(t) - y * np.sin(t), x * np.sin(t) + y * np.cos(t)
    km_lon = 111.32 * np.cos(np.deg2rad(lat))
    return Polygon(np.column_stack([lon + xr / km_lon, lat + yr / 111.32])).buffer(0)


def area_km2(poly_lonlat: Polygon) -> float:
    """Area in British National Grid (km²)."""
    return to_bng(poly_lonlat).area / 1e6


def scaled_to_area(poly: Polygon, lon: float, lat: float, target: float) -> Polygon:
    """`poly` scaled about (lon, lat) to `target` km² in British National Grid."""
    for _ in range(3):
        f = np.sqrt(target / area_km2(poly))
        poly = affinity.scale(poly, f, f, origin=(lon, lat))
    return poly


def to_bng(poly_lonlat: Polygon) -> Polygon:
    """Reproject a lon/lat geometry to British National Grid (EPSG:27700) metres."""
    return shapely.transform(poly_lonlat, _bng_coords)


def make_catchments(rng: np.random.Generator, grid: Grid) -> list[Catchment]:
    """Build the catchment set inside the grid box; outlets at the lowest boundary point."""
    elev_at = elevation_sampler(grid)
    bounds = box(
        grid.lon[0] - RES / 2 + 0.01,
        grid.lat[0] - RES / 2 + 0.01,
        grid.lon[-1] + RES / 2 - 0.01,
        grid.lat[-1] + RES / 2 - 0.01,
    )
    out: list[Catchment] = []
    outer = None
    for gid, name, lon, lat, target, aspect, rot, kind in _SPECS:
        if kind == "nested_inner":
            ol, oa = outer.outlet
            cut = random_blob(rng, ol - 0.18, oa, 14.0, 1.5, 0)
            poly = outer.polygon.intersection(cut)
            if poly.geom_type != "Polygon":
                poly = max(poly.geoms, key=lambda g: g.area)
            out.append(Catchment(gid, name, poly, outer.outlet, kind))
            continue
        a0 = np.sqrt(target / np.pi)
        poly = random_blob(rng, lon, lat, a0, aspect, rot).intersection(bounds)
        poly = scaled_to_area(poly, lon, lat, target).intersection(bounds)
        ring = np.asarray(poly.exterior.coords)[:-1]
        c = Catchment(gid, name, poly, lowest_point(poly, elev_at), kind)
        if kind == "nested_outer":
            # put the outlet on the eastern edge (downstream), inner catchment shares it
            ring_e = ring[np.argmax(ring[:, 0])]
            c.outlet = (float(ring_e[0]), float(ring_e[1]))
            outer = c
        out.append(c)
    return out


def lowest_point(poly: Polygon, elev_at) -> tuple[float, float]:
    """The outlet: the boundary vertex with the lowest elevation (a sea vertex on the coast)."""
    ring = np.asarray(poly.exterior.coords)[:-1]
    lon, lat = ring[np.argmin(elev_at(ring[:, 0], ring[:, 1]))]
    return float(lon), float(lat)


def elevation_sampler(grid: Grid):
    """f(lon, lat) -> elevation of the cell holding each point, −1 over sea."""

    def f(lon, lat):
        j = np.clip(np.round((lon - grid.lon[0]) / RES).astype(int), 0, grid.lon.size - 1)
        i = np.clip(np.round((lat - grid.lat[0]) / RES).astype(int), 0, grid.lat.size - 1)
        e = grid.elev[i, j]
        return np.where(grid.land[i, j], e, -1.0)

    return f


def exact_weights(
    polygons: dict[int, Polygon], lat: np.ndarray, lon: np.ndarray, land: np.ndarray
) -> pd.DataFrame:
    """Exact area weights of grid cells for each polygon (lon/lat, degrees).

    Returns one row per (basin, land cell) overlap: basin, latitude, longitude, coverage,
    weight, plus i/j indices into (lat, lon). Weights sum to 1 per basin over land cells.
    """
    cell_area = spherical_cell_area(np.asarray(lat, float))
    rows = []
    for gid, poly in polygons.items():
        x0, y0, x1, y1 = poly.bounds
        js = np.flatnonzero((lon + RES / 2 > x0) & (lon - RES / 2 < x1))
        is_ = np.flatnonzero((lat + RES / 2 > y0) & (lat - RES / 2 < y1))
        part = []
        for i in is_:
            for j in js:
                if not land[i, j]:
                    continue
                cell = box(lon[j] - RES / 2, lat[i] - RES / 2, lon[j] + RES / 2, lat[i] + RES / 2)
                cov = poly.intersection(cell).area / cell.area
                if cov > 0:
                    part.append((gid, i, j, float(lat[i]), float(lon[j]), cov, cov * cell_area[i]))
        if not part:
            continue
        tot = sum(r[6] for r in part)
        rows += [r[:6] + (r[6] / tot,) for r in part]
    return pd.DataFrame(rows, columns=["basin", "i", "j", "latitude", "longitude", "coverage", "weight"])
