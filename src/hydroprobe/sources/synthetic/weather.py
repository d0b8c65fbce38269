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


SKIP_BLOCK = 2**20  # normals drawn at once while moving a generator past a field


def _normal_streams(rng: np.random.Generator, draws: list[int]) -> list[np.random.Generator]:
    """Generators standing where each of `draws` consecutive standard-normal draws of `rng`
    begins, and `rng` moved past them all: a field drawn in one go, (time, cell) in C order, is
    the same numbers drawn a span of days at a time from its own generator."""
    streams = []
    for n in draws:
        stream = np.random.Generator(type(rng.bit_generator)())
        stream.bit_generator.state = rng.bit_generator.state
        streams.append(stream)
        for lo in range(0, n, SKIP_BLOCK):
            rng.standard_normal(min(SKIP_BLOCK, n - lo))
    return streams


class _CorrelatedNoise:
    """AR(1)-in-time, spatially correlated standard normal field (time, cell), a span of days
    at a time: the first day is the innovation itself, each later one rho·previous + √(1−rho²)·it."""

    def __init__(self, stream: np.random.Generator, chol: np.ndarray, rho: float):
        self.stream, self.chol, self.rho = stream, chol, rho
        self.last: np.ndarray | None = None

    def next(self, n_days: int) -> np.ndarray:
        eps = self.stream.standard_normal((n_days, self.chol.shape[0])) @ self.chol.T
        z = np.empty_like(eps)
        s = math.sqrt(1 - self.rho**2)
        z[0] = eps[0] if self.last is None else self.rho * self.last + s * eps[0]
        for t in range(1, n_days):
            z[t] = self.rho * z[t - 1] + s * eps[t]
        self.last = z[-1].copy()
        return z


class WeatherGenerator:
    """The forcing of the land cells over `dates`, drawn a span of days at a time (`next`), so
    that no field of the whole period is ever held: 45 years of Great Britain are ~0.5 GB per
    field. Spans follow each other from the first date; together they are one draw."""

    def __init__(self, rng: np.random.Generator, grid: Grid, dates: pd.DatetimeIndex):
        idx = grid.land_index
        lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
        self.lat = lat2.ravel()[idx]
        lon = lon2.ravel()[idx]
        self.elev = grid.elev.ravel()[idx]
        self.west = grid.exposure.ravel()[idx]
        self.rain_scale = None if grid.rain_scale is None else grid.rain_scale.ravel()[idx]
        n_t, n_c = len(dates), idx.size
        self.doy = dates.day_of_year.to_numpy()
        self.done = 0

        # Spatial covariance (exponential, 70 km and 35 km) → Cholesky factors.
        x, y = local_km(lon, self.lat, grid.centre)
        d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        chol = np.linalg.cholesky(np.exp(-d / 70.0) + 1e-9 * np.eye(n_c))
        chol_amt = np.linalg.cholesky(np.exp(-d / 35.0) + 1e-9 * np.eye(n_c))
        del d

        # The draws in the order the generator has always made them: the occurrence field, the
        # amount field, the regional temperature anomaly, the local temperature noise.
        occ, amt = _normal_streams(rng, [n_t * n_c, n_t * n_c])
        self.occurrence = _CorrelatedNoise(occ, chol, rho=0.55)
        self.amount = _CorrelatedNoise(amt, chol_amt, rho=0.2)
        self.anomaly = _temperature_anomaly(rng.standard_normal(n_t), self.doy)
        self.local, self.chol = rng, chol

    def next(self, n_days: int) -> Weather:
        """The forcing of the next `n_days` days."""
        span = slice(self.done, self.done + n_days)
        self.done += n_days
        doy = self.doy[span]
        season = np.cos(2 * np.pi * (doy - 15) / 365.25)[:, None]  # +1 mid-January, −1 mid-July
        west, elev = self.west, self.elev

        # Occurrence: persistent latent field, wetter west/high and in winter.
        p_wet = np.clip(0.44 + 0.12 * west + 0.10 * elev / 1000 + 0.07 * season, 0.2, 0.85)
        z_occ = self.occurrence.next(n_days)
        wet = z_occ > _ndtri(1 - p_wet)

        # Amounts: heavy-tailed Weibull (shape 0.75), mean rising with elevation and in winter;
        # more intense when the occurrence field is strongly positive (storm cores).
        z_amt = 0.75 * self.amount.next(n_days) + 0.45 * np.clip(z_occ - 1.0, 0, None)
        u = np.clip(_ndtr(z_amt / math.sqrt(0.75**2 + 0.2)), 1e-12, 1 - 1e-9)
        k = 0.75
        mean_wet = (3.9 + 2.2 * west + 5.0 * elev / 1000) * (1 + 0.25 * season)  # mm per wet day
        if self.rain_scale is not None:
            mean_wet = mean_wet * self.rain_scale
        lam = mean_wet / math.gamma(1 + 1 / k)
        amount = lam * (-np.log1p(-u)) ** (1 / k)
        precip = np.where(wet, 0.1 + amount, 0.0)

        # Temperature: seasonal cycle (more continental inland), regional AR(1) anomaly, lapse rate.
        cyc = -np.cos(2 * np.pi * (doy - 22) / 365.25)[:, None]  # −1 ~22 Jan, +1 ~23 Jul
        amp = 5.4 + 0.6 * west
        anom = self.anomaly[span]
        local = 0.5 * (self.local.standard_normal((n_days, self.chol.shape[0])) @ self.chol.T)
        temp = (
            SEA_LEVEL_MEAN_TEMP
            - 0.5 * (self.lat - TEMPERATURE_REFERENCE_LAT)
            + amp * cyc
            - LAPSE * elev
            + anom[:, None]
            + local
        )
        temp = temp - 0.5 * wet  # wet days slightly cooler

        # PET (Oudin) and PET with interception on wet days.
        ra = extraterrestrial_radiation(self.lat, doy)
        pet = np.where(temp + 5 > 0, ra / 2.45 * (temp + 5) / 100, 0.0)
        pet *= np.where(wet, 0.8, 1.1)  # cloudier wet days
        interception = np.minimum(precip, 0.3 + 0.15 * pet) * np.clip(pet / 0.5, 0, 1) * 0.5
        peti = pet + np.where(wet, interception, 0.0)
        return Weather(precip=precip, temp=temp, pet=pet, peti=peti, anomaly=anom)


def _temperature_anomaly(e: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """The regional temperature anomaly (K), AR(1) with larger innovations in winter."""
    season = np.cos(2 * np.pi * (doy - 15) / 365.25)
    sd = 2.1 + 0.5 * season
    anom = np.empty(e.size)
    anom[0] = sd[0] * e[0]
    for t in range(1, e.size):
        anom[t] = 0.72 * anom[t - 1] + math.sqrt(1 - 0.72**2) * sd[t] * e[t]
    return anom


def concatenate_weather(spans: list[Weather]) -> Weather:
    """Spans of days, in order, as one Weather."""
    return Weather(
        **{name: np.concatenate([getattr(w, name) for w in spans]) for name in Weather.__dataclass_fields__}
    )
