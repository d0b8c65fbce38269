"""Probe result tables: the per-basin scores of every probe job in one table, their medians over
basins, the selectivity (trained probe minus each control) and the spread across seeds."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from hydroprobe.probes.controls import selectivity
from hydroprobe.probes.grid import NO_CONTROL, TRAINED, selectivity_pairs
from hydroprobe.probes.job import PROBE_KEYS, PROBE_METRICS, PROBE_SCORE_COLUMNS

PROBE_SUMMARY_COLUMNS = PROBE_KEYS + [
    "n_basins",
    "median_r",
    "median_r2",
    "median_nse",
    "n_no_variance",
    "n_no_data",
]


def gather_probe_scores(paths: Iterable[str]) -> pd.DataFrame:
    """Concatenate the per-job probe score files into one table, sorted by its keys and basin."""
    scores = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    scores = scores[PROBE_SCORE_COLUMNS]
    return scores.sort_values(PROBE_KEYS + ["basin"], ignore_index=True)


def summarise_probe_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Median r, r² and NSE over the `ok` basins per (seed, model, probe, control, target,
    features, subset); `n_basins` counts them, `n_no_variance` / `n_no_data` the basins left out
    and why (`no_prediction` counts as no data)."""
    ok = scores["status"].eq("ok") & scores["r"].notna()
    frame = scores.assign(
        _ok=ok.astype(int),
        _no_var=scores["status"].eq("no_variance").astype(int),
        _no_data=scores["status"].isin(["no_data", "no_prediction"]).astype(int),
        r=scores["r"].where(ok),
        r2=scores["r2"].where(ok),
        nse=scores["nse"].where(ok),
    )
    summary = (
        frame.groupby(PROBE_KEYS, sort=True)
        .agg(
            n_basins=("_ok", "sum"),
            median_r=("r", "median"),
            median_r2=("r2", "median"),
            median_nse=("nse", "median"),
            n_no_variance=("_no_var", "sum"),
            n_no_data=("_no_data", "sum"),
        )
        .reset_index()
    )
    return summary[PROBE_SUMMARY_COLUMNS]


def probe_selectivity_table(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trained probe minus each control, per basin and as medians.

    Controls (`hydroprobe.probes.grid.selectivity_pairs`): the untrained LSTM (same features),
    shuffle and shift (trained states, same features), inputs and inputs_all (raw inputs, paired
    with every features setting). Pairs are matched on seed, probe, target, subset and basin;
    only basins `ok` on both sides enter. Returns (per basin: keys, `basin`, `<m>_trained`,
    `<m>_control`, `delta_<m>`; medians: keys, `n_basins`, `median_delta_<m>`,
    `median_<m>_trained`, `median_<m>_control`)."""
    keys = ["seed", "probe", "target", "subset"]
    ok = scores[scores["status"].eq("ok")]

    def probed(model, features, control):
        return ok[(ok["model"] == model) & (ok["features"] == features) & (ok["control"] == control)]

    trained = ok[(ok["model"] == TRAINED) & (ok["control"] == NO_CONTROL)]
    per_basin, medians = [], []
    metrics = ("r", "nse")
    for features, control, setting in selectivity_pairs(sorted(trained["features"].unique())):
        t_feat = trained[trained["features"] == features]
        c_groups = dict(list(probed(*setting).groupby(keys)))
        for key, t_group in t_feat.groupby(keys):
            if key not in c_groups:
                continue
            merged, med = selectivity(t_group, c_groups[key], metrics=metrics)
            head = dict(zip(keys, key), features=features, control=control)
            per_basin.append(merged.assign(**head))
            medians.append(
                {
                    **head,
                    "n_basins": int(med["n_basins_r"]),
                    **{k: med[k] for k in med.index if not k.startswith("n_basins")},
                }
            )
    order = ["seed", "features", "probe", "target", "subset", "control"]
    basin_cols = (
        order
        + ["basin"]
        + [f"{m}_{s}" for m in metrics for s in ("trained", "control")]
        + [f"delta_{m}" for m in metrics]
    )
    median_cols = (
        order
        + ["n_basins"]
        + [f"median_delta_{m}" for m in metrics]
        + [f"median_{m}_{s}" for m in metrics for s in ("trained", "control")]
    )
    per_basin = (
        pd.concat(per_basin, ignore_index=True)[basin_cols] if per_basin else pd.DataFrame(columns=basin_cols)
    )
    medians = pd.DataFrame(medians, columns=median_cols)
    return (
        per_basin.sort_values(order + ["basin"], ignore_index=True),
        medians.sort_values(order, ignore_index=True),
    )


def probe_ensemble_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Across seeds: mean, min and max of each median (r, r², NSE) per (model, probe, control,
    target, features, subset), with `n_seeds`."""
    keys = [k for k in PROBE_KEYS if k != "seed"]
    aggs = {"n_seeds": ("seed", "nunique")}
    for m in PROBE_METRICS:
        for stat in ("mean", "min", "max"):
            aggs[f"{stat}_median_{m}"] = (f"median_{m}", stat)
    return summary.groupby(keys, sort=True).agg(**aggs).reset_index()
