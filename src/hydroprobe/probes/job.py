"""One probe job of the workflow: features (LSTM states under a control, or raw inputs) ->
fitted probe -> per-basin scores with status and subset columns."""

from __future__ import annotations

import pandas as pd
import xarray as xr

from hydroprobe.periods import in_periods
from hydroprobe.probes.controls import input_features, shift_states, shuffle_basins
from hydroprobe.probes.fit import basin_status_in_period, run_probe, select_features, with_status
from hydroprobe.report.tables import with_subsets

SCORE_COLUMNS = [
    "seed",
    "model",
    "probe",
    "control",
    "target",
    "features",
    "subset",
    "basin",
    "status",
    "r",
    "r2",
    "nse",
]


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
    if model == "inputs":
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


def run_probe_job(
    dataset: xr.Dataset,
    states: xr.Dataset | None,
    *,
    seed: int,
    model: str,
    features: str,
    probe: str,
    control: str,
    target: str,
    train_period,
    test_period,
    params,
) -> pd.DataFrame:
    """Per-basin scores (columns `SCORE_COLUMNS`) of one probe; `params` holds the probe settings
    of the config (`ridge, seed, shift_days, input_lags, target_scaling, snow_threshold`)."""
    x = probe_features(
        dataset,
        states,
        model,
        features,
        control,
        [train_period, test_period],
        params["input_lags"],
        params["seed"],
        params["shift_days"],
    )
    y = dataset[target].load()
    options = {"target_scaling": params["target_scaling"]}
    if probe in ("linear", "linear_offsets"):
        options["ridge"] = params["ridge"]
    else:
        options["seed"] = params["seed"]
    scores, _ = run_probe(probe, x, y, train_period, test_period, **options)
    scores = with_status(scores, basin_status_in_period(y, x["basin"].values, test_period))
    frac_snow = dataset["frac_snow"].to_series() if "frac_snow" in dataset else None
    scores = with_subsets(scores, target, frac_snow, params["snow_threshold"])
    for name, value in [
        ("features", features),
        ("target", target),
        ("control", control),
        ("probe", probe),
        ("model", model),
        ("seed", int(seed)),
    ]:
        scores.insert(0, name, value)
    return scores[SCORE_COLUMNS]
