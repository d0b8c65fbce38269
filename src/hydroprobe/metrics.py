"""Skill scores as plain functions over arrays.

Each takes observed and simulated 1-D arrays, ignores time steps where either is NaN, and
returns NaN when too few values remain or the observations have no variance.
"""

from __future__ import annotations

import numpy as np

MIN_VALUES = 2


def _paired(obs, sim) -> tuple[np.ndarray, np.ndarray]:
    obs = np.asarray(obs, dtype=np.float64).ravel()
    sim = np.asarray(sim, dtype=np.float64).ravel()
    if obs.shape != sim.shape:
        raise ValueError(f"obs and sim differ in length: {obs.shape} vs {sim.shape}")
    valid = np.isfinite(obs) & np.isfinite(sim)
    return obs[valid], sim[valid]


def pearson_r(obs, sim) -> float:
    """Pearson correlation coefficient."""
    obs, sim = _paired(obs, sim)
    if obs.size < MIN_VALUES:
        return np.nan
    do, ds = obs - obs.mean(), sim - sim.mean()
    denom = np.sqrt((do**2).sum() * (ds**2).sum())
    return float((do * ds).sum() / denom) if denom > 0 else np.nan


def nse(obs, sim) -> float:
    """Nash–Sutcliffe efficiency: 1 - Σ(sim-obs)² / Σ(obs-mean(obs))²."""
    obs, sim = _paired(obs, sim)
    if obs.size < MIN_VALUES:
        return np.nan
    denom = ((obs - obs.mean()) ** 2).sum()
    return float(1.0 - ((sim - obs) ** 2).sum() / denom) if denom > 0 else np.nan


def kge(obs, sim) -> float:
    """Kling–Gupta efficiency (Gupta et al. 2009): 1 - sqrt((r-1)² + (α-1)² + (β-1)²),
    α = σ_sim/σ_obs, β = μ_sim/μ_obs."""
    obs, sim = _paired(obs, sim)
    if obs.size < MIN_VALUES or obs.std() == 0 or obs.mean() == 0:
        return np.nan
    r = pearson_r(obs, sim)
    alpha = sim.std() / obs.std()
    beta = sim.mean() / obs.mean()
    return float(1.0 - np.sqrt((r - 1.0) ** 2 + (alpha - 1.0) ** 2 + (beta - 1.0) ** 2))
