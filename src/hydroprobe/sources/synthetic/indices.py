"""Climatic and hydrologic signatures as CAMELS-GB/CAMELS (Addor et al. 2017) define them."""

from __future__ import annotations

import numpy as np
import pandas as pd

_SEASONS = {
    12: "djf",
    1: "djf",
    2: "djf",
    3: "mam",
    4: "mam",
    5: "mam",
    6: "jja",
    7: "jja",
    8: "jja",
    9: "son",
    10: "son",
    11: "son",
}


def _runs(mask: np.ndarray) -> np.ndarray:
    """Lengths of consecutive True runs."""
    m = np.concatenate([[0], mask.astype(np.int8), [0]])
    d = np.diff(m)
    return np.flatnonzero(d == -1) - np.flatnonzero(d == 1)


def _timing(mask: np.ndarray, dates: pd.DatetimeIndex) -> str:
    s = pd.Series(mask, index=dates).groupby(dates.month.map(_SEASONS)).sum()
    return str(s.idxmax()) if s.max() > 0 else "NaN"


def p_seasonality(p: np.ndarray, t: np.ndarray, dates: pd.DatetimeIndex) -> float:
    """δp·sign(δT)·cos(2π(sp − sT)/τ) from first-harmonic fits of daily P and T (Addor 2017).

    Positive for summer-peaking, negative for winter-peaking precipitation.
    """
    w = 2 * np.pi * (dates.day_of_year.to_numpy() - 1) / 365.25

    def fit(x):
        a, b = 2 * np.mean((x - x.mean()) * np.sin(w)), 2 * np.mean((x - x.mean()) * np.cos(w))
        return np.hypot(a, b), np.arctan2(-b, a)  # amplitude, phase ω·s

    dp, sp = fit(p)
    dt, st = fit(t)
    return float(dp / p.mean() * np.cos(sp - st))


def climatic(p, pet, t, dates) -> dict:
    """p_mean, pet_mean, aridity, p_seasonality, frac_snow and high/low precipitation stats."""
    years = len(dates) / 365.25
    pm = p.mean()
    high = p >= 5 * pm
    low = p < 1.0
    hr, lr = _runs(high), _runs(low)
    return {
        "p_mean": pm,
        "pet_mean": pet.mean(),
        "aridity": pet.mean() / pm,
        "p_seasonality": p_seasonality(p, t, dates),
        "frac_snow": p[t < 0].sum() / p.sum(),
        "high_prec_freq": high.sum() / years,
        "high_prec_dur": hr.mean() if hr.size else 0.0,
        "high_prec_timing": _timing(high, dates),
        "low_prec_freq": low.sum() / years,
        "low_prec_dur": lr.mean() if lr.size else 0.0,
        "low_prec_timing": _timing(low, dates),
    }


def hydrologic(q, p, base, dates) -> dict:
    """q_mean, runoff_ratio, baseflow_index (modelled baseflow share), FDC and flow-event stats."""
    ok = np.isfinite(q)
    qv, pv, bv = q[ok], p[ok], base[ok]
    years = ok.sum() / 365.25
    med, mean = np.median(qv), qv.mean()
    hi, lo = q > 9 * med, q < 0.2 * mean
    q33, q66 = np.percentile(qv, [33, 66])
    return {
        "q_mean": mean,
        "runoff_ratio": mean / pv.mean(),
        "stream_elas": np.nan,
        "slope_fdc": (np.log(q66) - np.log(q33)) / (0.66 - 0.33) if q33 > 0 else np.nan,
        "baseflow_index": bv.sum() / qv.sum(),
        "baseflow_index_ceh": bv.sum() / qv.sum(),
        "hfd_mean": np.nan,
        "Q5": np.percentile(qv, 5),
        "Q95": np.percentile(qv, 95),
        "high_q_freq": hi.sum() / years,
        "high_q_dur": _runs(hi).mean() if hi.any() else 0.0,
        "low_q_freq": lo.sum() / years,
        "low_q_dur": _runs(lo).mean() if lo.any() else 0.0,
        "zero_q_freq": float((qv == 0).mean()),
    }
