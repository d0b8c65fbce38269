"""The eight CAMELS-GB attribute tables, computed from the synthetic landscape and series.

Static attributes are area-weighted over the catchment's land cells (same exact weights as the
series); climatic and hydrologic indices are computed from the written basin series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hydroprobe.sources.camels_gb import ATTRIBUTE_GROUPS

from .catchments import to_bng
from .grid import slope_m_per_km
from .indices import climatic, hydrologic


def _wquantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    o = np.argsort(x)
    cw = np.cumsum(w[o]) - 0.5 * w[o]
    return float(np.interp(q, cw / w.sum(), x[o]))


def _landcover(elev: float, slope: float, coastal_low: float, rng) -> dict:
    """Land cover shares (%) from elevation: moor/heath high, forest mid, crops and towns low."""
    hi = np.clip(elev / 700.0, 0, 1)
    raw = {
        "dwood_perc": 4 + 6 * (1 - hi) * rng.uniform(0.5, 1.5),
        "ewood_perc": 6 + 18 * hi * (1 - hi) * 4 * rng.uniform(0.5, 1.5) / 4 + 3,
        "grass_perc": 25 + 25 * (1 - hi),
        "shrub_perc": 5 + 55 * hi**1.2,
        "crop_perc": 2 + 45 * (1 - hi) ** 3 * rng.uniform(0.6, 1.2),
        "urban_perc": 0.3 + 6 * coastal_low * rng.uniform(0.3, 1.5),
        "inwater_perc": 0.3 + 1.5 * rng.uniform(),
        "bares_perc": 0.5 * hi**3,
    }
    tot = sum(raw.values())
    return {k: 100 * v / tot for k, v in raw.items()}


def attribute_tables(world, areas: dict[int, float]) -> dict[str, pd.DataFrame]:
    g = world.grid
    rng = np.random.Generator(np.random.PCG64(int(world.basins[0]) * 7919 + len(world.basins)))
    slope = slope_m_per_km(g)
    rows = {group: [] for group in ATTRIBUTE_GROUPS}
    s = world.basin_series
    dates = world.dates
    for b, c in enumerate(world.catchments):
        gid = c.gauge_id
        w = world.weights[world.weights.basin == gid]
        ii, jj, ww = w.i.to_numpy(), w.j.to_numpy(), w.weight.to_numpy()
        el = g.elev[ii, jj]

        def avg(field, ii=ii, jj=jj, ww=ww):
            return float((field[ii, jj] * ww).sum())

        e, n = to_bng_point(c.outlet)
        elev_mean = avg(g.elev)
        rows["topographic"].append(
            {
                "gauge_id": gid,
                "gauge_name": c.name,
                "gauge_lat": round(c.outlet[1], 2),
                "gauge_lon": round(c.outlet[0], 2),
                "gauge_easting": round(e),
                "gauge_northing": round(n),
                "gauge_elev": max(2.0, float(el.min()) * 0.9),
                "area": areas[gid],
                "dpsbar": avg(slope),
                "elev_mean": elev_mean,
                "elev_min": float(el.min()),
                "elev_10": _wquantile(el, ww, 0.1),
                "elev_50": _wquantile(el, ww, 0.5),
                "elev_90": _wquantile(el, ww, 0.9),
                "elev_max": float(el.max()),
            }
        )
        p, t, pet = s["precipitation"][:, b], s["temperature"][:, b], s["pet"][:, b]
        rows["climatic"].append({"gauge_id": gid, **climatic(p, pet, t, dates)})
        rows["hydrologic"].append(
            {"gauge_id": gid, **hydrologic(s["discharge_obs"][:, b], p, s["baseflow"][:, b], dates)}
        )
        coastal_low = float(np.clip(1 - (c.outlet[0] + 3.0) * -1, 0, 1)) * (elev_mean < 200)
        lc = _landcover(elev_mean, avg(slope), coastal_low, rng)
        lc["dom_land_cover"] = {
            "dwood_perc": "Deciduous Woodland",
            "ewood_perc": "Evergreen Woodland",
            "grass_perc": "Grassland",
            "shrub_perc": "Shrubs",
            "crop_perc": "Arable",
            "urban_perc": "Urban",
            "inwater_perc": "Inland Water",
            "bares_perc": "Bare Soil",
        }[max(lc, key=lc.get)]
        rows["landcover"].append({"gauge_id": gid, **lc})
        sp = g.soil
        por, ks = avg(sp["porosity"]), avg(sp["ksat"]) / 240.0  # mm/d → cm/h
        rows["soil"].append(
            {
                "gauge_id": gid,
                "sand_perc": avg(sp["sand_perc"]),
                "silt_perc": avg(sp["silt_perc"]),
                "clay_perc": avg(sp["clay_perc"]),
                "organic_perc": 2 + 20 * np.clip(elev_mean / 800, 0, 1),
                "bulkdens": 1.6 - 0.8 * por,
                "tawc": 100 * (avg(sp["porosity"]) - avg(sp["theta_r"])) * 0.45,
                "porosity_cosby": por * 0.97 + 0.01,
                "porosity_hypres": por,
                "conductivity_cosby": ks * 1.3,
                "conductivity_hypres": ks,
                "root_depth": min(1.2, 0.4 * avg(sp["soil_depth"])),
                "soil_depth_pelletier": avg(sp["soil_depth"]),
            }
        )
        bed = avg(sp["bedrock_perm"])
        hg = np.array([bed, 0.6 * bed, 0.2, 0.3 * (1 - bed), 0.2, 0.3 * (1 - bed), 0.05, 0.02, 0.02])
        hg = 100 * hg / hg.sum()
        rows["hydrogeology"].append(
            {
                "gauge_id": gid,
                **dict(
                    zip(
                        [
                            "inter_high_perc",
                            "inter_mod_perc",
                            "inter_low_perc",
                            "frac_high_perc",
                            "frac_mod_perc",
                            "frac_low_perc",
                            "no_gw_perc",
                            "low_nsig_perc",
                            "nsig_low_perc",
                        ],
                        hg,
                    )
                ),
            }
        )
        q = s["discharge_obs"][:, b]
        qmax = np.nanmax(q) * areas[gid] / 86.4
        rows["hydrometry"].append(
            {
                "gauge_id": gid,
                "station_type": "VA" if b % 3 else "C",
                "flow_period_start": str(dates[0].date()),
                "flow_period_end": str(dates[-1].date()),
                "flow_perc_complete": 100 * np.isfinite(q).mean(),
                "bankfull_flow": 0.6 * qmax,
                "structurefull_flow": np.nan if b % 3 else 0.8 * qmax,
            }
        )
        has_res = b % 5 == 3
        rows["humaninfluence"].append(
            {
                "gauge_id": gid,
                "benchmark_catch": "N" if has_res else "Y",
                "surfacewater_abs": 0.01 * rng.uniform() * (elev_mean < 300),
                "groundwater_abs": 0.005 * rng.uniform(),
                "discharges": 0.002 * rng.uniform(),
                "num_reservoir": int(has_res) * 2,
                "reservoir_cap": 3500.0 * areas[gid] / 300 if has_res else 0.0,
            }
        )
    return {k: pd.DataFrame(v) for k, v in rows.items()}


def to_bng_point(lonlat: tuple[float, float]) -> tuple[float, float]:
    from shapely.geometry import Point

    p = to_bng(Point(lonlat))
    return p.x, p.y
