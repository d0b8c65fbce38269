"""One probe job of the workflow: features (LSTM states under a control, or raw inputs) ->
fitted probe -> per-basin scores with status and subset columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dask.array
import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.periods import in_periods, period_slice
from hydroprobe.probes.blockwise import (
    StateBlocks,
    fit_linear_probes_blockwise,
    fit_offset_probes_blockwise,
    pooled_predictor,
    sample_train_rows,
    score_blockwise,
)
from hydroprobe.probes.controls import input_features, lazy_input_features, shift_states, shuffle_basins
from hydroprobe.probes.fit import (
    ROW_ESTIMATORS,
    OffsetProbe,
    PooledProbe,
    aligned_rows,
    basin_status_in_period,
    fit_pooled_rows,
    run_probe,
    select_features,
    with_status,
)
from hydroprobe.probes.grid import (
    FEATURE_VARIABLES,
    INPUT_MODEL,
    JOINT_FEATURES,
    JOINT_INPUTS,
    state_features,
)

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
    lazy: bool = False,
) -> xr.DataArray:
    """The probe's input on (time, basin, dim).

    model `inputs`: the last `input_lags` days of precipitation (control `inputs`) or of every
    dynamic input (`inputs_all`) on the probe periods; a joint features name (`cell+inputs_all`):
    the state followed by the `inputs_all` lags (`joint_probe_features`); otherwise the LSTM's
    `features` (cell or hidden) state, with basin labels permuted (`shuffle`) or shifted
    `shift_days` (`shift`).

    `lazy`: the raw-input and joint features as a lazy (dask) array, computed a basin group at a
    time as it is read (`controls.lazy_input_features`); the same values.
    """
    if model == INPUT_MODEL:
        variables = "all" if control == "inputs_all" else ("precipitation",)
        all_times = pd.DatetimeIndex(dataset["time"].values)
        times = all_times[in_periods(all_times, periods)]
        if lazy:
            return lazy_input_features(dataset, variables, lags=input_lags, times=times)
        return input_features(dataset.load(), variables, lags=input_lags, times=times)
    if features in JOINT_FEATURES:
        return joint_probe_features(
            dataset, select_features(states, state_features(features)), periods, input_lags, lazy=lazy
        )
    values = select_features(states, features).load()
    if control == "shuffle":
        return shuffle_basins(values, seed)
    if control == "shift":
        return shift_states(values, shift_days)
    return values


def joint_probe_features(
    dataset: xr.Dataset, state: xr.DataArray, periods, input_lags: int, lazy: bool = False
) -> xr.DataArray:
    """The joint probe's input on (time, basin, dim): the state's dims (as stored) followed by the
    last `input_lags` days of every dynamic input (`JOINT_INPUTS`, the same block as that
    baseline's), on the state's days within `periods` and its basins. The probe standardises
    every column, so the state enters as in the state-only probe and the lags as in the baseline.
    `lazy`: a lazy (dask) array read a basin group at a time (see `probe_features`)."""
    times = pd.DatetimeIndex(state["time"].values)
    times = times[in_periods(times, periods)]
    basins = state["basin"].values
    missing = np.setdiff1d(basins, dataset["basin"].values)
    if missing.size:
        raise InputDataError(
            f"joint probe: the states hold basin {missing[0]}, which the basin dataset does not"
        )
    state = state.sel(time=times).transpose("time", "basin", "dim").astype(np.float32)
    dataset = dataset.sel(basin=basins)
    if lazy:
        inputs = lazy_input_features(dataset, "all", lags=input_lags, times=times)
        # the state in the inputs' basin groups, so a block of the joint reads one group of each
        state_values = dask.array.asarray(state.data).rechunk({0: -1, 1: inputs.data.chunks[1], 2: -1})
        values = dask.array.concatenate([state_values, inputs.data], axis=-1)
    else:
        inputs = input_features(dataset.load(), "all", lags=input_lags, times=times)
        values = np.concatenate([state.values, inputs.values], axis=-1)
    return xr.DataArray(
        values,
        dims=("time", "basin", "dim"),
        coords={
            "time": times,
            "basin": basins,
            "dim": np.arange(values.shape[-1]),
            "block": ("dim", np.repeat(["state", JOINT_INPUTS], [state.sizes["dim"], inputs.sizes["dim"]])),
        },
        name="joint",
    )


def _fit_probe_job(dataset, x, job, *, ridge, target_scaling, seed, periods):
    """The probe of one job fitted on the train period on the features `x` (time, basin, dim, from
    `probe_features`): (target on (basin, time), per-basin test scores, fitted probe)."""
    probe, target = job["probe"], job["target"]
    train_period, test_period = periods
    y = dataset[target].load()
    options = {"target_scaling": target_scaling}
    if probe in ("linear", "linear_offsets"):
        options["ridge"] = ridge
    else:
        options["seed"] = seed
    scores, fitted = run_probe(probe, x, y, train_period, test_period, **options)
    return y, scores, fitted


def _job_features(dataset, states, job, *, seed, shift_days, input_lags, periods) -> xr.DataArray:
    """`probe_features` of one job on the train and test `periods`."""
    return probe_features(
        dataset,
        states,
        job["model"],
        job["features"],
        job["control"],
        list(periods),
        input_lags,
        seed,
        shift_days,
    )


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
    max_train_values: int | None = None,
) -> pd.DataFrame:
    """Per-basin scores (columns `PROBE_SCORE_COLUMNS`) of one probe job.

    `job` names the job as the workflow's wildcards do (see `hydroprobe.probes.grid`): model,
    seed (the LSTM's), features, probe, control and target. The keywords are the probe settings
    of the config (rules/common.smk `probe_params`); `seed` is the probes' own seed (config
    probes.seed: the shuffle permutation and the mlp / sgd_elasticnet fits), not the LSTM's.
    `states` is None for the raw-input baselines (model `inputs`). `max_train_values`
    (config probes.max_train_values; None: no limit) caps the training values (rows x features)
    of the mlp / sgd_elasticnet probes (see `run_probe_jobs`)."""
    settings = dict(
        ridge=ridge,
        target_scaling=target_scaling,
        seed=seed,
        shift_days=shift_days,
        input_lags=input_lags,
        snow_threshold=snow_threshold,
        train_period=train_period,
        test_period=test_period,
        max_train_values=max_train_values,
    )
    return run_probe_jobs(dataset, states, [job], **settings)[0]


def fit_probes_blockwise(
    dataset: xr.Dataset,
    targets: Sequence[str],
    blocks: StateBlocks,
    probe: str,
    *,
    ridge: float,
    target_scaling: str,
    seed: int,
    train_period,
    max_train_values: int | None = None,
) -> dict[str, PooledProbe | OffsetProbe]:
    """The `probe` of each of `targets` fitted on the states of `blocks` read block by block:
    linear and linear_offsets in one pass over the train period, mlp / sgd_elasticnet on the
    train rows (or, when they hold more than `max_train_values` values, `max_train_values //
    features` of them drawn with `seed`)."""
    if probe == "linear":
        fitted = fit_linear_probes_blockwise(
            dataset, targets, blocks, train_period, ridge=ridge, target_scaling=target_scaling
        )
        probes = {
            t: PooledProbe("linear", lp, lp.feature_mean, lp.feature_std, lp.target_mean, lp.target_std, sc)
            for t, (lp, sc) in fitted.items()
        }
    elif probe == "linear_offsets":
        probes = fit_offset_probes_blockwise(
            dataset, targets, blocks, train_period, ridge=ridge, target_scaling=target_scaling
        )
    else:
        probes = {}
        features = blocks.values.sizes["dim"]
        max_rows = (
            np.iinfo(np.int64).max if max_train_values is None else max(1, max_train_values // features)
        )
        for t in targets:
            x, y, scaler = sample_train_rows(
                dataset,
                t,
                blocks,
                train_period,
                max_rows=max_rows,
                seed=seed,
                target_scaling=target_scaling,
            )
            probes[t] = fit_pooled_rows(probe, x, y, scaler, seed)
            del x, y
    return probes


def run_probe_jobs(
    dataset: xr.Dataset,
    states: xr.Dataset | None,
    jobs: Sequence[Mapping[str, str]],
    *,
    ridge: float,
    target_scaling: str,
    seed: int,
    shift_days: int,
    input_lags: int,
    snow_threshold: float,
    train_period,
    test_period,
    max_train_values: int | None = None,
) -> list[pd.DataFrame]:
    """`run_probe_job` for each of `jobs` (in their order).

    Every job reads its features block by block (`hydroprobe.probes.blockwise`), never whole:
    probes on an LSTM state (features cell / hidden, any control) the states store, the raw-input
    baselines and the joint probe their lagged inputs computed a basin group at a time
    (`probe_features(lazy=True)`). The linear and linear_offsets probes of every target of a
    (model, features, control) are fitted in one pass over the train period; mlp /
    sgd_elasticnet on the train rows, or on `max_train_values // features` of them drawn with the
    probes' `seed` when they hold more values; every kind scored on the test period a basin group at a time. A probe
    kind without a blockwise fit goes through `run_probe` on features built in memory."""
    train_period, test_period = tuple(train_period), tuple(test_period)
    periods = (train_period, test_period)
    frac_snow = dataset["frac_snow"].to_series() if "frac_snow" in dataset else None
    out: list[pd.DataFrame | None] = [None] * len(jobs)
    streamed: dict[tuple[str, str, str, str], list[int]] = {}
    for i, job in enumerate(jobs):
        if _fits_blockwise(job, states):
            streamed.setdefault((job["model"], job["features"], job["control"], job["probe"]), []).append(i)
    for (model, features, control, probe), positions in streamed.items():
        job = {"model": model, "features": features, "control": control}
        blocks = _job_blocks(
            dataset, states, job, seed=seed, shift_days=shift_days, input_lags=input_lags, periods=periods
        )
        targets = [jobs[i]["target"] for i in positions]
        probes = fit_probes_blockwise(
            dataset,
            targets,
            blocks,
            probe,
            ridge=ridge,
            target_scaling=target_scaling,
            seed=seed,
            train_period=train_period,
            max_train_values=max_train_values,
        )
        scores = score_blockwise(
            dataset, blocks, {t: pooled_predictor(p) for t, p in probes.items()}, test_period
        )
        for i in positions:
            job = jobs[i]
            out[i] = _labelled(
                scores[job["target"]],
                job,
                dataset[job["target"]],
                blocks.values,
                test_period,
                frac_snow,
                snow_threshold,
            )
    built: dict[tuple[str, str, str], xr.DataArray] = {}
    for i, job in enumerate(jobs):
        if out[i] is not None:
            continue
        setting = (job["model"], job["features"], job["control"])
        if setting not in built:
            built[setting] = _job_features(
                dataset, states, job, seed=seed, shift_days=shift_days, input_lags=input_lags, periods=periods
            )
        x = built[setting]
        y, scores, _ = _fit_probe_job(
            dataset, x, job, ridge=ridge, target_scaling=target_scaling, seed=seed, periods=periods
        )
        out[i] = _labelled(scores, job, y, x, test_period, frac_snow, snow_threshold)
    return out


BLOCKWISE_KINDS = ("linear", "linear_offsets", *ROW_ESTIMATORS)


def _job_blocks(dataset, states, job, *, seed, shift_days, input_lags, periods) -> StateBlocks:
    """The features of a job (model, features, control) as blocks: an LSTM state under its
    control read from the store, or the lazy raw-input / joint features."""
    if job["model"] == INPUT_MODEL or job["features"] in JOINT_FEATURES:
        x = probe_features(
            dataset, states, job["model"], job["features"], job["control"], list(periods), input_lags,
            seed, shift_days, lazy=True,
        )  # fmt: skip
        return StateBlocks.of(x, "none")
    return StateBlocks.of(select_features(states, job["features"]), job["control"], seed, shift_days)


def _fits_blockwise(job: Mapping[str, str], states: xr.Dataset | None) -> bool:
    """Whether `run_probe_jobs` fits a job block by block: a blockwise kind on a states store or
    on the (lazy) raw-input or joint features."""
    return job["probe"] in BLOCKWISE_KINDS and (job["model"] == INPUT_MODEL or states is not None)


def _reads_blockwise(job: Mapping[str, str], states: xr.Dataset | None) -> bool:
    """Whether a job's probe reads an LSTM state store block by block (see `run_probe_jobs`)."""
    return (
        states is not None
        and job["model"] != INPUT_MODEL
        and job["features"] in FEATURE_VARIABLES
        and job["probe"] in BLOCKWISE_KINDS
    )


def _labelled(scores, job, y, x, test_period, frac_snow, snow_threshold) -> pd.DataFrame:
    """Per-basin scores with their status, subsets and the job's keys (`PROBE_SCORE_COLUMNS`)."""
    model, features, probe, control, target = (
        job[k] for k in ("model", "features", "probe", "control", "target")
    )
    scores = with_status(scores, basin_status_in_period(y, x["basin"].values, test_period))
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
        "input_lags": job["model"] == INPUT_MODEL or job["features"] in JOINT_FEATURES,
    }
    given = {"seed": seed, "shift_days": shift_days, "input_lags": input_lags}
    for name, need in needed.items():
        if need and given[name] is None:
            raise InputDataError(f"probe job {dict(job)}: the prediction needs {name}")
    periods = (tuple(train_period), tuple(test_period))
    x = _job_features(
        dataset, states, job, seed=seed, shift_days=shift_days, input_lags=input_lags, periods=periods
    )
    y, _, fitted = _fit_probe_job(
        dataset, x, job, ridge=ridge, target_scaling=target_scaling, seed=seed, periods=periods
    )
    test_period = periods[1]
    x_test, _ = aligned_rows(x, y, test_period)
    test = x.sel(time=period_slice(test_period))
    return xr.DataArray(
        fitted.predict(x_test),
        dims=("time", "basin"),
        coords={"time": test["time"].values, "basin": test["basin"].values},
        name=job["target"],
    )
