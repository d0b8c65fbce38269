"""The streaming pooled linear probe: equal to the closed form under every pattern of gaps."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from toy_worlds import probe_world

from hydroprobe.errors import InputDataError
from hydroprobe.probes.fit import fit_linear_probe
from hydroprobe.probes.streaming import add_block, block_grams, fit_linear_probes_streaming, iter_blocks


def _store(tmp_path, x, time, basins, chunks):
    path = tmp_path / "s.zarr"
    xr.Dataset(
        {"c": (("time", "basin", "dim"), x)},
        coords={"time": time, "basin": basins, "dim": np.arange(x.shape[-1])},
    ).to_zarr(path, encoding={"c": {"chunks": chunks}}, consolidated=False)
    return path


def _check(path, x, time, basins, targets, train, ridge, **kw):
    streamed = fit_linear_probes_streaming(path, targets, list(targets), train, ridge=ridge, **kw)
    sel = (time >= pd.Timestamp(train[0])) & (time <= pd.Timestamp(train[1]))
    xs = x[sel].reshape(-1, x.shape[-1])
    for name in targets:
        ys = targets[name].sel(basin=basins, time=time[sel]).transpose("time", "basin").values.reshape(-1)
        ref = fit_linear_probe(xs, ys, ridge=ridge)
        got = streamed[name]
        np.testing.assert_allclose(got.weights, ref.weights, rtol=1e-8, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(got.feature_mean, ref.feature_mean, rtol=1e-8)
        np.testing.assert_allclose(got.feature_std, ref.feature_std, rtol=1e-8)
        assert got.target_mean == pytest.approx(ref.target_mean, rel=1e-10)
        assert got.target_std == pytest.approx(ref.target_std, rel=1e-8)


# states (time, basin, dim): one signal per basin along a random direction plus unit noise, all
# shifted by state_level; the target is the signal itself, so linear in the states up to noise
LINEAR = dict(
    season=0.0, signal_noise=1.0, level=0.0, scale=1.0, signal_weight=1.0, direction="raw", state_noise=1.0
)


def _days(n):
    return pd.date_range("2000-01-01", periods=n, freq="D")


@pytest.mark.parametrize("block_mb, piece_rows", [(0.0, 4096), (0.01, 4096), (64.0, 4096), (64.0, 5)])
def test_every_gap_pattern_matches_closed_form(tmp_path, monkeypatch, block_mb, piece_rows):
    """Complete target, sparse gaps, mostly missing, a target absent from the first blocks (its
    shift set later), two targets with identical gaps, NaN and inf states, per-basin chunks as
    the workflow writes them; and pieces smaller than one time step of a block."""
    import hydroprobe.probes.streaming as ps

    monkeypatch.setattr(ps, "PIECE_ROWS", piece_rows)
    rng = np.random.default_rng(11)
    n_t, n_b, n_d = 400, 9, 7
    time = pd.date_range("2001-01-01", periods=n_t, freq="D")
    basins = np.arange(100, 100 + n_b, dtype=np.int32)
    x = (rng.standard_normal((n_t, n_b, n_d)) * np.arange(1, n_d + 1) + 50.0).astype(np.float32)
    x[7, 1, 2] = np.nan
    x[30, 4, :] = np.nan
    x[99, 8, 0] = np.inf
    ys = {}
    for k, name in enumerate(["full", "sparse", "mostly_missing", "late", "twin_a", "twin_b"]):
        ys[name] = x.astype(np.float64) @ rng.standard_normal(n_d) + rng.standard_normal((n_t, n_b)) + 10 * k
    ys["sparse"][rng.random((n_t, n_b)) < 0.05] = np.nan
    ys["mostly_missing"][rng.random((n_t, n_b)) < 0.8] = np.nan
    ys["late"][:, :5] = np.nan
    gaps = rng.random((n_t, n_b)) < 0.2
    ys["twin_a"][gaps] = np.nan
    ys["twin_b"][gaps] = np.nan
    targets = xr.Dataset(
        {k: (("basin", "time"), v.T) for k, v in ys.items()}, coords={"basin": basins, "time": time}
    )
    path = _store(tmp_path, x, time, basins, (n_t, 1, n_d))
    _check(path, x, time, basins, targets, ("2001-02-01", "2001-12-31"), 0.0, max_block_mb=block_mb)
    _check(path, x, time, basins, targets, ("2001-01-01", "2002-12-31"), 0.05, max_block_mb=block_mb)


def test_complete_targets_in_pieces_of_whole_time_steps(tmp_path, monkeypatch):
    """Every target complete: pieces are whole time steps of the block, even when one time step
    has more rows (basins) than a piece."""
    import hydroprobe.probes.streaming as ps

    monkeypatch.setattr(ps, "PIECE_ROWS", 4)
    states, y = probe_world(time=_days(120), n_basins=9, n_dims=3, seed=12, state_level=1.0, **LINEAR)
    time, basins, x = states.indexes["time"], states["basin"].values, states.values
    targets = xr.Dataset({"a": y, "b": 2 * y + 1})
    path = _store(tmp_path, x, time, basins, (120, 1, 3))
    _check(path, x, time, basins, targets, ("2000-01-01", "2000-03-31"), 0.0, max_block_mb=64.0)


def test_targets_with_extra_basins_and_times_in_other_order(tmp_path):
    rng = np.random.default_rng(2)
    n_t, n_b, n_d = 200, 5, 4
    time = pd.date_range("2010-01-01", periods=n_t, freq="D")
    basins = np.arange(1, n_b + 1, dtype=np.int32)
    x = rng.standard_normal((n_t, n_b, n_d)).astype(np.float32)
    y = x.astype(np.float64) @ rng.standard_normal(n_d) + 0.1 * rng.standard_normal((n_t, n_b))
    big_time = pd.date_range("2009-12-01", periods=n_t + 60, freq="D")
    full = np.full((n_b + 2, big_time.size), np.nan)
    full[:n_b, 31 : 31 + n_t] = y.T
    targets = xr.Dataset(
        {"swvl1": (("basin", "time"), full)},
        coords={"basin": np.r_[basins, 98, 99].astype(np.int32), "time": big_time},
    )
    targets = targets.isel(basin=[3, 6, 0, 2, 5, 1, 4])  # basins in another order than the store
    path = _store(tmp_path, x, time, basins, (64, 2, n_d))
    _check(path, x, time, basins, targets, ("2010-01-05", "2010-06-30"), 0.0, max_block_mb=0.0)


def test_blocks_cover_the_period_in_store_order(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 6, 3)).astype(np.float32)
    time = pd.date_range("2000-01-01", periods=50, freq="D")
    path = _store(tmp_path, x, time, np.arange(6, dtype=np.int32), (20, 1, 3))
    blocks = list(iter_blocks(path, "c", (3, 47), max_block_mb=0.0))
    assert [(t.start, t.stop, b.start) for t, b, _ in blocks][:3] == [(3, 20, 0), (3, 20, 1), (3, 20, 2)]
    assert sum(a.size for _, _, a in blocks) == 44 * 6 * 3
    for t, b, a in blocks:
        np.testing.assert_array_equal(a, x[t, b])


def test_any_number_of_workers_gives_the_same_numbers(tmp_path):
    """Blocks are reduced in parallel but added in store order: bit-identical results."""
    states, y = probe_world(time=_days(300), n_basins=8, n_dims=4, seed=8, state_level=2.0, **LINEAR)
    time, basins, x = states.indexes["time"], states["basin"].values, states.values
    targets = xr.Dataset({"a": y.where(np.random.default_rng(8).random(y.shape) >= 0.1)})
    path = _store(tmp_path, x, time, basins, (100, 1, 4))
    fits = [
        fit_linear_probes_streaming(
            path, targets, ["a"], ("2000-01-01", "2000-12-31"), max_block_mb=0.0, workers=w
        )["a"]
        for w in (1, 2, 4)
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.weights, fits[0].weights)
        np.testing.assert_array_equal(other.feature_std, fits[0].feature_std)


def test_blocks_without_rows_add_nothing():
    moments = {}
    for x, y in [
        (np.full((4, 2), np.nan, np.float32), np.ones((4, 1))),
        (np.ones((4, 2), np.float32), np.full((4, 1), np.nan)),
        (np.ones((0, 2), np.float32), np.ones((0, 1))),
    ]:
        add_block(moments, *block_grams(x, y), ["a"])
    assert moments == {}


def test_a_target_without_training_rows_is_an_error(tmp_path):
    x = np.random.default_rng(0).standard_normal((30, 2, 3)).astype(np.float32)
    time = pd.date_range("2000-01-01", periods=30, freq="D")
    basins = np.arange(2, dtype=np.int32)
    path = _store(tmp_path, x, time, basins, (30, 1, 3))
    targets = xr.Dataset(
        {"sd": (("basin", "time"), np.full((2, 30), np.nan))}, coords={"basin": basins, "time": time}
    )
    with pytest.raises(InputDataError, match="no complete training rows"):
        fit_linear_probes_streaming(path, targets, ["sd"], ("2000-01-01", "2000-01-30"))


def test_gaps_by_basin_and_season_cost_one_pass(tmp_path, monkeypatch):
    """Long runs of missing targets (whole basins, a season) keep the one-pass cost: every row
    with a target is cast and multiplied exactly once, in a few pieces, none without a target."""
    import hydroprobe.probes.streaming as ps

    pieces = []
    real = ps._piece_gram
    monkeypatch.setattr(
        ps, "_piece_gram", lambda buf, x, y, code, k_n: pieces.append(len(x)) or real(buf, x, y, code, k_n)
    )
    rng = np.random.default_rng(4)
    n_t, n_b, n_d = 4200, 6, 5
    time = pd.date_range("1990-01-01", periods=n_t, freq="D")
    basins = np.arange(n_b, dtype=np.int32)
    x = (rng.standard_normal((n_t, n_b, n_d)) + 3.0).astype(np.float32)
    ys = {
        name: x.astype(np.float64) @ rng.standard_normal(n_d) + 0.2 * rng.standard_normal((n_t, n_b))
        for name in ["swvl1", "sd", "swvl4"]
    }
    ys["sd"][:, [1, 4]] = np.nan  # whole basins without snow
    ys["swvl4"][1000:2500] = np.nan  # a long gap in time
    targets = xr.Dataset(
        {k: (("basin", "time"), v.T) for k, v in ys.items()}, coords={"basin": basins, "time": time}
    )
    path = _store(tmp_path, x, time, basins, (n_t, 1, n_d))
    train = ("1990-01-01", "2001-06-30")
    _check(path, x, time, basins, targets, train, 0.0, max_block_mb=64.0)
    n_train = int(((time >= pd.Timestamp(train[0])) & (time <= pd.Timestamp(train[1]))).sum())
    assert sum(pieces) == n_train * n_b  # each row once (every row here has swvl1)
    # per basin: pieces of PIECE_ROWS, split once more where swvl4's gap starts and ends
    assert len(pieces) <= n_b * (-(-n_train // ps.PIECE_ROWS) + 2)


def test_states_far_from_zero_keep_their_precision(tmp_path):
    """Saturated cell-state dimensions sit far from zero with little spread: the shift applied
    to each block's Gram must keep the centred moments accurate (mean/std up to 1e3 here, for
    the states and for a target)."""
    rng = np.random.default_rng(3)
    n_t, n_b, n_d = 400, 6, 5
    time = pd.date_range("2000-01-01", periods=n_t, freq="D")
    basins = np.arange(n_b, dtype=np.int32)
    scale = np.array([1.0, 0.1, 0.05, 1.0, 2.0])
    offset = np.array([0.0, 100.0, 50.0, -300.0, 5.0])
    x = (rng.standard_normal((n_t, n_b, n_d)) * scale + offset).astype(np.float32)
    y = ((x.astype(np.float64) - offset) / scale) @ np.array([0.5, -1.0, 2.0, 0.3, 0.0])
    y = y + 0.1 * rng.standard_normal((n_t, n_b))
    # the targets' shift is applied to the Grams too: a target at mean/std ~ 1e3 as well
    targets = xr.Dataset(
        {"t": (("basin", "time"), y.T), "t_far": (("basin", "time"), (y + 3000.0).T)},
        coords={"basin": basins, "time": time},
    )
    path = _store(tmp_path, x, time, basins, (n_t, 1, n_d))
    _check(path, x, time, basins, targets, ("2000-01-01", "2000-12-31"), ridge=0.0, max_block_mb=0.01)
