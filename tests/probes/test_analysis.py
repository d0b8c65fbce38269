"""Probe weights, per-dimension correlations and PCA of the states, on toy states with known answers."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from toy_worlds import probe_world

from hydroprobe.errors import InputDataError
from hydroprobe.probes.analysis import (
    CORRELATION_COLUMNS,
    WEIGHT_COLUMNS,
    analyse_states,
    fit_pca,
    pca_columns,
    pca_summary_table,
    pooled_correlations,
    top_dimensions,
)
from hydroprobe.probes.fit import aligned_rows, fit_linear_probe, probe_linear

TIME = pd.date_range("1990-01-01", "1995-12-31", freq="D")
TRAIN = ("1990-01-01", "1993-12-31")
TEST = ("1994-01-01", "1995-12-31")
BASINS = np.arange(101, 106, dtype=np.int32)


def as_states(values, time=TIME):
    return xr.DataArray(
        values.astype(np.float32),
        dims=("time", "basin", "dim"),
        coords={"time": time, "basin": BASINS[: values.shape[1]], "dim": np.arange(values.shape[2])},
    )


def as_target(values, name, time=TIME):
    """(time, basin) values -> a target on (basin, time), as in the basin dataset."""
    return xr.DataArray(
        values.T, dims=("basin", "time"), coords={"basin": BASINS[: values.shape[1]], "time": time}, name=name
    )


def analyse(states, targets, ridge=1e-6, n_components=3, test=TEST, **options):
    """The tables of the analysis job (`analyse_states`) of one states store, on TRAIN and `test`."""
    return analyse_states(
        states,
        targets,
        targets=list(targets),
        train_period=TRAIN,
        test_period=test,
        ridge=ridge,
        n_components=n_components,
        **options,
    )


# Two targets per basin: a = 0.3 + 0.05·(season + 0.2·noise), b = 0.3 + 0.05·(0.2·noise). Dim 0 of
# the states is a's signal exactly (a, up to an increasing affine map), dim 1 is -2 × b's signal;
# the other dims are noise with a basin-specific offset.
TWO_TARGETS = dict(
    n_basins=BASINS.size,
    n_dims=6,
    first_basin=int(BASINS[0]),
    season=(1.0, 0.0),
    signal_noise=0.2,
    signal_weight=(1.0, -2.0),
    direction="axis",
    state_noise=1.0,
    basin_state_offsets=1.0,
)


def test_pooled_correlations_match_numpy_pairwise_with_nans():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 4)) @ rng.standard_normal((4, 4)) + 100.0
    y = np.column_stack([x[:, 0] + rng.standard_normal(400), rng.standard_normal(400)])
    x[rng.random(x.shape) < 0.1] = np.nan
    y[rng.random(y.shape) < 0.2] = np.nan
    r, n = pooled_correlations(x, y)
    assert r.shape == n.shape == (2, 4)
    for k in range(2):
        for j in range(4):
            ok = np.isfinite(x[:, j]) & np.isfinite(y[:, k])
            assert n[k, j] == ok.sum()
            np.testing.assert_allclose(r[k, j], np.corrcoef(x[ok, j], y[ok, k])[0, 1], atol=1e-12)


def test_pooled_correlations_nan_for_constant_or_too_few():
    x = np.column_stack([np.full(50, 3.0), np.arange(50.0), np.r_[1.0, np.full(49, np.nan)]])
    y = np.arange(50.0)[:, None] ** 2
    r, n = pooled_correlations(x, y)
    assert np.isnan(r[0, 0]) and np.isnan(r[0, 2])
    assert 0.9 < r[0, 1] < 1.0
    assert n[0].tolist() == [50, 50, 1]


def test_a_dimension_that_is_the_target_gets_r_one_and_the_weight():
    states, targets = probe_world(("a", "b"), **TWO_TARGETS)
    out = analyse(states, targets, ridge=1e-9)
    corr = out["dimension_correlations"]
    assert list(corr.columns) == CORRELATION_COLUMNS
    assert len(corr) == 2 * 6
    a = corr[corr["target"] == "a"].set_index("dim")
    assert a.loc[0, "r"] == pytest.approx(1.0, abs=1e-9)
    assert a.loc[0, "median_basin_r"] == pytest.approx(1.0, abs=1e-9)
    assert a.loc[0, "n"] == TIME[TIME >= TEST[0]].size * BASINS.size
    assert a.loc[0, "n_basins"] == BASINS.size
    assert (a.loc[2:, "r"].abs() < 0.2).all()  # noise dims (the pooled r sees basin offsets, a little)
    b = corr[corr["target"] == "b"].set_index("dim")
    assert b.loc[1, "r"] == pytest.approx(-1.0, abs=1e-9)
    top = top_dimensions(corr).set_index("target")
    assert top.loc["a", "dim"] == 0 and top.loc["b", "dim"] == 1

    weights = out["probe_weights"]
    assert list(weights.columns) == WEIGHT_COLUMNS
    wa = weights[weights["target"] == "a"].set_index("dim")["weight"]
    # standardised: the dim that is the target up to an increasing affine map gets weight 1, the others 0
    assert wa.loc[0] == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(wa.loc[1:], 0.0, atol=1e-5)
    wb = weights[weights["target"] == "b"].set_index("dim")["weight"]
    assert wb.abs().idxmax() == 1 and wb.loc[1] == pytest.approx(-1.0, abs=1e-5)


def test_weights_are_the_linear_probe_jobs_weights():
    states, targets = probe_world(("a", "b"), seed=5, **TWO_TARGETS)
    x = states.copy(
        data=states.values + np.random.default_rng(1).standard_normal(states.shape).astype(np.float32)
    )
    weights = analyse(x, targets, ridge=1e-3)["probe_weights"]
    for name, target in targets.items():
        _, probe = probe_linear(x, target, TRAIN, TEST, ridge=1e-3)
        np.testing.assert_allclose(
            weights.loc[weights["target"] == name, "weight"], probe.model.weights, atol=1e-12
        )


def test_nan_days_and_days_outside_the_periods_are_skipped():
    states, targets = probe_world(("a", "b"), seed=2, **TWO_TARGETS)
    base = analyse(states, targets, ridge=1e-6)
    # validation-like days before the train period with garbage states, and NaN holes
    extra = pd.date_range("1989-01-01", "1989-12-31", freq="D")
    rng = np.random.default_rng(9)
    junk = as_states(1e3 * rng.standard_normal((extra.size, BASINS.size, 6)), extra)
    longer = xr.concat([junk, states], dim="time")
    a = targets["a"].copy()
    holes = TIME[::7]
    a.loc[dict(time=holes)] = np.nan
    # the same days' states are wild: they must not count for target a
    wild = longer.copy()
    wild.loc[dict(time=holes)] = 1e6
    long_targets = {"a": a.reindex(time=longer["time"]), "b": targets["b"].reindex(time=longer["time"])}
    corr = analyse(wild, long_targets)["dimension_correlations"].set_index(["target", "dim"])
    assert corr.loc[("a", 0), "r"] == pytest.approx(1.0, abs=1e-9)
    assert (
        corr.loc[("a", 0), "n"]
        < base["dimension_correlations"].set_index(["target", "dim"]).loc[("a", 0), "n"]
    )
    # states NaN (incomplete windows) are skipped as well, and untouched periods give the same answer
    holey = longer.copy()
    holey.loc[dict(time=holes)] = np.nan
    untouched = analyse(
        longer,
        {"a": targets["a"].reindex(time=longer["time"]), "b": targets["b"].reindex(time=longer["time"])},
        ridge=1e-6,
    )
    pd.testing.assert_frame_equal(untouched["probe_weights"], base["probe_weights"])
    pd.testing.assert_frame_equal(untouched["pca"], base["pca"], atol=1e-10)
    out = analyse(holey, long_targets, ridge=1e-9)
    w = out["probe_weights"].set_index(["target", "dim"])["weight"]
    assert w.loc[("a", 0)] == pytest.approx(1.0, abs=1e-5)
    pca = out["pca"]
    assert np.isfinite(pca["explained_variance_ratio"]).all()
    assert np.isfinite(pca.loc[:2, ["r_a", "r_b"]].to_numpy()).all()


def test_per_basin_median_and_basins_without_variance():
    rng = np.random.default_rng(4)
    y = rng.standard_normal((TIME.size, 5))
    y[:, 4] = 2.0  # no variance in the last basin
    x = rng.standard_normal((TIME.size, 5, 2))
    x[..., 0] = y * np.array([1, 1, 1, -1, -1])  # +target in 3 basins, -target in 1 (and the constant one)
    corr = analyse(as_states(x), {"sd": as_target(y, "sd")})["dimension_correlations"].set_index("dim")
    assert corr.loc[0, "n_basins"] == 4
    assert corr.loc[0, "median_basin_r"] == pytest.approx(1.0, abs=1e-6)  # median of [1, 1, 1, -1]


def test_pca_recovers_known_variance_ratios():
    """Equicorrelated dims (rho): eigenvalues 1 + (d-1) rho and 1 - rho; PC1 = the common factor."""
    rng = np.random.default_rng(11)
    d, rho = 8, 0.5
    t = TIME.size
    f = rng.standard_normal((t, BASINS.size))
    e = rng.standard_normal((t, BASINS.size, d))
    x = np.sqrt(rho) * f[..., None] + np.sqrt(1 - rho) * e
    x = x * rng.uniform(0.1, 10.0, d) + rng.uniform(
        -50, 50, d
    )  # scales and offsets: PCA is on standardised dims
    states = as_states(x)
    pca = analyse(
        states,
        {"f": as_target(f, "f"), "noise": as_target(rng.standard_normal(f.shape), "noise")},
        n_components=2,
    )["pca"]
    assert list(pca.columns) == pca_columns(["f", "noise"])
    assert pca["component"].tolist() == list(range(1, d + 1))
    ratio = pca["explained_variance_ratio"].to_numpy()
    assert ratio[0] == pytest.approx((1 + (d - 1) * rho) / d, abs=0.01)
    np.testing.assert_allclose(ratio[1:], (1 - rho) / d, atol=0.01)
    assert (np.diff(ratio) <= 0).all()
    assert pca["cumulative_explained_variance_ratio"].iloc[-1] == pytest.approx(1.0)
    # PC1's loadings are all positive (sign convention), so it correlates positively with f
    assert pca.loc[0, "r_f"] == pytest.approx(np.sqrt(d * rho / (1 + (d - 1) * rho)), abs=0.02)
    assert abs(pca.loc[1, "r_f"]) < 0.05 and abs(pca.loc[0, "r_noise"]) < 0.05
    assert pca.loc[2:, ["r_f", "r_noise"]].isna().all().all()


def test_fit_pca_matches_svd_of_the_standardised_rows():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 5)) * [1, 10, 0.1, 3, 7]
    x[::10, 2] = np.nan  # incomplete rows are dropped
    x = np.column_stack([x, np.full(300, 4.0)])  # a constant dim adds nothing
    mean, std, ratio, vectors = fit_pca(x)
    ok = np.isfinite(x).all(axis=1)
    z = (x[ok] - x[ok].mean(0)) / np.where(x[ok].std(0) > 0, x[ok].std(0), 1.0)
    s = np.linalg.svd(z, compute_uv=False)
    np.testing.assert_allclose(ratio, s**2 / (s**2).sum(), atol=1e-12)
    assert ratio[-1] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(6), atol=1e-10)
    assert (vectors[np.abs(vectors).argmax(axis=0), np.arange(6)] > 0).all()
    with pytest.raises(InputDataError):
        fit_pca(np.full((10, 3), np.nan))


def test_analyse_states_and_summary_table():
    states, targets = probe_world(("a", "b"), seed=8, **TWO_TARGETS)
    out = analyse(states, targets, n_components=2)
    assert set(out) == {"probe_weights", "dimension_correlations", "pca"}
    summary = pca_summary_table({("trained", 1, "cell"): out["pca"], ("untrained", 1, "cell"): out["pca"]})
    assert list(summary.columns) == ["model", "seed", "features"] + pca_columns(["a", "b"])
    assert len(summary) == 2 * 6
    with pytest.raises(InputDataError):
        analyse(states, targets, test=("2001-01-01", "2001-12-31"))


def in_memory_tables(states, targets, train, test, ridge, n_components):
    """The three tables computed on whole periods in memory: the closed-form probe, two-pass
    pairwise correlations and the PCA of the standardised complete rows."""
    names = list(targets)
    d = states.sizes["dim"]

    def period(p):
        x, _ = aligned_rows(states, targets[names[0]], p)
        y = np.stack([aligned_rows(states, targets[n], p)[1] for n in names], axis=-1)
        return x, y

    (x_tr, y_tr), (x_te, y_te) = period(train), period(test)
    weights = np.concatenate(
        [
            fit_linear_probe(x_tr.reshape(-1, d), y_tr[..., k].ravel(), ridge).weights
            for k in range(len(names))
        ]
    )
    r, n = pooled_correlations(x_te.reshape(-1, d), y_te.reshape(-1, len(names)))
    per = np.stack([pooled_correlations(x_te[:, j], y_te[:, j])[0] for j in range(x_te.shape[1])])
    mean, std, ratio, vectors = fit_pca(x_tr.reshape(-1, d))
    scores = ((x_te.reshape(-1, d) - mean) / std) @ vectors[:, :n_components]
    r_scores, _ = pooled_correlations(scores, y_te.reshape(-1, len(names)))
    return weights, r, n, np.nanmedian(per, axis=0), ratio, r_scores


@pytest.mark.parametrize("max_block_mb", [0.05, 64.0])  # ~2 basins per block, or all in one
def test_streamed_tables_equal_the_in_memory_computation(max_block_mb):
    """Several blocks, targets with gaps, states with NaN days and far from zero, a dimension
    with a large offset: the streamed tables equal the whole-period computation to ~1e-10."""
    states, targets = probe_world(("a", "b"), seed=6, **TWO_TARGETS)
    rng = np.random.default_rng(12)
    values = states.values + rng.standard_normal(states.shape).astype(np.float32)
    values[..., 3] += 500.0  # far from zero: shifted sums keep their precision
    values[rng.random(values.shape[:2]) < 0.03] = np.nan  # incomplete state rows
    states = states.copy(data=values)
    a = targets["a"].copy()
    a[:, ::5] = np.nan
    targets = {"a": a, "b": targets["b"]}
    out = analyse_states(
        states, targets, targets=["a", "b"], train_period=TRAIN, test_period=TEST,
        ridge=1e-4, n_components=3, max_block_mb=max_block_mb,
    )  # fmt: skip
    weights, r, n, median_r, ratio, r_scores = in_memory_tables(states, targets, TRAIN, TEST, 1e-4, 3)
    np.testing.assert_allclose(out["probe_weights"]["weight"], weights, rtol=0, atol=1e-10)
    corr = out["dimension_correlations"]
    np.testing.assert_array_equal(corr["n"], n.ravel())
    np.testing.assert_allclose(corr["r"], r.ravel(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(corr["median_basin_r"], median_r.ravel(), rtol=0, atol=1e-12)
    pca = out["pca"]
    np.testing.assert_allclose(pca["explained_variance_ratio"], ratio, rtol=0, atol=1e-10)
    np.testing.assert_allclose(pca.loc[:2, ["r_a", "r_b"]].to_numpy(), r_scores.T, rtol=0, atol=1e-10)


def test_module_does_not_import_torch():
    code = "import sys, hydroprobe.probes.analysis; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
