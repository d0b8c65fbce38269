"""The synthetic region on the ERA5-Land 0.1° grid and its static landscape fields.

The embedded region is a NE-Scotland-like box (lon −4.0…−2.0, lat 56.6…58.0, cell centres on
multiples of 0.1°): smooth mountains in the west (a Cairngorm-like massif and a northern ridge),
lowlands falling to a coast in the east. Cells east of a wiggly coastline are sea (NaN on the
ERA5-Land grid). Soil properties vary smoothly with elevation and a random smooth field,
so the catchment attributes carry information about the hydrology.

The machinery (cell axes, smooth noise, soil from elevation) takes the region's box and centre
as arguments, so another region (`great_britain`) builds its grid from the same parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

R_EARTH = 6_371_000.0  # m
RES = 0.1  # degrees
LON0, LON1 = -4.0, -2.0
LAT0, LAT1 = 56.6, 58.0
CENTRE = (-3.0, 57.3)  # lon, lat: origin of the region's local kilometre coordinates
LAYER_DEPTHS_CM = np.array([7.0, 21.0, 72.0, 189.0])
KM_PER_DEG = 111.32


@dataclass
class Grid:
    """Cell centres (ascending), 2-D fields on (lat, lon) and flattened land-cell indexing."""

    lat: np.ndarray  # (ny,) ascending
    lon: np.ndarray  # (nx,) ascending
    elev: np.ndarray  # (ny, nx) m
    land: np.ndarray  # (ny, nx) bool
    soil: dict  # name -> (ny, nx) float field
    # Atlantic exposure, 0…1: wetter (more and larger rain days) and a wider seasonal cycle where 1
    exposure: np.ndarray  # (ny, nx)
    centre: tuple[float, float] = CENTRE  # lon, lat of the local kilometre coordinates
    # factor on the mean wet-day amount, (ny, nx); None = 1 (a region with a stronger contrast
    # between its wet west and dry east than the exposure terms of the weather give)
    rain_scale: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.elev.shape

    @property
    def land_index(self) -> np.ndarray:
        """Flat indices (row-major on (lat, lon)) of land cells: the model's cell axis."""
        return np.flatnonzero(self.land.ravel())


def spherical_cell_area(lat: np.ndarray, res: float = RES) -> np.ndarray:
    """Area (m²) of a res×res box centred on each latitude."""
    phi1 = np.deg2rad(lat - res / 2)
    phi2 = np.deg2rad(lat + res / 2)
    return R_EARTH**2 * np.deg2rad(res) * (np.sin(phi2) - np.sin(phi1))


def coast_lon(lat: np.ndarray | float) -> np.ndarray:
    """Longitude of the coastline at a latitude: land west of it, sea east of it."""
    lat = np.asarray(lat, dtype=float)
    return -2.33 + 0.12 * np.sin((lat - 56.6) * 4.2) + 0.06 * np.cos((lat - 56.6) * 9.0)


def local_km(lon, lat, centre: tuple[float, float] = CENTRE) -> tuple[np.ndarray, np.ndarray]:
    """East and north distances (km) from the region's centre, on a plane tangent at its latitude
    (good to a few per cent over a region: it sets correlation lengths, not areas)."""
    lon_c, lat_c = centre
    x = (lon - lon_c) * KM_PER_DEG * np.cos(np.deg2rad(lat_c))
    y = (lat - lat_c) * KM_PER_DEG
    return x, y


def cell_axes(lon0: float, lon1: float, lat0: float, lat1: float) -> tuple[np.ndarray, np.ndarray]:
    """Ascending cell centres (lat, lon) of the 0.1° grid from the first to the last centre."""
    nx = int(round((lon1 - lon0) / RES)) + 1
    ny = int(round((lat1 - lat0) / RES)) + 1
    return np.round(lat0 + RES * np.arange(ny), 1), np.round(lon0 + RES * np.arange(nx), 1)


