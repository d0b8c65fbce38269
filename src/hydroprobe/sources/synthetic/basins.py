"""Basin aggregation: exact-weight means of cell fields, plus the basin-level extra met
variables (humidity, radiation, wind) that CAMELS-GB carries but the model does not use."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .grid import Grid
from .weather import extraterrestrial_radiation


def weight_matrix(weights: pd.DataFrame, grid: Grid, basins: list[int]) -> np.ndarray:
    """(basin, model cell) matrix of exact weights; rows sum to 1."""
    col = {flat: k for k, flat in enumerate(grid.land_index)}
    m = np.zeros((len(basins), grid.land_index.size))
    row = {b: k for k, b in enumerate(basins)}
    for b, i, j, w in weights[["basin", "i", "j", "weight"]].itertuples(index=False):
        m[row[b], col[i * grid.lon.size + j]] += w
    return m


TIME_BLOCK = 1024  # days per block of the layered means (a block of every cell stays in cache)


def basin_mean(field: np.ndarray, wmat: np.ndarray) -> np.ndarray:
    """(time, cell[, k]) → (time, basin[, k]) weighted means, in float64."""
    if field.ndim == 2:
        return field.astype(np.float64) @ wmat.T
    # Each basin's cells added one at a time in cell order: bit for bit the sums of the dense
    # contraction over every cell (the other terms are exact zeros), at the cost of a basin's few
    # cells instead of all of them (45 years of a Great-Britain grid: seconds, not minutes).
    out = np.zeros((field.shape[0], wmat.shape[0], field.shape[2]))
    cells = [np.flatnonzero(row) for row in wmat]
    for t0 in range(0, field.shape[0], TIME_BLOCK):
        block = field[t0 : t0 + TIME_BLOCK]
        for b, row in enumerate(wmat):
            acc = out[t0 : t0 + TIME_BLOCK, b]
            for c in cells[b]:
                acc += row[c] * block[:, c, :].astype(np.float64)
    return out


def extra_met(rng, p: np.ndarray, t: np.ndarray, lat: float, dates: pd.DatetimeIndex) -> dict:
    """Plausible humidity (g/kg), shortwave/longwave (W/m²) and wind (m/s) for one basin."""
    wet = p > 0.2
    doy = dates.day_of_year.to_numpy()
    es = 6.112 * np.exp(17.67 * t / (t + 243.5))  # hPa
    rh = np.clip(np.where(wet, 0.9, 0.78) + 0.03 * rng.standard_normal(t.size), 0.4, 1.0)
    q = 622.0 * rh * es / (1013.0 - 0.378 * rh * es)
    ra = extraterrestrial_radiation(np.array([lat]), doy)[:, 0]  # MJ/m²/d
    clear = np.clip(np.where(wet, 0.32, 0.55) + 0.08 * rng.standard_normal(t.size), 0.15, 0.75)
    sw = ra * clear * 1e6 / 86400.0
    tk = t + 273.15
    emis = 0.72 + 0.2 * (1 - clear / 0.75)
    lw = emis * 5.670e-8 * tk**4
    season = np.cos(2 * np.pi * (doy - 15) / 365.25)
    wind = rng.gamma(4.0, (4.2 + 1.0 * season + 1.2 * wet) / 4.0)
    return {"humidity": q, "shortwave_rad": sw, "longwave_rad": lw, "windspeed": wind}


def gap_mask(rng, n_basins: int, n_days: int) -> np.ndarray:
    """(time, basin) bool, True where discharge is missing: a few basins, spans of days–weeks."""
    miss = np.zeros((n_days, n_basins), bool)
    for b in rng.choice(n_basins, size=min(4, n_basins), replace=False):
        for _ in range(int(rng.integers(1, 4))):
            length = int(rng.integers(3, 45))
            start = int(rng.integers(0, max(1, n_days - length)))
            miss[start : start + length, b] = True
    return miss
