"""Daily weather for every grid cell: precipitation, temperature, PET and PET-with-interception.

* Precipitation: a latent Gaussian field, spatially correlated (exponential covariance,
  ~70 km) and AR(1) in time (wet/dry persistence), is thresholded to give wet days; a second,
  less persistent correlated field sets amounts through a heavy-tailed Weibull quantile map.
  Wet-day probability and mean amount rise with elevation (orographic), with the grid's
  Atlantic exposure and in winter. Nothing depends on where the region lies beyond its cells'
  coordinates, elevation and exposure, so any region's grid works.
* Temperature: sea-level seasonal cycle + a regional AR(1) anomaly + small local noise,
  lapse rate 6.5 K/km.
* PET: Oudin et al. (2005) from temperature and extraterrestrial radiation (latitude, day of
  year). `peti` adds interception losses on wet days (as CHESS-PE), so peti ≥ pet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .grid import Grid, local_km

LAPSE = 6.5e-3  # K/m
# Mean sea-level air temperature at 57.3°N (°C). Chosen so that the basins span the snow
# climate of CAMELS-GB (frac_snow: median 0.02, 95th percentile 0.06, max 0.17), not only its
# snowiest corner: with 10 °C half of the basins had frac_snow > 0.05 (5 % of GB does).
SEA_LEVEL_MEAN_TEMP = 10.75
TEMPERATURE_REFERENCE_LAT = 57.3  # sea level cools 0.5 K per degree north of it (any region)


@dataclass
class Weather:
    """Arrays of shape (time, cell) over the model cells (land cells)."""

    precip: np.ndarray  # mm/d
    temp: np.ndarray  # °C
    pet: np.ndarray  # mm/d
    peti: np.ndarray  # mm/d
    anomaly: np.ndarray  # (time,) regional temperature anomaly, K


def _ndtr(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF (vectorised erf)."""
    from scipy.special import ndtr

    return ndtr(x)


def _ndtri(p: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(p)


def extraterrestrial_radiation(lat_deg: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """Ra (MJ m⁻² d⁻¹), FAO-56 eq. 21; shape (time, cell)."""
    phi = np.deg2rad(lat_deg)[None, :]
    j = doy[:, None].astype(float)
    dr = 1 + 0.033 * np.cos(2 * np.pi * j / 365)
    dec = 0.409 * np.sin(2 * np.pi * j / 365 - 1.39)
    ws = np.arccos(np.clip(-np.tan(phi) * np.tan(dec), -1, 1))
    return (
        (24 * 60 / np.pi)
        * 0.0820
        * dr
        * (ws * np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.sin(ws))
    )


def _correlated_noise(rng, chol: np.ndarray, n_time: int, rho: float) -> np.ndarray:
    """AR(1)-in-time, spatially correlated standard normal field, shape (time, cell)."""
    eps = rng.standard_normal((n_time, chol.shape[0])) @ chol.T
    z = np.empty_like(eps)
    z[0] = eps[0]
    s = math.sqrt(1 - rho**2)
    for t in range(1, n_time):
        z[t] = rho * z[t - 1] + s * eps[t]
    return z


def make_weather(rng: np.random.Generator, grid: Grid, dates: pd.DatetimeIndex) -> Weather:
    """Generate the forcing for the land cells over `dates`."""
    idx = grid.land_index
    lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    lat = lat2.ravel()[idx]
    lon = lon2.ravel()[idx]
    elev = grid.elev.ravel()[idx]
    n_t, n_c = len(dates), idx.size
    doy = dates.day_of_year.to_numpy()
    season = np.cos(2 * np.pi * (doy - 15) / 365.25)[:, None]  # +1 mid-January, −1 mid-July

    # Spatial covariance (exponential, 70 km) → Cholesky factor.
    x, y = local_km(lon, lat, grid.centre)
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    chol = np.linalg.cholesky(np.exp(-d / 70.0) + 1e-9 * np.eye(n_c))
    chol_amt = np.linalg.cholesky(np.exp(-d / 35.0) + 1e-9 * np.eye(n_c))

    # Occurrence: persistent latent field, wetter west/high and in winter.
    west = grid.exposure.ravel()[idx]
    p_wet = np.clip(0.44 + 0.12 * west + 0.10 * elev / 1000 + 0.07 * season, 0.2, 0.85)
    z_occ = _correlated_noise(rng, chol, n_t, rho=0.55)
    wet = z_occ > _ndtri(1 - p_wet)
    del p_wet, d

    # Amounts: heavy-tailed Weibull (shape 0.75), mean rising with elevation and in winter;
    # more intense when the occurrence field is strongly positive (storm cores).
    z_amt = _correlated_noise(rng, chol_amt, n_t, rho=0.2)
    z_amt = 0.75 * z_amt + 0.45 * np.clip(z_occ - 1.0, 0, None)
    del z_occ  # each (time, cell) field is 0.5 GB over 45 years of Great Britain: drop it once used
    u = np.clip(_ndtr(z_amt / math.sqrt(0.75**2 + 0.2)), 1e-12, 1 - 1e-9)
    k = 0.75
    mean_wet = (3.9 + 2.2 * west + 5.0 * elev / 1000) * (1 + 0.25 * season)  # mm per wet day
    if grid.rain_scale is not None:
        mean_wet = mean_wet * grid.rain_scale.ravel()[idx]
    lam = mean_wet / math.gamma(1 + 1 / k)
    amount = lam * (-np.log1p(-u)) ** (1 / k)
    precip = np.where(wet, 0.1 + amount, 0.0)
    del z_amt, u, amount, mean_wet, lam

    # Temperature: seasonal cycle (more continental inland), regional AR(1) anomaly, lapse rate.
    cyc = -np.cos(2 * np.pi * (doy - 22) / 365.25)[:, None]  # −1 ~22 Jan, +1 ~23 Jul
    amp = 5.4 + 0.6 * west
    anom = np.empty(n_t)
    e = rng.standard_normal(n_t)
    sd = 2.1 + 0.5 * season[:, 0]  # larger anomalies in winter
    anom[0] = sd[0] * e[0]
    for t in range(1, n_t):
        anom[t] = 0.72 * anom[t - 1] + math.sqrt(1 - 0.72**2) * sd[t] * e[t]
    local = 0.5 * (rng.standard_normal((n_t, n_c)) @ chol.T)
    temp = (
        SEA_LEVEL_MEAN_TEMP
        - 0.5 * (lat - TEMPERATURE_REFERENCE_LAT)
        + amp * cyc
        - LAPSE * elev
        + anom[:, None]
        + local
    )
    del local
    temp = temp - 0.5 * wet  # wet days slightly cooler

    # PET (Oudin) and PET with interception on wet days.
    ra = extraterrestrial_radiation(lat, doy)
    pet = np.where(temp + 5 > 0, ra / 2.45 * (temp + 5) / 100, 0.0)
    pet *= np.where(wet, 0.8, 1.1)  # cloudier wet days
    interception = np.minimum(precip, 0.3 + 0.15 * pet) * np.clip(pet / 0.5, 0, 1) * 0.5
    peti = pet + np.where(wet, interception, 0.0)
    return Weather(precip=precip, temp=temp, pet=pet, peti=peti, anomaly=anom)
