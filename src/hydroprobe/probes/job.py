"""One probe job of the workflow: features (LSTM states under a control, or raw inputs) ->
fitted probe -> per-basin scores with status and subset columns."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.periods import in_periods, period_slice
from hydroprobe.probes.controls import input_features, shift_states, shuffle_basins
from hydroprobe.probes.fit import (
    aligned_rows,
    basin_status_in_period,
    run_probe,
    select_features,
    with_status,
)
from hydroprobe.probes.grid import INPUT_MODEL

# a probe job's per-basin scores: the job, the basin subset, the basin and its status, the scores
PROBE_KEYS = ["seed", "model", "probe", "control", "target", "features", "subset"]
PROBE_METRICS = ["r", "r2", "nse"]
PROBE_SCORE_COLUMNS = PROBE_KEYS + ["basin", "status"] + PROBE_METRICS
SNOW_SUBSET_TARGETS = ("sd",)


def snow_basins(frac_snow: pd.Series | None, threshold: float) -> pd.Index:
    """The basins of the snow subset: static `frac_snow` (indexed by basin) above `threshold`;
    none when the dataset has no frac_snow (None)."""
    if frac_snow is None:
        return pd.Index([])
    return frac_snow.index[frac_snow.to_numpy() > threshold]


def with_subsets(
    scores: pd.DataFrame, target: str, frac_snow: pd.Series | None, threshold: float
) -> pd.DataFrame:
    """Per-basin scores labelled `subset="all"`, plus (for the snow target `sd` only) a copy of
    the rows of the basins with static `frac_snow > threshold` labelled `subset="snow"`.
    `frac_snow` is indexed by basin; None (the dataset has no frac_snow) gives no snow subset."""
    out = [scores.assign(subset="all")]
    if target in SNOW_SUBSET_TARGETS and frac_snow is not None:
        out.append(scores[scores["basin"].isin(snow_basins(frac_snow, threshold))].assign(subset="snow"))
    return pd.concat(out, ignore_index=True)


def probe_features(
    dataset: xr.Dataset,
    states: xr.Dataset | None,
    model: str,
    features: str,
    control: str,
    periods,
    input_lags: int,
    seed: int,
    shift_days: int,
) -> xr.DataArray:
    """The probe's input on (time, basin, dim).

    model `inputs`: the last `input_lags` days of precipitation (control `inputs`) or of every
    dynamic input (`inputs_all`) on the probe periods; otherwise the LSTM's `features` (cell or
    hidden) state, with basin labels permuted (`shuffle`) or shifted `shift_days` (`shift`).
    """
    if model == INPUT_MODEL:
        variables = "all" if control == "inputs_all" else ("precipitation",)
        all_times = pd.DatetimeIndex(dataset["time"].values)
        times = all_times[in_periods(all_times, periods)]
        return input_features(dataset.load(), variables, lags=input_lags, times=times)
    values = select_features(states, features).load()
    if control == "shuffle":
        return shuffle_basins(values, seed)
    if control == "shift":
        return shift_states(values, shift_days)
    return values


def _fit_probe_job(dataset, states, job, *, ridge, target_scaling, seed, shift_days, input_lags, periods):
    """The probe of one job fitted on the train period: (features on (time, basin, dim), target
    on (basin, time), per-basin test scores, fitted probe)."""
    model, features, probe, control, target = (
        job[k] for k in ("model", "features", "probe", "control", "target")
    )
    train_period, test_period = periods
    x = probe_features(
        dataset, states, model, features, control, [train_period, test_period], input_lags, seed, shift_days
    )
    y = dataset[target].load()
    options = {"target_scaling": target_scaling}
    if probe in ("linear", "linear_offsets"):
        options["ridge"] = ridge
    else:
        options["seed"] = seed
    scores, fitted = run_probe(probe, x, y, train_period, test_period, **options)
    return x, y, scores, fitted


def run_probe_job(
    dataset: xr.Dataset,
    states: xr.Dataset | None,
    job: Mapping[str, str],
    *,
    ridge: float,
    target_scaling: str,
    seed: int,
    shift_days: int,
    input_lags: int,
    snow_threshold: float,
    train_period,
    test_period,
) -> pd.DataFrame:
    """Per-basin scores (columns `PROBE_SCORE_COLUMNS`) of one probe job.

    `job` names the job as the workflow's wildcards do (see `hydroprobe.probes.grid`): model,
    seed (the LSTM's), features, probe, control and target. The keywords are the probe settings
    of the config (rules/common.smk `probe_params`); `seed` is the probes' own seed (config
    probes.seed: the shuffle permutation and the mlp / sgd_elasticnet fits), not the LSTM's.
    `states` is None for the raw-input baselines (model `inputs`)."""
    model, features, probe, control, target = (
        job[k] for k in ("model", "features", "probe", "control", "target")
    )
    train_period, test_period = tuple(train_period), tuple(test_period)
    x, y, scores, _ = _fit_probe_job(
        dataset,
        states,
        job,
        ridge=ridge,
        target_scaling=target_scaling,
        seed=seed,
        shift_days=shift_days,
        input_lags=input_lags,
        periods=(train_period, test_period),
    )
    scores = with_status(scores, basin_status_in_period(y, x["basin"].values, test_period))
    frac_snow = dataset["frac_snow"].to_series() if "frac_snow" in dataset else None
    scores = with_subsets(scores, target, frac_snow, snow_threshold)
    for name, value in [
        ("features", features),
        ("target", target),
        ("control", control),
        ("probe", probe),
        ("model", model),
        ("seed", int(job["seed"])),
    ]:
        scores.insert(0, name, value)
    return scores[PROBE_SCORE_COLUMNS]


def probe_job_prediction(
    dataset: xr.Dataset,
    states: xr.Dataset | None,
    job: Mapping[str, str],
    *,
    ridge: float,
    target_scaling: str,
    train_period,
    test_period,
    seed: int | None = None,
    shift_days: int | None = None,
    input_lags: int | None = None,
) -> xr.DataArray:
    """The test-period prediction (time, basin) of the probe that `run_probe_job` fits and scores
    for the same `job` and settings (same features, fit on the train period, pooled).

    `seed` (the probes' own), `shift_days` and `input_lags` are needed only by the jobs that use
    them (shuffle, shift, the raw-input baselines, the mlp / sgd_elasticnet fits)."""
    control, probe = job["control"], job["probe"]
    needed = {
        "seed": control == "shuffle" or probe not in ("linear", "linear_offsets"),
        "shift_days": control == "shift",
        "input_lags": job["model"] == INPUT_MODEL,
    }
    given = {"seed": seed, "shift_days": shift_days, "input_lags": input_lags}
    for name, need in needed.items():
        if need and given[name] is None:
            raise InputDataError(f"probe job {dict(job)}: the prediction needs {name}")
    train_period, test_period = tuple(train_period), tuple(test_period)
    x, y, _, fitted = _fit_probe_job(
        dataset,
        states,
        job,
        ridge=ridge,
        target_scaling=target_scaling,
        seed=seed,
        shift_days=shift_days,
        input_lags=input_lags,
        periods=(train_period, test_period),
    )
    x_test, _ = aligned_rows(x, y, test_period)
    test = x.sel(time=period_slice(test_period))
    return xr.DataArray(
        fitted.predict(x_test),
        dims=("time", "basin"),
        coords={"time": test["time"].values, "basin": test["basin"].values},
        name=job["target"],
    )
