"""Probes read block by block give the in-memory probes' scores: every target, control and kind."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from toy_worlds import probe_world

from hydroprobe.io import open_zarr
from hydroprobe.probes.blockwise import (
    StateBlocks,
    fit_linear_probes_blockwise,
    fit_offset_probes_blockwise,
    sample_train_rows,
)
from hydroprobe.probes.fit import aligned_rows, fit_linear_probe, fit_offset_probe, run_probe
from hydroprobe.probes.job import probe_features, run_probe_jobs

TIME = pd.date_range("1990-01-01", "1995-12-31", freq="D")
TRAIN = ("1990-01-01", "1993-06-30")
TEST = ("1993-07-01", "1995-12-31")
TARGETS = ["swvl1", "sd"]
SETTINGS = dict(
    ridge=1e-6,
    seed=3,
    shift_days=180,
    input_lags=8,
    snow_threshold=0.05,
    train_period=TRAIN,
    test_period=TEST,
)


def _world(tmp_path, gaps=True):
    """States in a zarr store (one chunk per basin, as extracted) and a dataset with the targets,
    with missing target days, a basin without any test target and a NaN state."""
    states, targets = probe_world(TARGETS, time=TIME, n_basins=7, n_dims=6, seed=1, offsets=0.05)
    if gaps:
        rng = np.random.default_rng(0)
        targets["swvl1"] = targets["swvl1"].where(rng.random(targets["swvl1"].shape) > 0.1)
        targets["sd"].loc[dict(basin=3, time=slice(TEST[0], None))] = np.nan
        states[100, 2, 4] = np.nan
    dataset = xr.Dataset(targets)
    dataset["frac_snow"] = ("basin", np.linspace(0, 0.5, 7))
    path = tmp_path / "states.zarr"
    states.to_dataset(name="c").chunk({"time": -1, "basin": 1}).to_zarr(path, consolidated=False)
    return open_zarr(path), dataset


def _in_memory(dataset, states, model, control, kind, target, target_scaling):
    """The reference: the probe on the control's states loaded whole (`run_probe`)."""
    x = probe_features(dataset, states, model, "cell", control, [TRAIN, TEST], 8, 3, 180)
    options = {"ridge": 1e-6} if kind in ("linear", "linear_offsets") else {"seed": 3}
    scores, _ = run_probe(kind, x, dataset[target], TRAIN, TEST, target_scaling=target_scaling, **options)
    return scores


@pytest.mark.parametrize("kind", ["linear", "linear_offsets"])
@pytest.mark.parametrize("control", ["none", "shuffle", "shift"])
@pytest.mark.parametrize("target_scaling", ["global", "per_basin"])
def test_blockwise_linear_scores_equal_the_in_memory_probe(tmp_path, kind, control, target_scaling):
    states, dataset = _world(tmp_path)
    model = "untrained" if control == "none" else "trained"
    jobs = [
        dict(model=model, seed=1, features="cell", probe=kind, control=control, target=t) for t in TARGETS
    ]
    out = run_probe_jobs(dataset, states, jobs, target_scaling=target_scaling, **SETTINGS)
    for target, scores in zip(TARGETS, out):
        assert (scores["target"] == target).all() and (scores["control"] == control).all()
        got = scores[scores["subset"] == "all"].set_index("basin")
        want = _in_memory(dataset, states, model, control, kind, target, target_scaling).set_index("basin")
        ok = got["status"] == "ok"
        assert ok.sum() >= 6
        np.testing.assert_allclose(
            got.loc[ok, ["r", "nse"]], want.loc[ok[ok].index, ["r", "nse"]], atol=1e-10
        )
    assert out[1].set_index("basin").loc[3, "status"].iloc[0] == "no_data"  # no sd in its test period


def test_small_blocks_fit_the_same_probe_as_one_block(tmp_path):
    states, dataset = _world(tmp_path)
    blocks = StateBlocks.of(states["c"], "none")
    tiny = fit_linear_probes_blockwise(dataset, TARGETS, blocks, TRAIN, ridge=1e-6, max_block_mb=0.01)
    assert len(list(blocks.basin_groups(len(blocks.days_in(TRAIN)), 0.01))) == 7  # one basin a block
    x, y = aligned_rows(states["c"], dataset["swvl1"], TRAIN)
    closed = fit_linear_probe(x.reshape(-1, 6), y.reshape(-1), 1e-6)
    np.testing.assert_allclose(tiny["swvl1"][0].weights, closed.weights, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(tiny["swvl1"][0].feature_mean, closed.feature_mean, rtol=1e-10)
    offsets = fit_offset_probes_blockwise(dataset, ["swvl1"], blocks, TRAIN, ridge=1e-6, max_block_mb=0.01)
    closed = fit_offset_probe(x, y, 1e-6)
    np.testing.assert_allclose(offsets["swvl1"].weights, closed.weights, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(offsets["swvl1"].intercept, closed.intercept, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kind", ["mlp", "sgd_elasticnet"])
def test_row_probes_with_every_row_equal_the_in_memory_probe(tmp_path, kind):
    states, dataset = _world(tmp_path)
    job = dict(model="trained", seed=1, features="cell", probe=kind, control="shift", target="swvl1")
    scores = run_probe_jobs(
        dataset, states, [job], target_scaling="global", max_train_rows=10**6, **SETTINGS
    )[0]
    want = _in_memory(dataset, states, "trained", "shift", kind, "swvl1", "global").set_index("basin")
    got = scores.set_index("basin")
    np.testing.assert_allclose(got[["r", "nse"]], want[["r", "nse"]], atol=1e-12)


def test_train_rows_beyond_the_cap_are_a_seeded_subsample(tmp_path):
    states, dataset = _world(tmp_path, gaps=False)
    blocks = StateBlocks.of(states["c"], "none")
    x_all, y_all = aligned_rows(states["c"], dataset["sd"], TRAIN)
    x_all, y_all = x_all.reshape(-1, 6), y_all.reshape(-1)  # day-major, as the in-memory probes
    x, y, _ = sample_train_rows(dataset, "sd", blocks, TRAIN, max_rows=500, seed=9, max_block_mb=0.01)
    chosen = np.sort(np.random.default_rng(9).choice(len(y_all), size=500, replace=False))
    assert x.shape == (500, 6)
    np.testing.assert_array_equal(x, x_all[chosen].astype(np.float32))
    np.testing.assert_array_equal(y, y_all[chosen])
    x_full, _, _ = sample_train_rows(dataset, "sd", blocks, TRAIN, max_rows=len(y_all), seed=9)
    np.testing.assert_array_equal(x_full, x_all.astype(np.float32))


def test_a_capped_row_probe_still_scores_every_basin(tmp_path):
    states, dataset = _world(tmp_path, gaps=False)
    job = dict(
        model="trained", seed=1, features="cell", probe="sgd_elasticnet", control="none", target="swvl1"
    )
    scores = run_probe_jobs(dataset, states, [job], target_scaling="global", max_train_rows=800, **SETTINGS)[
        0
    ]
    assert len(scores) == 7 and (scores["status"] == "ok").all()
    assert scores["r"].median() > 0.8  # the signal is linear in the states: 800 rows are plenty


def test_a_basin_of_the_states_without_target_series_is_named(tmp_path):
    states, dataset = _world(tmp_path)
    job = dict(model="trained", seed=1, features="cell", probe="linear", control="none", target="sd")
    with pytest.raises(Exception, match="probe target 'sd' has no series for basin 7"):
        run_probe_jobs(
            dataset.sel(basin=dataset["basin"] < 7), states, [job], target_scaling="global", **SETTINGS
        )
