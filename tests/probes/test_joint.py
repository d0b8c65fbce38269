"""The joint probe: the state together with the inputs_all lags, against the inputs alone.

Two toy worlds on probe_world's basins and days, with rain, PET and temperature of their own:
- `hidden_store_world`: the target is a slow series of each basin's own (probe_world's signal with
  memory, which the states hold) plus a filter of the rain; the inputs carry only the rain part.
- `filter_world`: the states are exponential filters of the rain and temperature over fewer days
  than the probe's lags, i.e. a linear map of the lagged inputs the baseline already has.
"""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from toy_worlds import probe_world

from hydroprobe.errors import InputDataError
from hydroprobe.probes.controls import input_features
from hydroprobe.probes.fit import aligned_rows, fit_linear_probe, standardised_rows
from hydroprobe.probes.job import joint_probe_features, probe_job_prediction, run_probe_jobs

TIME = pd.date_range("1990-01-01", "1995-12-31", freq="D")
TRAIN = ("1990-04-01", "1993-12-31")  # after the first LAGS days, so every lag exists
TEST = ("1994-01-01", "1995-12-31")
LAGS = 32
N_BASINS = 6
SETTINGS = dict(
    ridge=1e-6,
    target_scaling="global",
    seed=0,
    shift_days=180,
    input_lags=LAGS,
    snow_threshold=0.05,
    train_period=TRAIN,
    test_period=TEST,
)


def causal_filter(series: np.ndarray, tau: float, days: int) -> np.ndarray:
    """Σ_k<days exp(−k/τ)·series[t−k] along time (axis 0), zero before the first day."""
    kernel = np.exp(-np.arange(days) / tau)
    return np.stack([np.convolve(col, kernel)[: len(col)] for col in series.T], axis=1)


def forcing(seed: int) -> dict[str, np.ndarray]:
    """Daily rain (intermittent, gamma), PET and temperature (seasonal plus noise), (time, basin)."""
    rng = np.random.default_rng(seed)
    shape = (TIME.size, N_BASINS)
    day = np.arange(TIME.size)[:, None]
    season = np.sin(2 * np.pi * day / 365.25)
    rain = rng.gamma(0.6, 5.0, shape) * (rng.random(shape) < 0.5)
    return {
        "precipitation": rain,
        "pet": 1.5 + season + 0.3 * rng.standard_normal(shape),
        "temperature": 8 + 6 * season + 2 * rng.standard_normal(shape),
    }


def basin_dataset(inputs: dict[str, np.ndarray], target: np.ndarray, basins) -> xr.Dataset:
    """A basin dataset as the workflow builds it: dynamic inputs and the target on (basin, time)."""
    coords = {"basin": basins, "time": TIME}
    data = {name: (("basin", "time"), values.T.astype(np.float32)) for name, values in inputs.items()}
    data["swvl1"] = (("basin", "time"), target.T)
    data["frac_snow"] = ("basin", np.zeros(len(basins)))
    return xr.Dataset(data, coords=coords)


def hidden_store_world(seed: int = 3):
    """(basin dataset, states): a target the states hold and the inputs only partly explain."""
    states, hidden = probe_world(
        "swvl1",
        n_basins=N_BASINS,
        time=TIME,
        seed=seed,
        season=0.0,
        signal_noise=1.0,
        memory_days=30.0,
        scale=0.02,
        signal_weight=1.0,
        direction="raw",
        state_noise=0.5,
    )
    inputs = forcing(seed)
    rain_part = causal_filter(inputs["precipitation"], tau=6.0, days=LAGS)
    target = hidden.transpose("time", "basin").values + 0.01 * rain_part / rain_part.std()
    dataset = basin_dataset(inputs, target, states["basin"].values)
    return dataset, xr.Dataset({"c": states})


def filter_world(seed: int = 5):
    """(basin dataset, states): states that are linear filters of the lagged inputs, a target that
    is another such filter under noise of its own."""
    rng = np.random.default_rng(seed)
    inputs = forcing(seed)
    dims = [causal_filter(inputs["precipitation"], tau, LAGS) for tau in (1.0, 3.0, 8.0, 20.0)]
    dims += [causal_filter(inputs["temperature"], tau, LAGS) for tau in (5.0, 15.0)]
    states = np.stack(dims, axis=-1) @ rng.standard_normal((len(dims), 8))  # mixed, as an LSTM would
    target = causal_filter(inputs["precipitation"], 10.0, LAGS)
    target = 0.3 + 0.01 * (target / target.std() + 0.5 * rng.standard_normal(target.shape))
    basins = np.arange(1, N_BASINS + 1, dtype=np.int32)
    cell = xr.DataArray(
        states.astype(np.float32),
        dims=("time", "basin", "dim"),
        coords={"time": TIME, "basin": basins, "dim": np.arange(8)},
    )
    return basin_dataset(inputs, target, basins), xr.Dataset({"c": cell})


def job(model: str, features: str, control: str, target: str = "swvl1") -> dict:
    return dict(model=model, seed=1, features=features, probe="linear", control=control, target=target)


def joint_and_inputs(dataset, states, ridge=None):
    """Test-period scores of the joint probe and of the inputs_all baseline, as the workflow fits them."""
    settings = dict(SETTINGS, ridge=SETTINGS["ridge"] if ridge is None else ridge)
    joint = run_probe_jobs(dataset, states, [job("trained", "cell+inputs_all", "none")], **settings)[0]
    inputs = run_probe_jobs(dataset, None, [job("inputs", "raw", "inputs_all")], **settings)[0]
    return joint.set_index("basin")["r"], inputs.set_index("basin")["r"]


