"""Time-series figures: the basins and slots they draw, the probe prediction (the probe job's own
fit, so its r is the r the job writes), and the figures as files."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from toy_worlds import probe_world

from hydroprobe.errors import InputDataError
from hydroprobe.probes.job import probe_job_prediction, run_probe_job
from hydroprobe.report.series import (
    basin_series,
    check_against_scores,
    plot_discharge_series,
    plot_store_series,
    prediction_r,
    probe_predictions,
)
from hydroprobe.report.series_basins import basin_median_r, ranked_basins, series_basins, series_slots

TIME = pd.date_range("1990-01-01", "1993-12-31", freq="D")
TRAIN = ("1990-01-01", "1991-12-31")
TEST = ("1992-01-01", "1993-12-31")
TARGETS = ["swvl1", "sd"]
JOB = dict(seed=1, probe="linear", control="none", features="cell")
SETTINGS = dict(ridge=1e-6, target_scaling="global", train_period=TRAIN, test_period=TEST)


def world(seed=0, n_basins=5):
    """A basin dataset with two targets, frac_snow and discharge, and two models' states: the
    trained one holds the targets' signals, the untrained one a weak copy under more noise."""
    states, targets = probe_world(TARGETS, time=TIME, n_basins=n_basins, first_basin=8001, seed=seed)
    noisy, _ = probe_world(
        TARGETS, time=TIME, n_basins=n_basins, first_basin=8001, seed=seed, signal_weight=0.3
    )
    basins = states["basin"].values
    rng = np.random.default_rng(seed)
    q = rng.gamma(1.0, 2.0, (n_basins, TIME.size))
    dataset = xr.Dataset(
        {
            **targets,
            "discharge_spec": (("basin", "time"), q),
            "frac_snow": ("basin", np.linspace(0.0, 0.2, n_basins)),
        },
        coords={"basin": basins, "time": TIME},
    )
    models = {
        "trained": xr.Dataset({"c": states, "discharge_spec_sim": (("time", "basin"), q.T * 0.9)}),
        "untrained": xr.Dataset({"c": noisy}),
    }
    return dataset, models


def scores_table(rows):
    """probe_scores.csv rows of the trained linear probe on cell states (seed 1, subset all) from
    {basin: {target: r}}, plus rows of other jobs that must not count."""
    out = []
    for basin, by_target in rows.items():
        for target, r in by_target.items():
            key = dict(seed=1, model="trained", probe="linear", control="none", features="cell")
            out.append({**key, "target": target, "subset": "all", "basin": basin, "r": r})
            out.append(
                {**key, "target": target, "subset": "all", "basin": basin, "r": 1.0, "model": "untrained"}
            )
            out.append({**key, "target": target, "subset": "snow", "basin": basin, "r": -1.0})
            out.append(
                {**key, "target": target, "subset": "all", "basin": basin, "r": -1.0, "control": "shift"}
            )
    return pd.DataFrame(out)


RANK_JOB = dict(seed=1, model="trained", probe="linear", control="none", features="cell", subset="all")


def test_slots_are_ranked_without_basins_and_named_by_basin_with():
    assert series_slots(None) == ["best", "median", "worst"]
    assert series_slots([8003, "camelsgb_1001"]) == ["basin8003", "basincamelsgb_1001"]


def test_best_median_worst_by_median_r_over_targets_of_the_one_job():
    scores = scores_table(
        {
            1: {"swvl1": 0.9, "swvl2": 0.1, "sd": 0.2},  # median 0.2: worst
            2: {"swvl1": 0.5, "swvl2": 0.6, "sd": 0.7},  # median 0.6: median
            3: {"swvl1": 0.95, "swvl2": 0.9, "sd": np.nan},  # median of the finite: 0.925, best
            4: {"swvl1": 0.3, "swvl2": 0.4, "sd": 0.5},  # 0.4
            5: {"swvl1": 0.8, "swvl2": 0.7, "sd": 0.9},  # 0.8
            6: {"swvl1": np.nan, "swvl2": np.nan, "sd": np.nan},  # no r: never chosen
        }
    )
    median_r = basin_median_r(scores, RANK_JOB)
    assert median_r.to_dict() == pytest.approx({1: 0.2, 2: 0.6, 3: 0.925, 4: 0.4, 5: 0.8})
    assert ranked_basins(median_r) == {"best": 3, "median": 2, "worst": 1}
    chosen = series_basins(series_slots(None), scores, RANK_JOB, np.arange(1, 7, dtype=np.int32))
    assert chosen == {"best": 3, "median": 2, "worst": 1}
    assert all(isinstance(b, np.int32) for b in chosen.values())  # the data's own basin labels


def test_ties_go_to_the_smaller_basin_and_an_even_count_takes_the_lower_middle():
    median_r = pd.Series([0.5, 0.9, 0.5, 0.9], index=[4, 3, 2, 1])
    assert ranked_basins(median_r) == {"best": 1, "median": 4, "worst": 2}


def test_configured_basins_are_taken_as_given_and_must_exist():
    scores = scores_table({1: {"swvl1": 0.5}})
    assert series_basins(["basin2", "basin1"], scores, RANK_JOB, [1, 2]) == {"basin2": 2, "basin1": 1}
    with pytest.raises(InputDataError, match="basin 7"):
        series_basins(["basin7"], scores, RANK_JOB, [1, 2])
    with pytest.raises(InputDataError, match="no rows"):
        series_basins(["best"], scores, {**RANK_JOB, "seed": 2}, [1, 2])


