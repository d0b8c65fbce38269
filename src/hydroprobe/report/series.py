"""Time-series figures of a few basins: the ERA5-Land stores beside the pooled linear probe's
reading of the trained and the untrained LSTM's states, and observed beside simulated discharge,
on the test period (style and saving: hydroprobe.report.style)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.metrics import nse, pearson_r
from hydroprobe.periods import period_slice
from hydroprobe.probes.blockwise import StateBlocks, pooled_predictor
from hydroprobe.probes.fit import ROW_ESTIMATORS, select_features
from hydroprobe.probes.job import _reads_blockwise, fit_probes_blockwise, probe_job_prediction
from hydroprobe.report.style import (
    MODEL_STYLES,
    PAGE_WIDTH_IN,
    TARGET_LABELS,
    TARGET_UNITS,
    save_figure,
    target_order,
)

OBSERVED_STYLE = dict(color="black", linewidth=0.9)
LINE_WIDTH = 0.8


def probe_predictions(
    dataset: xr.Dataset,
    states: Mapping[str, xr.Dataset],
    targets: Sequence[str],
    job: Mapping[str, object],
    *,
    basins: Sequence | None = None,
    **settings,
) -> dict[str, xr.Dataset]:
    """The test-period prediction (time, basin) of each target by the probe job `job` (seed,
    probe, control, features; its model is each key of `states`), as the probe jobs fit it, on
    `basins` (default: every basin). One dataset per model, a variable per target.

    `settings` are `hydroprobe.probes.job.probe_job_prediction`'s keywords. A probe the jobs fit
    block by block (the linear, linear_offsets and row-estimator probes on an LSTM state) is fitted
    so here too (`probes.job.fit_probes_blockwise`, every basin's train states, a block at a time)
    and applied to the test states of `basins` only, so the stores are never read whole; the
    other probes (raw-input baselines, joint features) are fitted in memory as their jobs do."""
    out = {}
    for model, model_states in states.items():
        model_job = {**job, "model": model}
        if _reads_blockwise(model_job, model_states):
            out[model] = _streamed_predictions(dataset, model_states, targets, model_job, basins, **settings)
            continue
        predicted = xr.Dataset(
            {
                target: probe_job_prediction(
                    dataset, model_states, {**model_job, "target": target}, **settings
                )
                for target in targets
            }
        )
        out[model] = predicted if basins is None else predicted.sel(basin=list(basins))
    return out


def _streamed_predictions(
    dataset, states, targets, job, basins, *, ridge, target_scaling, train_period, test_period, seed=None,
    shift_days=None, input_lags=None,
) -> xr.Dataset:  # fmt: skip
    """`probe_predictions` of one model whose probe is fitted block by block."""
    control, probe = job["control"], job["probe"]
    if seed is None and (control == "shuffle" or probe in ROW_ESTIMATORS):
        raise InputDataError(f"probe job {dict(job)}: the prediction needs seed")
    if shift_days is None and control == "shift":
        raise InputDataError(f"probe job {dict(job)}: the prediction needs shift_days")
    seed = 0 if seed is None else seed  # unused by the linear probes without the shuffle control
    blocks = StateBlocks.of(select_features(states, job["features"]), control, seed, shift_days or 0)
    probes = fit_probes_blockwise(
        dataset,
        list(targets),
        blocks,
        probe,
        ridge=ridge,
        target_scaling=target_scaling,
        seed=seed,
        train_period=tuple(train_period),
    )
    days = blocks.days_in(test_period)
    names = blocks.basins if basins is None else np.asarray(basins)
    positions = pd.Index(blocks.basins).get_indexer(names)
    if (positions < 0).any():
        raise InputDataError(f"basin {names[positions < 0][0]} has no states in the states store")
    columns = {t: [] for t in targets}
    for j in positions:  # a basin's test states at a time: only the drawn basins are read
        x = blocks.block(days, slice(j, j + 1))
        for t in targets:
            columns[t].append(pooled_predictor(probes[t])(x, slice(j, j + 1))[:, 0])
    coords = {"time": blocks.times[days], "basin": names}
    return xr.Dataset({t: (("time", "basin"), np.stack(columns[t], axis=1)) for t in targets}, coords=coords)


def prediction_r(observed: xr.Dataset, predictions: Mapping[str, xr.Dataset]) -> pd.DataFrame:
    """Pearson r of each model's prediction with the observed target, per basin, over the days
    of the prediction: columns model, target, basin, r."""
    rows = []
    for model, predicted in predictions.items():
        for target in predicted.data_vars:
            pred = predicted[target].transpose("time", "basin")
            obs = observed[target].sel(basin=pred["basin"]).reindex(time=pred["time"])
            obs = obs.transpose("time", "basin")
            for j, basin in enumerate(pred["basin"].values):
                rows.append(
                    {
                        "model": model,
                        "target": target,
                        "basin": basin,
                        "r": pearson_r(obs.values[:, j], pred.values[:, j]),
                    }
                )
    return pd.DataFrame(rows, columns=["model", "target", "basin", "r"])


def check_against_scores(
    recomputed: pd.DataFrame, scores: pd.DataFrame, job: Mapping[str, object], atol: float = 1e-9
) -> pd.DataFrame:
    """The recomputed r (`prediction_r`) beside the r the probe jobs wrote (probe_scores.csv rows
    of `job`, subset all) as column `r_scores`; raises if they differ where the scores have one."""
    rows = np.ones(len(scores), dtype=bool)
    for key, value in {**job, "subset": "all"}.items():
        rows &= scores[key].astype(str).to_numpy() == str(value)
    written = scores.loc[rows, ["model", "target", "basin", "r"]].rename(columns={"r": "r_scores"})
    keyed = recomputed.assign(basin_key=recomputed["basin"].astype(str))
    written = written.assign(basin_key=written["basin"].astype(str)).drop(columns="basin")
    merged = keyed.merge(written, on=["model", "target", "basin_key"], how="left").drop(columns="basin_key")
    if merged["r_scores"].isna().all() and len(merged):
        raise InputDataError(f"probe scores have no rows for {dict(job)}")
    both = np.isfinite(merged["r"]) & np.isfinite(merged["r_scores"])
    off = both & ~np.isclose(merged["r"], merged["r_scores"], rtol=0, atol=atol)
    if off.any():
        row = merged[off].iloc[0]
        raise InputDataError(
            f"probe r of {row['model']} {row['target']} basin {row['basin']}: recomputed {row['r']:.6f}, "
            f"probe_scores.csv {row['r_scores']:.6f}"
        )
    return merged


def _format_r(value: float) -> str:
    return f"{value:.2f}" if np.isfinite(value) else "n/a"


def _legend_below(ax, ncol: int) -> None:
    """The date axis label and, under it, the legend of the figure's lines (off the data)."""
    ax.set_xlabel("date", fontsize=8)
    ax.legend(fontsize=7, ncol=ncol, loc="upper center", bbox_to_anchor=(0.5, -0.32), frameon=False)


def plot_store_series(
    observed: xr.Dataset,
    predictions: Mapping[str, xr.Dataset],
    r: Mapping[tuple[str, str], float],
    path: str | Path,
    title: str = "",
    extra_paths: Sequence[str | Path] = (),
) -> Path:
    """One basin: a panel per target (swvl1…4, sd; shared time axis) with the ERA5-Land store
    (`observed`, time) in black and each model's probe prediction (`predictions`: model →
    dataset on time) in its style (trained blue, untrained grey dashed). `r` maps (model,
    target) to the basin's r, written in the panel's title."""
    targets = target_order(observed.data_vars)
    fig, axes = plt.subplots(
        len(targets), 1, figsize=(PAGE_WIDTH_IN, 1.7 * len(targets) + 0.6), sharex=True, squeeze=False
    )
    for ax, target in zip(axes[:, 0], targets):
        obs = observed[target]
        ax.plot(obs["time"].values, obs.values, label="ERA5-Land", **OBSERVED_STYLE)
        scores = []
        for model, predicted in predictions.items():
            pred = predicted[target]
            style = {"linewidth": LINE_WIDTH, **MODEL_STYLES.get(model, {})}
            ax.plot(pred["time"].values, pred.values, label=f"probe on {model} LSTM", **style)
            scores.append(f"{model} {_format_r(r.get((model, target), np.nan))}")
        ax.set_title(f"{TARGET_LABELS.get(target, target)}: r {', '.join(scores)}", fontsize=9)
        ax.set_ylabel(TARGET_UNITS.get(target, ""), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    _legend_below(axes[-1, 0], ncol=len(predictions) + 1)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path, extra_paths)


def plot_discharge_series(
    series: Sequence[tuple[str, xr.DataArray, xr.DataArray]],
    path: str | Path,
    title: str = "",
    extra_paths: Sequence[str | Path] = (),
) -> Path:
    """A row per basin: observed (black) and simulated (blue) specific discharge, mm/day, NSE in
    the row's title. `series` holds (label, observed, simulated), both on the same days."""
    fig, axes = plt.subplots(
        len(series), 1, figsize=(PAGE_WIDTH_IN, 1.9 * len(series) + 0.6), sharex=True, squeeze=False
    )
    for ax, (label, obs, sim) in zip(axes[:, 0], series):
        ax.plot(obs["time"].values, obs.values, label="observed", **OBSERVED_STYLE)
        ax.plot(
            sim["time"].values,
            sim.values,
            label="trained LSTM",
            linewidth=LINE_WIDTH,
            **MODEL_STYLES["trained"],
        )
        ax.set_title(f"{label}: NSE {_format_r(nse(obs.values, sim.values))}", fontsize=9)
        ax.set_ylabel("discharge (mm/day)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    _legend_below(axes[-1, 0], ncol=2)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path, extra_paths)


def basin_series(data: xr.Dataset | xr.DataArray, basin, period) -> xr.Dataset | xr.DataArray:
    """One basin's series on the days of one period (inclusive dates)."""
    return data.sel(basin=basin).sel(time=period_slice(period))
