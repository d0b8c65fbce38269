"""Pooled linear probe and its tables, on toy states whose relation to the target is known."""

import numpy as np
import pandas as pd
import pytest
from toy_worlds import probe_world

from hydroprobe.errors import InputDataError
from hydroprobe.probes.fit import fit_linear_probe, probe_linear, score_per_basin

TIME = pd.date_range("1990-01-01", "1999-12-31", freq="D")
TRAIN = ("1990-01-01", "1995-12-31")
TEST = ("1996-01-01", "1999-12-31")


# target = 0.3 + 0.05·(season + 0.4·noise) per basin; the states hold that signal, times signal_weight,
# along a random direction, under unit noise
WORLD = dict(time=TIME, n_dims=16, first_basin=1001, signal_noise=0.4, direction="raw", state_noise=1.0)


def test_probe_reads_a_linearly_stored_target():
    states, target = probe_world(signal_weight=2.0, **WORLD)
    scores, probe = probe_linear(states, target, TRAIN, TEST)
    assert list(scores.columns) == ["basin", "r", "r2", "nse"]
    assert len(scores) == 6
    assert scores["r"].median() > 0.95
    np.testing.assert_allclose(scores["r2"], scores["r"] ** 2)


def test_probe_finds_nothing_in_noise():
    states, target = probe_world(signal_weight=0.0, **WORLD)
    scores, _ = probe_linear(states, target, TRAIN, TEST)
    assert abs(scores["r"].median()) < 0.1
    assert scores["nse"].median() < 0.05


def test_closed_form_matches_numpy_lstsq():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((500, 5)) * [1, 2, 3, 4, 5] + [0, 1, 2, 3, 4]
    y = x @ [0.5, -1.0, 0.0, 2.0, 0.1] + 3.0 + 0.1 * rng.standard_normal(500)
    probe = fit_linear_probe(x, y, ridge=0.0)
    design = np.column_stack([x, np.ones(len(x))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    np.testing.assert_allclose(probe.predict(x), design @ coef, atol=1e-9)


def test_probe_uses_only_training_period_for_fitting():
    states, target = probe_world(signal_weight=2.0, **WORLD)
    corrupted = target.copy()
    corrupted.loc[dict(time=slice(*TEST))] = 99.0  # test-period target must not leak into the fit
    _, clean = probe_linear(states, target, TRAIN, TEST)
    _, leaky = probe_linear(states, corrupted, TRAIN, TEST)
    np.testing.assert_array_equal(clean.model.weights, leaky.model.weights)
    assert clean.target_mean == leaky.target_mean


def test_missing_basin_in_target_is_named():
    states, target = probe_world(signal_weight=1.0, **WORLD)
    with pytest.raises(InputDataError, match="basin 1006"):
        probe_linear(states, target.isel(basin=slice(0, 5)), TRAIN, TEST)


def test_basin_without_variance_scores_nan():
    observed = np.column_stack([np.sin(np.arange(100.0)), np.zeros(100)])
    predicted = observed + 0.1
    scores = score_per_basin(observed, predicted, np.array([1, 2]))
    assert np.isfinite(scores.loc[0, "r"]) and np.isnan(scores.loc[1, "r"])


def test_status_marks_constant_and_missing_test_targets():
    import numpy as np
    import pandas as pd
    import xarray as xr

    from hydroprobe.probes.fit import basin_status_in_period as period_status
    from hydroprobe.probes.fit import with_status

    time = pd.date_range("2000-01-01", periods=10, freq="D")
    values = np.stack([np.arange(10.0), np.full(10, 0.3), np.full(10, np.nan)])
    target = xr.DataArray(values, dims=("basin", "time"), coords={"basin": [1, 2, 3], "time": time})
    status = period_status(target, [1, 2, 3], ("2000-01-01", "2000-01-10"))
    assert list(status) == ["ok", "no_variance", "no_data"]
    scores = pd.DataFrame(
        {"basin": [1, 2, 3], "r": [0.9, 0.1, np.nan], "r2": [0.81, 0.01, np.nan], "nse": [0.8, -3.0, np.nan]}
    )
    out = with_status(scores, status)
    assert list(out["status"]) == ["ok", "no_variance", "no_data"]
    assert out["r"].isna().tolist() == [False, True, True]


def test_snow_subset_only_for_sd():
    import pandas as pd

    from hydroprobe.probes.job import with_subsets

    scores = pd.DataFrame({"basin": [1, 2, 3], "r": [0.9, 0.8, 0.7]})
    frac_snow = pd.Series([0.01, 0.06, 0.2], index=[1, 2, 3])
    sd = with_subsets(scores, "sd", frac_snow, 0.05)
    assert sorted(sd.loc[sd["subset"] == "snow", "basin"]) == [2, 3]
    assert (with_subsets(scores, "swvl1", frac_snow, 0.05)["subset"] == "all").all()
    assert (with_subsets(scores, "sd", None, 0.05)["subset"] == "all").all()