@pytest.mark.parametrize(
    "model, control, target_scaling",
    [("trained", "none", "global"), ("untrained", "none", "per_basin"), ("trained", "shift", "global")],
)
def test_prediction_r_is_the_r_the_probe_job_writes(model, control, target_scaling):
    dataset, models = world()
    options = dict(SETTINGS, target_scaling=target_scaling)
    for target in TARGETS:
        job = dict(JOB, model=model, control=control, target=target)
        written = run_probe_job(
            dataset, models[model], job, **options, seed=0, shift_days=30, input_lags=4, snow_threshold=0.05
        )
        predicted = probe_job_prediction(dataset, models[model], job, **options, shift_days=30)
        assert predicted.dims == ("time", "basin")
        assert predicted["time"].values[0] == np.datetime64(TEST[0])
        assert predicted["time"].values[-1] == np.datetime64(TEST[1])
        recomputed = prediction_r(dataset, {model: xr.Dataset({target: predicted})})
        ok = written[written["subset"] == "all"].set_index("basin")["r"]
        np.testing.assert_allclose(recomputed.set_index("basin")["r"].loc[ok.index], ok, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "probe, control, target_scaling",
    [("linear", "none", "global"), ("linear_offsets", "none", "per_basin"), ("linear", "shift", "global")],
)
def test_predictions_of_a_few_basins_are_the_in_memory_fits_predictions(
    tmp_path, probe, control, target_scaling
):
    """Fitted block by block from a store on disk, applied to two basins only: the prediction of
    the probe fitted on the whole states in memory, on those basins."""
    dataset, models = world(n_basins=6)
    models["trained"].to_zarr(tmp_path / "trained.zarr", consolidated=False)
    lazy = {"trained": xr.open_zarr(tmp_path / "trained.zarr", consolidated=False)}
    job = dict(JOB, probe=probe, control=control)
    options = dict(SETTINGS, target_scaling=target_scaling, shift_days=30)
    drawn = [8005, 8002]
    got = probe_predictions(dataset, lazy, TARGETS, job, basins=drawn, **options)["trained"]
    assert got["basin"].values.tolist() == drawn
    for target in TARGETS:
        whole = probe_job_prediction(
            dataset, models["trained"], dict(job, model="trained", target=target), **options
        )
        np.testing.assert_allclose(
            got[target].transpose("time", "basin").values, whole.sel(basin=drawn).values, rtol=0, atol=1e-9
        )
    with pytest.raises(InputDataError, match="basin 9999 has no states"):
        probe_predictions(dataset, lazy, TARGETS, job, basins=[9999], **options)


def test_a_control_without_its_setting_is_refused():
    dataset, models = world()
    with pytest.raises(InputDataError, match="shift_days"):
        probe_job_prediction(
            dataset, models["trained"], dict(JOB, model="trained", control="shift", target="sd"), **SETTINGS
        )


def test_check_against_scores_passes_the_job_scores_and_catches_a_difference():
    dataset, models = world()
    predictions = probe_predictions(dataset, models, TARGETS, JOB, **SETTINGS)
    recomputed = prediction_r(dataset[TARGETS], predictions)
    written = pd.concat(
        [
            run_probe_job(
                dataset,
                models[m],
                dict(JOB, model=m, target=t),
                **SETTINGS,
                seed=0,
                shift_days=1,
                input_lags=1,
                snow_threshold=0.05,
            )
            for m in models
            for t in TARGETS
        ]
    )
    merged = check_against_scores(recomputed, written, JOB)
    assert len(merged) == 2 * len(TARGETS) * dataset.sizes["basin"]
    assert merged["r_scores"].notna().all()
    assert (
        merged.query("model == 'trained'")["r"] > merged.query("model == 'untrained'")["r"].to_numpy()
    ).all()
    tampered = written.assign(r=written["r"] + 0.01)
    with pytest.raises(InputDataError, match="recomputed"):
        check_against_scores(recomputed, tampered, JOB)


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_are_written_as_png_with_extra_formats(tmp_path):
    dataset, models = world(n_basins=3)
    predictions = probe_predictions(dataset, models, TARGETS, JOB, **SETTINGS)
    r = prediction_r(dataset[TARGETS], predictions)
    basin = 8002
    rows = r[r["basin"] == basin]
    store = plot_store_series(
        basin_series(dataset[TARGETS], basin, TEST),
        {m: basin_series(p, basin, TEST) for m, p in predictions.items()},
        {(row.model, row.target): row.r for row in rows.itertuples()},
        tmp_path / "series.png",
        title="basin 8002",
        extra_paths=[tmp_path / "series.pdf"],
    )
    sim = basin_series(models["trained"]["discharge_spec_sim"], basin, TEST)
    obs = dataset["discharge_spec"].sel(basin=basin).reindex(time=sim["time"])
    discharge = plot_discharge_series([("basin 8002", obs, sim), ("again", obs, sim)], tmp_path / "q.png")
    for path in (store, discharge):
        assert is_png(path)
        assert 20_000 < path.stat().st_size < 2_000_000
    assert (tmp_path / "series.pdf").read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.png", "series.pdf", "series.png"]