def smooth_noise(
    rng: np.random.Generator, lat2, lon2, length_km: float, n_waves: int = 24, centre=CENTRE
) -> np.ndarray:
    """Smooth random field (zero mean, unit-ish std) from random plane waves."""
    x, y = local_km(lon2, lat2, centre)
    k = rng.normal(0.0, 1.0 / length_km, size=(n_waves, 2))
    phase = rng.uniform(0, 2 * np.pi, size=n_waves)
    f = np.zeros_like(x)
    for (kx, ky), ph in zip(k, phase):
        f += np.cos(2 * np.pi * (kx * x + ky * y) + ph)
    return f / np.sqrt(n_waves / 2)


def make_grid(rng: np.random.Generator) -> Grid:
    """Build the elevation, land mask and soil parameter fields."""
    lat, lon = cell_axes(LON0, LON1, LAT0, LAT1)
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")

    # Elevation: two massifs in the west, a general eastward decline, gentle random relief.
    def bump(lo, la, h, sx, sy):
        return h * np.exp(-(((lon2 - lo) / sx) ** 2) - ((lat2 - la) / sy) ** 2)

    elev = (
        bump(-3.65, 57.05, 560.0, 0.40, 0.22)
        + bump(-3.85, 57.75, 480.0, 0.35, 0.25)
        + bump(-3.10, 57.25, 300.0, 0.30, 0.30)
    )
    ramp = np.clip((coast_lon(lat2) - lon2) / 2.0, 0, 1)  # 0 at coast, 1 far west
    elev += 30.0 + 320.0 * ramp**1.5
    elev += 45.0 * smooth_noise(rng, lat2, lon2, 40.0) * (0.3 + ramp)
    land = lon2 < coast_lon(lat2)
    elev = np.where(land, np.maximum(elev * np.clip((coast_lon(lat2) - lon2) / 0.25, 0.15, 1), 2.0), 0.0)
    exposure = np.clip((-2.2 - lon2) / 1.8, 0, 1)  # the west, inland and higher, is wetter
    soil = soil_fields(rng, lat2, lon2, elev)
    return Grid(lat=lat, lon=lon, elev=elev, land=land, soil=soil, exposure=exposure)


def soil_fields(rng: np.random.Generator, lat2, lon2, elev: np.ndarray, centre=CENTRE) -> dict:
    """Soil parameter fields (ny, nx) from elevation and three smooth random fields."""
    # Soil: mountains → thin organic (peaty) soils, porous but poorly drained, as in upland
    # Britain (their ERA5-Land top layer stays wet and smooth); lowlands → deeper loams/clays.
    hi = np.clip(elev / 900.0, 0, 1)
    n1 = smooth_noise(rng, lat2, lon2, 50.0, centre=centre)
    n2 = smooth_noise(rng, lat2, lon2, 35.0, centre=centre)
    n3 = smooth_noise(rng, lat2, lon2, 60.0, centre=centre)
    sand = np.clip(45 + 5 * hi + 8 * n1, 15, 85)
    clay = np.clip(22 - 4 * hi - 5 * n1 + 3 * n2, 5, 45)
    silt = 100 - sand - clay
    return {
        "sand_perc": sand,
        "clay_perc": clay,
        "silt_perc": silt,
        "porosity": np.clip(0.43 + 0.05 * hi + 0.015 * n2, 0.36, 0.52),
        "theta_r": np.clip(0.03 + 0.0015 * clay + 0.005 * n3, 0.02, 0.12),
        "ksat": np.exp(np.log(250.0) - 1.0 * hi - 0.025 * (clay - 20) + 0.25 * n3),  # mm/d
        "bexp": np.clip(4.0 + 0.12 * clay + 0.4 * n2, 3.5, 11.0),  # Campbell b
        "soil_depth": np.clip(1.8 - 1.1 * hi + 0.3 * n1, 0.3, 3.0),  # m (Pelletier-like)
        "bedrock_perm": np.clip(0.35 - 0.15 * hi + 0.12 * n3, 0.05, 0.6),
    }


def slope_m_per_km(grid: Grid) -> np.ndarray:
    """Mean slope magnitude (m/km) from central differences of the elevation field."""
    dy_km = RES * KM_PER_DEG
    dx_km = RES * KM_PER_DEG * np.cos(np.deg2rad(grid.lat))[:, None]
    gy, gx = np.gradient(grid.elev)
    return np.hypot(gx / dx_km, gy / dy_km) + 5.0
