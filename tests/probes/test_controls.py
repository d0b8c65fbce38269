"""Controls: basin shuffle, 180-day shift, raw-input baseline features, selectivity."""

import numpy as np
import pandas as pd
import xarray as xr
from toy_worlds import probe_world

from hydroprobe.probes.controls import derangement, input_features, selectivity, shift_states, shuffle_basins
from hydroprobe.probes.fit import probe_linear

TIME = pd.date_range("1990-01-01", "1995-12-31", freq="D")
TRAIN = ("1990-01-01", "1993-12-31")
TEST = ("1994-01-01", "1995-12-31")


# Each basin's target is its own slowly varying series (white noise smoothed over ~20 days, no
# shared season); the states track each basin's own series, so shuffling basins or shifting time
# destroys the skill.
OWN_TARGET = dict(
    n_basins=8,
    first_basin=101,
    season=0.0,
    signal_noise=1.0,
    memory_days=20.0,
    scale=0.02,
    signal_weight=1.0,
    direction="raw",
    state_noise=0.5,
)


def test_derangement_moves_every_basin_and_is_seeded():
    for n in (2, 3, 10, 667):
        perm = derangement(n, seed=4)
        assert sorted(perm) == list(range(n)) and not (perm == np.arange(n)).any()
    np.testing.assert_array_equal(derangement(50, 1), derangement(50, 1))
    assert list(derangement(1, 0)) == [0]


def test_shuffle_moves_series_between_labels():
    states, _ = probe_world("swvl2", **OWN_TARGET)
    shuffled = shuffle_basins(states, seed=7)
    np.testing.assert_array_equal(shuffled["basin"], states["basin"])
    perm = derangement(states.sizes["basin"], 7)
    np.testing.assert_array_equal(shuffled.values[:, 0], states.values[:, perm[0]])
    ds = shuffle_basins(xr.Dataset({"c": states}), seed=7)  # datasets too
    np.testing.assert_array_equal(ds["c"].values, shuffled.values)


def test_shift_pairs_today_with_the_state_of_180_days_before():
    states, _ = probe_world("swvl2", **dict(OWN_TARGET, n_basins=2))
    shifted = shift_states(states, days=180)
    np.testing.assert_array_equal(shifted["time"], states["time"])
    assert np.isnan(shifted.sel(time="1990-06-29").values).all()  # day 179: nothing 180 days before
    np.testing.assert_array_equal(
        shifted.sel(time="1991-03-01").values,
        states.sel(time=pd.Timestamp("1991-03-01") - pd.Timedelta(days=180)).values,
    )
    gappy = states.sel(time=slice("1990-01-01", "1990-03-31")).combine_first(
        states.sel(time=slice("1990-12-01", "1991-01-31"))
    )
    # calendar days by label: a day whose state 180 days earlier falls in the gap is NaN
    sg = shift_states(gappy, days=180)
    assert np.isnan(sg.sel(time="1990-12-01").values).all()  # 1990-06-04: in the gap
    assert np.isnan(sg.sel(time="1990-12-31").values).all()  # 1990-07-04: in the gap


def test_controls_fall_clearly_below_the_trained_probe():
    states, target = probe_world("swvl2", **OWN_TARGET)
    trained, _ = probe_linear(states, target, TRAIN, TEST)
    shuffled, _ = probe_linear(shuffle_basins(states, seed=1), target, TRAIN, TEST)
    shifted, _ = probe_linear(shift_states(states, 180), target, TRAIN, TEST)
    assert trained["r"].median() > 0.9
    for control in (shuffled, shifted):
        per_basin, medians = selectivity(trained, control)
        assert control["r"].median() < 0.3
        assert medians["median_delta_r"] > 0.6
        assert (per_basin["delta_r"] > 0.3).all()


def test_input_features_lags_are_exact():
    time = pd.date_range("2000-01-01", periods=100, freq="D")
    basins = np.array([1, 2], dtype=np.int32)
    precip = np.arange(200, dtype=np.float32).reshape(2, 100)  # value = 100·basin_index + day
    ds = xr.Dataset(
        {
            "precipitation": (("basin", "time"), precip),
            "temperature": (("basin", "time"), -precip),
            "swvl1": (("basin", "time"), precip),
        },
        coords={"basin": basins, "time": time},
    )
    f = input_features(ds, lags=64)
    assert f.dims == ("time", "basin", "dim") and f.sizes["dim"] == 64
    # lag k at day t is the input of day t − k
    assert f.sel(time=time[70], basin=2).values[0] == 170 and f.sel(time=time[70], basin=2).values[63] == 107
    np.testing.assert_array_equal(f.values[80, 0], 80 - np.arange(64))
    assert np.isnan(f.values[62, 0, 63]) and f.values[63, 0, 63] == 0
    allvars = input_features(ds, variables="all", lags=3, times=time[10:12])
    assert list(dict.fromkeys(allvars["variable"].values)) == ["precipitation", "temperature"]
    np.testing.assert_array_equal(allvars.values[1, 0], [11, 10, 9, -11, -10, -9])


def test_selectivity_medians_and_per_basin_differences():
    trained = pd.DataFrame({"basin": [1, 2, 3], "r": [0.9, 0.8, np.nan], "r2": 0.0, "nse": [0.5, 0.4, 0.3]})
    control = pd.DataFrame({"basin": [3, 2, 1], "r": [0.1, 0.5, 0.2], "r2": 0.0, "nse": [0.0, 0.1, 0.2]})
    per_basin, med = selectivity(trained, control)
    np.testing.assert_allclose(per_basin.set_index("basin").loc[[1, 2], "delta_r"], [0.7, 0.3])
    assert med["median_delta_r"] == np.median([0.7, 0.3]) and med["n_basins_r"] == 2
    assert med["median_delta_nse"] == np.median([0.3, 0.3, 0.3])
