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
from hydroprobe.probes.controls import input_features, lazy_input_features
from hydroprobe.probes.fit import (
    aligned_rows,
    basin_status_in_period,
    fit_linear_probe,
    fit_offset_probe,
    run_probe,
    with_status,
)
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
        dataset, states, [job], target_scaling="global", max_train_values=10**8, **SETTINGS
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


def test_a_capped_row_probe_still_scores_every_basin(tmp_path, monkeypatch):
    states, dataset = _world(tmp_path, gaps=False)
    caps = []

    def recording(*args, max_rows, **kwargs):
        caps.append(max_rows)
        return sample_train_rows(*args, max_rows=max_rows, **kwargs)

    monkeypatch.setattr("hydroprobe.probes.job.sample_train_rows", recording)
    job = dict(
        model="trained", seed=1, features="cell", probe="sgd_elasticnet", control="none", target="swvl1"
    )
    # 4800 values of 6-dim states: 800 rows
    scores = run_probe_jobs(
        dataset, states, [job], target_scaling="global", max_train_values=4800, **SETTINGS
    )[0]
    assert caps == [800]
    assert len(scores) == 7 and (scores["status"] == "ok").all()
    assert scores["r"].median() > 0.8  # the signal is linear in the states: 800 rows are plenty


def test_a_basin_of_the_states_without_target_series_is_named(tmp_path):
    states, dataset = _world(tmp_path)
    job = dict(model="trained", seed=1, features="cell", probe="linear", control="none", target="sd")
    with pytest.raises(Exception, match="probe target 'sd' has no series for basin 7"):
        run_probe_jobs(
            dataset.sel(basin=dataset["basin"] < 7), states, [job], target_scaling="global", **SETTINGS
        )


def _input_world(tmp_path):
    """`_world` with dynamic inputs in a zarr basin dataset (two basins a chunk, a two-day gap in
    its time axis) and an swvl1 that answers the last days' rain, so the inputs carry signal."""
    states, dataset = _world(tmp_path)
    rng = np.random.default_rng(4)
    like = dataset["swvl1"].transpose("basin", "time")
    rain = like.copy(data=rng.gamma(0.5, 4.0, like.shape))
    dataset["precipitation"] = rain.astype(np.float32)
    dataset["pet"] = like.copy(data=rng.random(like.shape)).astype(np.float32)
    dataset["temperature"] = like.copy(data=rng.standard_normal(like.shape)).astype(np.float32)
    response = sum(0.7**k * rain.shift(time=k, fill_value=0.0) for k in range(8))
    dataset["swvl1"] = dataset["swvl1"] + 0.05 * response / float(response.std())
    path = tmp_path / "dataset.zarr"
    dataset.drop_isel(time=[400, 401]).chunk({"basin": 2}).to_zarr(path, consolidated=False)
    return states, open_zarr(path)


def _in_memory_job(dataset, states, job):
    """The reference for one job: its features built whole (`probe_features`), `run_probe`, and
    the statuses of the test targets."""
    model, features, control, kind, target = (
        job[k] for k in ("model", "features", "control", "probe", "target")
    )
    x = probe_features(dataset, states, model, features, control, [TRAIN, TEST], 8, 3, 180)
    assert isinstance(x.data, np.ndarray)
    options = {"ridge": 1e-6} if kind in ("linear", "linear_offsets") else {"seed": 3}
    scores, _ = run_probe(kind, x, dataset[target], TRAIN, TEST, target_scaling="global", **options)
    return with_status(scores, basin_status_in_period(dataset[target], x["basin"].values, TEST))


INPUT_JOBS = [
    ("inputs", "raw", "inputs"),
    ("inputs", "raw", "inputs_all"),
    ("trained", "cell+inputs_all", "none"),
]


@pytest.mark.parametrize("model, features, control", INPUT_JOBS)
@pytest.mark.parametrize("kind", ["linear", "linear_offsets", "mlp", "sgd_elasticnet"])
def test_input_and_joint_probes_read_blockwise_score_as_in_memory(tmp_path, model, features, control, kind):
    states, dataset = _input_world(tmp_path)
    jobs = [
        dict(model=model, seed=1, features=features, probe=kind, control=control, target=t) for t in TARGETS
    ]
    out = run_probe_jobs(dataset, states, jobs, target_scaling="global", max_train_values=10**8, **SETTINGS)
    for job, scores in zip(jobs, out):
        got = scores[scores["subset"] == "all"].reset_index(drop=True)
        want = _in_memory_job(dataset, states, job)
        assert list(got["basin"]) == list(want["basin"]) and list(got["status"]) == list(want["status"])
        ok = got["status"] == "ok"
        assert ok.sum() >= 6
        np.testing.assert_allclose(got.loc[ok, ["r", "nse"]], want.loc[ok, ["r", "nse"]], atol=1e-8)
        if job["target"] == "swvl1" and kind == "linear":
            assert got.loc[ok, "r"].median() > 0.5  # the rain response is found: the features are real
    assert out[1].set_index("basin").loc[3, "status"].iloc[0] == "no_data"  # no sd in its test period


def test_lazy_input_features_in_small_chunks_are_the_in_memory_ones(tmp_path):
    _, dataset = _input_world(tmp_path)
    times = pd.DatetimeIndex(dataset["time"].values)[20:2000]
    whole = input_features(dataset.load(), "all", lags=8, times=times)
    lazy = lazy_input_features(dataset, "all", lags=8, times=times, max_chunk_mb=0.1)
    assert len(lazy.data.chunks[1]) == 7  # a basin a chunk: each read computes only its basins
    xr.testing.assert_identical(lazy.compute(), whole)
    blocks = StateBlocks.of(lazy, "none")
    np.testing.assert_array_equal(blocks.block(np.arange(5, 900), slice(2, 5)), whole.values[5:900, 2:5])
    fitted = fit_linear_probes_blockwise(dataset, ["swvl1"], blocks, TRAIN, ridge=1e-6, max_block_mb=0.05)
    x, y = aligned_rows(whole, dataset["swvl1"], TRAIN)
    closed = fit_linear_probe(x.reshape(-1, x.shape[-1]), y.reshape(-1), 1e-6)
    np.testing.assert_allclose(fitted["swvl1"][0].weights, closed.weights, rtol=1e-7, atol=1e-9)
    rows, _, _ = sample_train_rows(dataset, "swvl1", blocks, TRAIN, max_rows=300, seed=9, max_block_mb=0.05)
    chosen = np.sort(np.random.default_rng(9).choice(y.size, size=300, replace=False))
    np.testing.assert_array_equal(rows, x.reshape(-1, x.shape[-1])[chosen].astype(np.float32))