def training_r2(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[float, np.ndarray]:
    """Pooled training R² of the linear probe on x (time, basin, dim), y (time, basin), in the
    standardised space it is fitted in (the target has variance 1 there), and its weights."""
    d = x.shape[-1]
    probe = fit_linear_probe(x.reshape(-1, d), y.reshape(-1), ridge)
    rows = standardised_rows(x.reshape(-1, d), y.reshape(-1))
    return 1.0 - float(np.mean((rows.zy - rows.z @ probe.weights) ** 2)), probe.weights


def test_joint_features_are_the_state_then_the_baseline_s_inputs():
    dataset, states = hidden_store_world()
    joint = joint_probe_features(dataset, states["c"], [TRAIN, TEST], LAGS)
    times = TIME[(TIME >= TRAIN[0]) & (TIME <= TEST[1])]
    np.testing.assert_array_equal(joint["time"], times)
    n_state = states.sizes["dim"]
    assert joint.sizes["dim"] == n_state + 3 * LAGS
    assert list(joint["block"].values[[0, n_state - 1, n_state, -1]]) == ["state"] * 2 + ["inputs_all"] * 2
    np.testing.assert_array_equal(joint.values[..., :n_state], states["c"].sel(time=times).values)
    baseline = input_features(dataset, "all", lags=LAGS, times=times)
    np.testing.assert_array_equal(joint.values[..., n_state:], baseline.values)


def test_joint_probe_is_never_below_the_inputs_on_the_training_period():
    """Nested least squares: the joint probe's columns contain the baseline's, on the same rows and
    with the same standardisation, so without a penalty its training SSE cannot be larger. With the
    ridge penalty λ the joint minimises SSE/n + λ‖w‖² over a larger set, which bounds its training
    R² from below by R²(inputs) − λ‖w_inputs‖² (not by R²(inputs) itself: the penalty may trade a
    little fit for smaller weights); at the default λ = 1e-6 that slack is below 1e-4 here. In the
    filter world the states lie in the inputs' span up to their float32 rounding: the unpenalised
    joint fit is ill-conditioned there, and still not below the inputs."""
    for dataset, states in (hidden_store_world(), filter_world()):
        x = joint_probe_features(dataset, states["c"], [TRAIN, TEST], LAGS)
        x_joint, y = aligned_rows(x, dataset["swvl1"], TRAIN)
        x_inputs = x_joint[..., states.sizes["dim"] :]
        for ridge in (0.0, 1e-6):
            r2_joint, _ = training_r2(x_joint, y, ridge)
            r2_inputs, w_inputs = training_r2(x_inputs, y, ridge)
            slack = ridge * float(w_inputs @ w_inputs)
            assert r2_joint >= r2_inputs - slack - 1e-12, (ridge, r2_joint, r2_inputs)
            assert slack < 1e-4


def test_the_joint_probe_gains_where_the_state_holds_what_the_inputs_lack():
    dataset, states = hidden_store_world()
    joint, inputs = joint_and_inputs(dataset, states)
    gain = joint - inputs
    assert inputs.median() < 0.6  # the rain explains a part of the target
    assert joint.median() > 0.85  # the states hold the rest
    assert gain.median() > 0.3 and (gain > 0.1).all()


def test_the_joint_probe_gains_nothing_where_the_state_is_a_filter_of_the_inputs():
    dataset, states = filter_world()
    joint, inputs = joint_and_inputs(dataset, states)
    assert inputs.median() > 0.8  # the inputs read the target up to its own noise
    np.testing.assert_allclose(joint.to_numpy(), inputs.to_numpy(), atol=2e-3)


def test_joint_probe_prediction_matches_its_scores_and_names_missing_settings():
    dataset, states = hidden_store_world()
    settings = {k: v for k, v in SETTINGS.items() if k != "snow_threshold"}
    scores = run_probe_jobs(dataset, states, [job("untrained", "cell+inputs_all", "none")], **SETTINGS)[0]
    predicted = probe_job_prediction(dataset, states, job("untrained", "cell+inputs_all", "none"), **settings)
    observed = dataset["swvl1"].sel(time=slice(*TEST)).transpose("time", "basin").values
    r = [np.corrcoef(observed[:, j], predicted.values[:, j])[0, 1] for j in range(N_BASINS)]
    np.testing.assert_allclose(r, scores[scores["subset"] == "all"]["r"], rtol=1e-10)
    del settings["input_lags"]
    with pytest.raises(InputDataError, match="needs input_lags"):
        probe_job_prediction(dataset, states, job("trained", "cell+inputs_all", "none"), **settings)


def test_every_target_of_one_joint_job_is_scored_on_features_built_once():
    dataset, states = hidden_store_world()
    dataset["swvl2"] = dataset["swvl1"] * 2 + 0.1
    jobs = [job("trained", "cell+inputs_all", "none", target) for target in ("swvl1", "swvl2")]
    first, second = run_probe_jobs(dataset, states, jobs, **SETTINGS)
    assert list(first["target"].unique()) == ["swvl1"] and list(second["target"].unique()) == ["swvl2"]
    assert set(first["features"]) == {"cell+inputs_all"} and set(first["model"]) == {"trained"}
    np.testing.assert_allclose(first["r"], second["r"], rtol=1e-8)  # an affine target: same r


def test_a_basin_of_the_states_missing_from_the_dataset_is_named():
    dataset, states = hidden_store_world()
    with pytest.raises(InputDataError, match="basin 6"):
        joint_probe_features(dataset.isel(basin=slice(0, 5)), states["c"], [TRAIN, TEST], LAGS)


def test_a_dataset_without_dynamic_inputs_is_named():
    dataset, states = hidden_store_world()
    with pytest.raises(InputDataError, match="none of the dynamic inputs precipitation, pet"):
        joint_probe_features(dataset[["swvl1"]], states["c"], [TRAIN, TEST], LAGS)
