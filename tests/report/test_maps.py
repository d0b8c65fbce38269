"""Catchment maps: values per panel, polygons and points drawn, no-score basins, land grid."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from hydroprobe.report.maps import (
    BNG,
    LONLAT,
    discharge_values,
    gauge_points,
    land_grid,
    plot_score_maps,
    probe_r_values,
    scale_geometries,
    selectivity_values,
)
from hydroprobe.sources.caravan import read_attributes

CARAVAN = Path(__file__).resolve().parents[1] / "data" / "caravan"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _valid_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 5_000


def _catchments() -> dict:
    """Four catchments in BNG metres: a large one, one nested inside it, two apart."""
    return {
        1: box(300_000, 800_000, 340_000, 830_000),
        2: box(310_000, 810_000, 315_000, 815_000),  # nested, small
        3: Polygon([(350_000, 790_000), (370_000, 795_000), (360_000, 820_000)]),
        4: box(280_000, 760_000, 295_000, 780_000),
    }


def _scores() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(0)
    for model in ("trained", "untrained"):
        for target in ("sd", "swvl1"):
            for basin in (1, 2, 3, 4):
                status = "no_data" if (basin == 4 and target == "sd") else "ok"
                r = rng.uniform(0.3, 0.9) if status == "ok" else np.nan
                rows.append(
                    dict(
                        seed=1,
                        model=model,
                        probe="linear",
                        control="none",
                        target=target,
                        features="cell",
                        subset="all",
                        basin=basin,
                        status=status,
                        r=r,
                    )
                )
    # rows of other seeds, subsets and controls, which the maps ignore
    rows.append(dict(rows[0], seed=2, r=-0.9))
    rows.append(dict(rows[0], subset="snow", r=-0.9))
    rows.append(dict(rows[0], control="shuffle", r=-0.9))
    return pd.DataFrame(rows)


def test_probe_and_selectivity_values_pick_one_seed_and_mark_no_score():
    scores = _scores()
    r = probe_r_values(scores, model="trained", probe="linear", features="cell", seed=1)
    assert list(r) == ["swvl1", "sd"]  # the paper's order
    assert r["sd"].index.tolist() == ["1", "2", "3", "4"]
    assert np.isnan(r["sd"]["4"]) and np.isfinite(r["swvl1"]).all()
    dr = selectivity_values(scores, probe="linear", features="cell", seed=1)
    untrained = probe_r_values(scores, model="untrained", probe="linear", features="cell", seed=1)
    assert dr["swvl1"]["3"] == pytest.approx(r["swvl1"]["3"] - untrained["swvl1"]["3"])
    assert np.isnan(dr["sd"]["4"])


def test_discharge_values_of_one_seed_and_period():
    discharge = pd.DataFrame(
        dict(
            seed=["1", "1", "ensemble", "1"],
            period=["test", "validation", "test", "test"],
            basin=[1, 1, 1, 2],
            nse=[0.5, 0.1, 0.9, -3.0],
        )
    )
    nse = discharge_values(discharge, seed=1)
    assert nse.to_dict() == {"1": 0.5, "2": -3.0}


def test_polygon_maps_draw_every_catchment(tmp_path):
    scores = _scores()
    geometries = scale_geometries(_catchments(), 1e-3)
    assert geometries[1].bounds == pytest.approx((300, 800, 340, 830))
    lat, lon = np.arange(56.5, 58.6, 0.1), np.arange(-5.0, -1.0, 0.1)
    field = np.where(np.add.outer(lat, lon) > 54.2, np.nan, 0.3)  # a "sea" corner of NaN
    land = land_grid(lat, lon, field, BNG)
    assert land.x.shape == (lat.size + 1, lon.size + 1) and 0 < land.land.sum() < land.land.size

    r = probe_r_values(scores, model="trained", probe="linear", features="cell", seed=1)
    png = tmp_path / "map_r.png"
    counts = plot_score_maps(
        r,
        geometries,
        png,
        quantity="probe r",
        title="r",
        land=land,
        upper=1.0,
        outlined={"sd": [1, 3]},
        extra_paths=[tmp_path / "map_r.svg"],
    )
    assert _valid_png(png) and (tmp_path / "map_r.svg").is_file()
    scored = scores[
        (scores["seed"] == 1)
        & (scores["model"] == "trained")
        & (scores["subset"] == "all")
        & (scores["control"] == "none")
    ]
    for target, panel in counts.items():
        ok = scored[(scored["target"] == target) & (scored["status"] == "ok")]
        assert panel["scored"] == len(ok)
        assert panel["scored"] + panel["no_score"] == len(geometries)

    dr = selectivity_values(scores, probe="linear", features="cell", seed=1)
    counts = plot_score_maps(
        dr, geometries, tmp_path / "map_dr.png", quantity="Δr", title="Δr", land=land, diverging=True
    )
    assert _valid_png(tmp_path / "map_dr.png")
    assert counts["sd"] == {"scored": 3, "no_score": 1}

    nse = pd.Series({"1": 0.8, "2": -5.0, "3": 0.6})  # basin 4 has no discharge score
    counts = plot_score_maps(
        {"NSE": nse}, geometries, tmp_path / "map_nse.png", quantity="NSE", title="NSE", upper=1.0, lower=-1.0
    )
    assert _valid_png(tmp_path / "map_nse.png")
    assert counts["NSE"] == {"scored": 3, "no_score": 1}


def test_caravan_gauges_drawn_as_points(tmp_path):
    attributes = read_attributes(CARAVAN, "camelsch")
    gauge_ids = {int(g.split("_")[1]): g for g in attributes.index[:3]}
    points = gauge_points(attributes, gauge_ids)
    first = next(iter(gauge_ids))
    assert points[first].x == pytest.approx(attributes.at[gauge_ids[first], "gauge_lon"])
    values = pd.Series({str(b): 0.5 + 0.1 * i for i, b in enumerate(list(gauge_ids)[:2])})
    counts = plot_score_maps(
        {"sd": values},
        points,
        tmp_path / "points.png",
        quantity="probe r",
        title="Caravan",
        crs=LONLAT,
        outlined={"sd": [first]},
    )
    assert _valid_png(tmp_path / "points.png")
    assert counts["sd"] == {"scored": 2, "no_score": 1}
    with pytest.raises(KeyError):
        gauge_points(attributes, {1: "camelsch_0000"})
