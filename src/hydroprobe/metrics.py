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


def percent_bias(obs, sim) -> float:
    """Percent bias of the water balance: 100 · Σ(sim - obs) / Σobs (positive = too much water)."""
    obs, sim = _paired(obs, sim)
    if obs.size < MIN_VALUES or obs.sum() == 0:
        return np.nan
    return float(100.0 * (sim - obs).sum() / obs.sum())


# Flow-duration-curve signatures (Yilmaz et al. 2008, WRR 44, W09417). Observed and simulated
# flows are each sorted (descending) on their own: the curves are compared, not the days.
FDC_FLOOR = 1e-6  # log-based signatures: zero or negative flows are raised to this


def _flow_duration_curves(obs, sim) -> tuple[np.ndarray, np.ndarray]:
    obs, sim = _paired(obs, sim)
    return np.sort(obs)[::-1], np.sort(sim)[::-1]


def fhv(obs, sim, h: float = 0.02) -> float:
    """%BiasFHV: bias of the peak-flow segment, the top ``h`` (2 %) of the flow duration curve,
    100 · Σ(sim_h - obs_h) / Σobs_h."""
    if not 0 < h < 1:
        raise ValueError(f"fhv: h must lie in (0, 1), got {h}")
    obs, sim = _flow_duration_curves(obs, sim)
    n = int(np.round(h * obs.size))
    if n < 1 or obs[:n].sum() == 0:
        return np.nan
    return float(100.0 * (sim[:n] - obs[:n]).sum() / obs[:n].sum())


def flv(obs, sim, l: float = 0.3) -> float:  # noqa: E741 (the paper's symbol)
    """%BiasFLV: bias of the low-flow segment, the lowest ``l`` (30 %) of the flow duration
    curve, in log space relative to its minimum:
    -100 · (Σ[log s - log s_min] - Σ[log o - log o_min]) / Σ[log o - log o_min].
    Positive when the simulated low-flow segment spans a smaller log range than the observed
    one (a too-flat recession: low flows roughly overestimated)."""
    if not 0 < l < 1:
        raise ValueError(f"flv: l must lie in (0, 1), got {l}")
    obs, sim = _flow_duration_curves(obs, sim)
    n = int(np.round(l * obs.size))
    if n < MIN_VALUES:
        return np.nan
    log_obs = np.log(np.maximum(obs[-n:], FDC_FLOOR))
    log_sim = np.log(np.maximum(sim[-n:], FDC_FLOOR))
    qol = (log_obs - log_obs.min()).sum()
    qsl = (log_sim - log_sim.min()).sum()
    if qol == 0:
        return np.nan
    return float(-100.0 * (qsl - qol) / qol)


def fms(obs, sim, lower: float = 0.2, upper: float = 0.7) -> float:
    """%BiasFMS: bias of the mid-segment slope of the flow duration curve between the
    exceedance probabilities ``lower`` and ``upper``, in log space:
    100 · ((log s_lo - log s_up) - (log o_lo - log o_up)) / (log o_lo - log o_up)."""
    if not 0 < lower < upper < 1:
        raise ValueError(f"fms: need 0 < lower < upper < 1, got {lower}, {upper}")
    obs, sim = _flow_duration_curves(obs, sim)
    if obs.size < MIN_VALUES:
        return np.nan
    i_lo, i_up = int(np.round(lower * obs.size)), int(np.round(upper * obs.size))
    i_up = min(i_up, obs.size - 1)
    log_obs = np.log(np.maximum(obs, FDC_FLOOR))
    log_sim = np.log(np.maximum(sim, FDC_FLOOR))
    obs_slope = log_obs[i_lo] - log_obs[i_up]
    if obs_slope == 0:
        return np.nan
    sim_slope = log_sim[i_lo] - log_sim[i_up]
    return float(100.0 * (sim_slope - obs_slope) / obs_slope)


DISCHARGE_METRICS = {
    "nse": nse,
    "kge": kge,
    "r": pearson_r,
    "pbias": percent_bias,
    "fhv": fhv,
    "fms": fms,
    "flv": flv,
}
