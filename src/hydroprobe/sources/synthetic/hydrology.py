"""Distributed conceptual hydrological model, one column per grid cell, daily explicit steps.

Per cell and day:
1. Snow (degree-day): precipitation falls as snow below ~0 °C (linear rain/snow transition
   −1…+1 °C); melt = DDF·max(T − 0, 0), limited by the snowpack (SWE, m w.e.).
2. Top layer (0–7 cm), in sub-steps: a variable-source-area share s₁^β of the liquid input runs
   off at once (saturation excess on the saturated fraction); the rest infiltrates up to the
   free pore space, the overflow also runs off; gravity drainage to layer 2.
3. Evapotranspiration: PET (reduced under snow) split over the layers by root fraction, each
   share scaled by a moisture-stress factor (wilting point → critical moisture).
4. Interflow from layers 2 and 3: linear in the water above field capacity, faster on steep slopes.
5. Gravity percolation 2→3→4 and from layer 4 into groundwater (scaled by bedrock permeability).
   Drainage of a layer with K(s) = Ks·s^c (Campbell, c = 2b+3) is integrated analytically over
   the step, ds/dt = −a·s^c, so it is stable for any step; every flux is then limited by the
   water available above residual and by the free space in the receiving layer.
6. Groundwater: a linear reservoir, baseflow = G·(1 − e^(−k)).
Discharge = surface runoff + interflow + baseflow (mm/d), no routing. All fluxes are applied
sequentially, so the water balance closes to rounding error and θ stays in [θr, φ].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import LAYER_DEPTHS_CM, Grid, slope_m_per_km
from .weather import Weather

DZ_MM = LAYER_DEPTHS_CM * 10.0  # layer thicknesses in mm
N_SUB = 4  # sub-steps of the top layer


@dataclass
class Params:
    """Per-cell parameters, each an array over model cells (layers on the last axis)."""

    phi: np.ndarray  # porosity (cell,)
    thr: np.ndarray  # residual water content
    ksat: np.ndarray  # mm/d
    c: np.ndarray  # Campbell exponent 2b+3
    th_fc: np.ndarray  # field capacity
    th_wp: np.ndarray  # wilting point
    th_crit: np.ndarray  # no stress above this
    beta: np.ndarray  # variable-source-area exponent
    k_int: np.ndarray  # interflow coefficient (1/d), (cell, 2) for layers 2 and 3
    bedrock: np.ndarray  # fraction of layer-4 drainage reaching groundwater per day-scale
    k_gw: np.ndarray  # groundwater recession (1/d)
    roots: np.ndarray  # (cell, 4) root fractions
    ddf: np.ndarray  # degree-day factor (mm/K/d)


def make_params(grid: Grid) -> Params:
    """Derive model parameters from the static soil and terrain fields."""
    idx = grid.land_index
    s = {k: v.ravel()[idx] for k, v in grid.soil.items()}
    slope = slope_m_per_km(grid).ravel()[idx]
    elev = grid.elev.ravel()[idx]
    phi, thr = s["porosity"], s["theta_r"]
    c = 2 * s["bexp"] + 3
    span = phi - thr
    # Moisture at which K(s) falls to ~0.1 mm/d: a natural "field capacity".
    s_fc = (0.1 / s["ksat"]) ** (1 / c)
    th_fc = thr + span * s_fc
    th_wp = thr + span * 0.2 * s_fc + 0.01
    th_crit = th_wp + 0.7 * (th_fc - th_wp)
    depth_frac = np.clip(s["soil_depth"] / 2.0, 0.15, 1.0)
    roots = np.stack(
        [0.40 + 0 * depth_frac, 0.30 + 0 * depth_frac, 0.30 * depth_frac + 0.1, 0.10 * depth_frac], axis=1
    )
    roots /= roots.sum(axis=1, keepdims=True)
    k_int = np.stack([0.012 * slope / 60, 0.006 * slope / 60], axis=1).clip(0.002, 0.08)
    return Params(
        phi=phi,
        thr=thr,
        ksat=s["ksat"],
        c=c,
        th_fc=th_fc,
        th_wp=th_wp,
        th_crit=th_crit,
        beta=np.clip(3.5 - slope / 60, 1.2, 4.0),
        k_int=k_int,
        bedrock=s["bedrock_perm"],
        k_gw=np.clip(0.012 + 0.03 * s["bedrock_perm"] * (1 - depth_frac), 0.008, 0.05),
        roots=roots,
        ddf=np.clip(2.5 + elev / 1000, 2.5, 3.8),
    )


@dataclass
class State:
    """theta (cell, 4) m³/m³, swe (cell,) mm, gw (cell,) mm."""

    theta: np.ndarray
    swe: np.ndarray
    gw: np.ndarray

    def copy(self) -> State:
        return State(self.theta.copy(), self.swe.copy(), self.gw.copy())


@dataclass
class Output:
    """Daily end-of-day states and fluxes, shape (time, cell[, layer])."""

    theta: np.ndarray  # (time, cell, 4) float32
    swe: np.ndarray  # (time, cell) m w.e., float32
    runoff: np.ndarray  # (time, cell) mm/d, float64 total discharge
    baseflow: np.ndarray  # (time, cell)
    et: np.ndarray | None  # (time, cell) mm/d; None unless run with keep_diagnostics
    snowfall: np.ndarray | None  # (time, cell) mm/d; idem
    initial: State
    final: State


def _drain(theta, phi_i, thr_i, ksat, c, dz, dt):
    """Analytical gravity drainage (mm) of one layer over dt days: ds/dt = −a s^c."""
    span = phi_i - thr_i
    s = np.clip((theta - thr_i) / span, 1e-9, 1.0)
    a = ksat / (dz * span)
    s_new = (s ** (1 - c) + (c - 1) * a * dt) ** (1 / (1 - c))
    return (s - s_new) * span * dz


def initial_state(p: Params) -> State:
    n = p.phi.size
    th = p.th_fc[:, None] * np.ones((n, 4))
    return State(theta=th, swe=np.zeros(n), gw=np.full(n, 100.0))


def step(st: State, p: Params, precip, temp, pet, out: dict | None = None) -> None:
    """Advance `st` in place by one day; fill `out` with the day's fluxes (mm) if given."""
    th = st.theta
    dz = DZ_MM
    # 1. snow
    snow_frac = np.clip((1.0 - temp) / 2.0, 0.0, 1.0)
    snowfall = precip * snow_frac
    rain = precip - snowfall
    st.swe += snowfall
    melt = np.minimum(st.swe, p.ddf * np.maximum(temp, 0.0))
    st.swe -= melt
    liquid = rain + melt
    # 2. top layer sub-steps: infiltration, saturation excess, drainage to layer 2
    surface = np.zeros_like(liquid)
    w = liquid / N_SUB
    span1 = p.phi - p.thr
    for _ in range(N_SUB):
        s1 = np.clip((th[:, 0] - p.thr) / span1, 0.0, 1.0)
        fast = w * s1**p.beta
        space = (p.phi - th[:, 0]) * dz[0]
        inf = np.minimum(w - fast, space)
        surface += w - inf
        th[:, 0] += inf / dz[0]
        d = _drain(th[:, 0], p.phi, p.thr, p.ksat, p.c, dz[0], 1.0 / N_SUB)
        d = np.minimum(d, np.minimum((th[:, 0] - p.thr) * dz[0], (p.phi - th[:, 1]) * dz[1]))
        d = np.maximum(d, 0.0)
        th[:, 0] -= d / dz[0]
        th[:, 1] += d / dz[1]
    # 3. evapotranspiration with root distribution and moisture stress
    demand = pet * np.where(st.swe > 1.0, 0.3, 1.0)
    et_tot = np.zeros_like(demand)
    for i in range(4):
        stress = np.clip((th[:, i] - p.th_wp) / (p.th_crit - p.th_wp), 0.0, 1.0)
        e = demand * p.roots[:, i] * stress
        e = np.minimum(e, np.maximum(th[:, i] - p.thr, 0.0) * dz[i])
        th[:, i] -= e / dz[i]
        et_tot += e
    # 4. interflow from layers 2 and 3
    inter = np.zeros_like(demand)
    for j, i in enumerate((1, 2)):
        q = p.k_int[:, j] * np.maximum(th[:, i] - p.th_fc, 0.0) * dz[i]
        th[:, i] -= q / dz[i]
        inter += q
    # 5. percolation 2→3→4 and 4→groundwater
    for i in (1, 2):
        d = _drain(th[:, i], p.phi, p.thr, p.ksat, p.c, dz[i], 1.0)
        d = np.maximum(np.minimum(d, (p.phi - th[:, i + 1]) * dz[i + 1]), 0.0)
        d = np.minimum(d, np.maximum(th[:, i] - p.thr, 0.0) * dz[i])
        th[:, i] -= d / dz[i]
        th[:, i + 1] += d / dz[i + 1]
    d = _drain(th[:, 3], p.phi, p.thr, p.ksat * p.bedrock, p.c, dz[3], 1.0)
    d = np.maximum(np.minimum(d, np.maximum(th[:, 3] - p.thr, 0.0) * dz[3]), 0.0)
    th[:, 3] -= d / dz[3]
    st.gw += d
    # 6. groundwater
    base = st.gw * (1.0 - np.exp(-p.k_gw))
    st.gw -= base
    if out is not None:
        out["q"] = surface + inter + base
        out["base"] = base
        out["et"] = et_tot
        out["snowfall"] = snowfall


