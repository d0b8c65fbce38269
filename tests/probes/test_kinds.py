"""Probe kinds (linear, sgd_elasticnet, linear_offsets, mlp), target scaling, features, and the
streaming fit, on toy worlds whose truth is known."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from toy_worlds import probe_world

from hydroprobe.errors import InputDataError
from hydroprobe.probes.fit import (
    PROBE_KINDS,
    fit_linear_probe,
    probe_linear,
    probe_linear_offsets,
    probe_mlp,
    probe_sgd_elasticnet,
    run_probe,
    select_features,
)
from hydroprobe.probes.streaming import fit_linear_probes_streaming

TIME = pd.date_range("1990-01-01", "1995-12-31", freq="D")
TRAIN = ("1990-01-01", "1993-12-31")
TEST = ("1994-01-01", "1995-12-31")


# probe_world's defaults: target per basin = 0.3 + 0.05·(season + 0.3·noise) (+ a basin offset that
# the states lack, with `offsets`), or tanh of 2·signal (`nonlinear`); the states hold 2·signal
# along a unit direction under noise of std state_noise (0.3)


def test_every_kind_reads_a_linearly_stored_target():
    states, target = probe_world(n_basins=4, time=TIME[:1500])
    train, test = ("1990-01-01", "1992-12-31"), ("1993-01-01", "1994-02-08")
    for kind in PROBE_KINDS:
        scores, probe = run_probe(kind, states, target, train, test)
        assert list(scores.columns) == ["basin", "r", "r2", "nse"], kind
        assert scores["r"].median() > 0.9, kind
        assert hasattr(probe, "predict")


def test_offsets_beat_pooled_linear_where_basins_have_their_own_level():
    states, target = probe_world(offsets=0.1)
    lin, _ = probe_linear(states, target, TRAIN, TEST)
    off, probe = probe_linear_offsets(states, target, TRAIN, TEST)
    assert (off["nse"] >= lin["nse"] - 1e-12).all()
    assert off["nse"].median() > 0.8 and lin["nse"].median() < 0.0
    np.testing.assert_allclose(off["r"], lin["r"], atol=0.02)  # offsets don't change the shape
    assert probe.intercept.shape == (6,)


def test_offset_probe_is_least_squares_with_basin_dummies():
    states, target = probe_world(n_basins=3, offsets=0.1, time=TIME[:400])
    _, probe = probe_linear_offsets(
        states, target, ("1990-01-01", "1990-12-31"), ("1991-01-01", "1991-02-04")
    )
    x = states.sel(time=slice("1990-01-01", "1990-12-31")).values.astype(np.float64)
    y = target.sel(time=slice("1990-01-01", "1990-12-31")).transpose("time", "basin").values
    dummies = np.broadcast_to(np.eye(3), (x.shape[0], 3, 3))
    design = np.concatenate([x, dummies], axis=2).reshape(-1, x.shape[2] + 3)
    coef, *_ = np.linalg.lstsq(design, y.reshape(-1), rcond=None)
    np.testing.assert_allclose(probe.predict(x).reshape(-1), design @ coef, atol=1e-10)


def test_mlp_beats_linear_on_a_nonlinear_world():
    states, target = probe_world(n_basins=4, nonlinear=True, state_noise=0.05, time=TIME[:1500])
    train, test = ("1990-01-01", "1992-12-31"), ("1993-01-01", "1994-02-08")
    lin, _ = probe_linear(states, target, train, test)
    mlp, _ = probe_mlp(states, target, train, test, seed=0)
    assert mlp["nse"].median() > lin["nse"].median() + 0.03
    assert mlp["nse"].median() > 0.9


def test_sgd_elasticnet_is_close_to_closed_form():
    states, target = probe_world(n_basins=4, time=TIME[:1500])
    train, test = ("1990-01-01", "1992-12-31"), ("1993-01-01", "1994-02-08")
    lin, _ = probe_linear(states, target, train, test)
    sgd, probe = probe_sgd_elasticnet(states, target, train, test, seed=3)
    np.testing.assert_allclose(sgd["r"], lin["r"], atol=0.02)
    assert probe.model.random_state == 3 and probe.model.penalty == "elasticnet"


def test_per_basin_standardisation_predicts_in_original_units():
    states, target = probe_world(offsets=0.1)
    glob, _ = probe_linear(states, target, TRAIN, TEST, target_scaling="global")
    per, probe = probe_linear(states, target, TRAIN, TEST, target_scaling="per_basin")
    # the scaled target has each basin's train mean 0, std 1; predictions come back in m³/m³
    y = target.sel(time=slice(*TRAIN)).transpose("time", "basin").values
    np.testing.assert_allclose(probe.basin_scaler.mean, y.mean(axis=0))
    np.testing.assert_allclose(probe.basin_scaler.std, y.std(axis=0))
    pred = probe.predict(states.sel(time=slice(*TEST)).values.astype(np.float64))
    assert abs(np.nanmean(pred) - float(target.mean())) < 0.02
    assert per["nse"].median() > 0.8 > glob["nse"].median()


def test_unknown_options_are_named():
    states, target = probe_world(n_basins=2, time=TIME[:800])
    with pytest.raises(InputDataError, match="per_basin"):
        probe_linear(states, target, TRAIN, TEST, target_scaling="local")
    with pytest.raises(InputDataError, match="kind 'svm'"):
        run_probe("svm", states, target, TRAIN, TEST)
    with pytest.raises(InputDataError, match="cell, hidden"):
        select_features(xr.Dataset({"c": states}), "gate")


def test_select_features_picks_cell_or_hidden():
    states, _ = probe_world(n_basins=2, time=TIME[:10])
    ds = xr.Dataset({"c": states, "h": -states})
    assert select_features(ds).equals(ds["c"])
    assert select_features(ds, "hidden").equals(ds["h"])


def test_streaming_fit_equals_closed_form_for_every_target(tmp_path):
    rng = np.random.default_rng(5)
    n_t, n_b, n_d = 300, 7, 6
    time = pd.date_range("2000-01-01", periods=n_t, freq="D")
    basins = np.arange(10, 10 + n_b, dtype=np.int32)
    x = (rng.standard_normal((n_t, n_b, n_d)) * [1, 2, 3, 4, 5, 6] + 10.0).astype(np.float32)
    x[5, 2, 3] = np.nan  # an incomplete state row
    targets = {}
    for k, name in enumerate(["swvl1", "swvl2", "sd"]):
        y = x.astype(np.float64) @ rng.standard_normal(n_d) + rng.standard_normal((n_t, n_b)) + 100 * k
        y[rng.random((n_t, n_b)) < 0.1 * k] = np.nan  # each target its own gaps
        targets[name] = (("basin", "time"), y.T)
    targets = xr.Dataset(targets, coords={"basin": basins[::-1].copy(), "time": time}).sel(basin=basins[::-1])
    xr.Dataset(
        {"c": (("time", "basin", "dim"), x)}, coords={"time": time, "basin": basins, "dim": np.arange(n_d)}
    ).to_zarr(tmp_path / "s.zarr", encoding={"c": {"chunks": (128, 2, n_d)}}, consolidated=False)
    train = ("2000-01-10", "2000-09-30")
    streamed = fit_linear_probes_streaming(
        tmp_path / "s.zarr", targets, list(targets), train, ridge=0.01, max_block_mb=0.0
    )
    sel = slice(pd.Timestamp(train[0]), pd.Timestamp(train[1]))
    xs = x[(time >= sel.start) & (time <= sel.stop)]
    for name in targets:
        ys = targets[name].sel(basin=basins, time=sel).transpose("time", "basin").values
        ref = fit_linear_probe(xs.reshape(-1, n_d), ys.reshape(-1), ridge=0.01)
        got = streamed[name]
        np.testing.assert_allclose(got.weights, ref.weights, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(got.feature_mean, ref.feature_mean, rtol=1e-8)
        np.testing.assert_allclose(got.feature_std, ref.feature_std, rtol=1e-8)
        assert got.target_mean == pytest.approx(ref.target_mean, rel=1e-10)
        assert got.target_std == pytest.approx(ref.target_std, rel=1e-8)