SPINUP_DAYS = 730  # the first days of the forcing, run SPINUP_CYCLES times before the record
SPINUP_CYCLES = 2


def spun_up_state(
    p: Params, wx: Weather, spinup_days: int = SPINUP_DAYS, spinup_cycles: int = SPINUP_CYCLES
) -> State:
    """The state after running the first `spinup_days` of `wx` `spinup_cycles` times from field
    capacity (`wx` must hold them, or be the whole forcing when shorter)."""
    st = initial_state(p)
    n_spin = min(spinup_days, wx.precip.shape[0])
    for _ in range(spinup_cycles):
        for t in range(n_spin):
            step(st, p, wx.precip[t], wx.temp[t], wx.pet[t])
    return st


def run_span(st: State, p: Params, wx: Weather, keep_diagnostics: bool = True) -> Output:
    """Run `st` (advanced in place) through the days of `wx`: their end-of-day states and fluxes.

    `keep_diagnostics=False` stores no evapotranspiration and snowfall (no file holds them).
    """
    init = st.copy()
    n_t, n_c = wx.precip.shape
    theta = np.empty((n_t, n_c, 4), np.float32)
    swe = np.empty((n_t, n_c), np.float32)
    runoff = np.empty((n_t, n_c))
    base = np.empty((n_t, n_c))
    et = np.empty((n_t, n_c)) if keep_diagnostics else None
    snowfall = np.empty((n_t, n_c)) if keep_diagnostics else None
    fl: dict = {}
    for t in range(n_t):
        step(st, p, wx.precip[t], wx.temp[t], wx.pet[t], fl)
        theta[t] = st.theta
        swe[t] = st.swe / 1000.0
        runoff[t], base[t] = fl["q"], fl["base"]
        if keep_diagnostics:
            et[t], snowfall[t] = fl["et"], fl["snowfall"]
    return Output(theta, swe, runoff, base, et, snowfall, init, st.copy())


def concatenate_outputs(spans: list[Output]) -> Output:
    """Consecutive spans' outputs as one: from the first one's initial to the last one's final state."""

    def joined(name):
        parts = [getattr(o, name) for o in spans]
        return None if parts[0] is None else np.concatenate(parts)

    return Output(
        *(joined(name) for name in ("theta", "swe", "runoff", "baseflow", "et", "snowfall")),
        initial=spans[0].initial,
        final=spans[-1].final,
    )
