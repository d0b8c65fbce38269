"""Probe result tables: the per-basin scores of every probe job in one table, their medians over
basins with bootstrap intervals, the selectivity (trained probe minus each control) with a paired
test, and the spread across seeds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from hydroprobe.probes.controls import selectivity
from hydroprobe.probes.grid import NO_CONTROL, TRAINED, joint_gain_pairs, selectivity_pairs
from hydroprobe.probes.job import PROBE_KEYS, PROBE_METRICS, PROBE_SCORE_COLUMNS
from hydroprobe.report.uncertainty import bootstrap_median_intervals, paired_wilcoxon

PROBE_SUMMARY_COLUMNS = PROBE_KEYS + [
    "n_basins",
    "median_r",
    "median_r2",
    "median_nse",
    "n_no_variance",
    "n_no_data",
    "median_r_lo",
    "median_r_hi",
    "median_nse_lo",
    "median_nse_hi",
]
# the medians of the summary that get a bootstrap interval
INTERVAL_METRICS = ("r", "nse")
SELECTIVITY_TEST_COLUMNS = ["n_trained_wins", "wilcoxon_statistic", "wilcoxon_p", "wilcoxon_note"]


def gather_probe_scores(paths: Iterable[str]) -> pd.DataFrame:
    """Concatenate the per-job probe score files into one table, sorted by its keys and basin."""
    scores = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    scores = scores[PROBE_SCORE_COLUMNS]
    return scores.sort_values(PROBE_KEYS + ["basin"], ignore_index=True)


def median_intervals(
    frame: pd.DataFrame, keys: list[str], columns: Iterable[str], bootstrap: Mapping
) -> pd.DataFrame:
    """Bootstrap interval of the median over basins of each column per group of `keys` (NaN
    values left out): `median_<column>_lo`, `median_<column>_hi`, indexed by the keys.
    `bootstrap` holds `draws`, `seed` and `confidence` (config key `report.bootstrap`)."""
    grouped = frame.groupby(keys, sort=True)
    out = pd.DataFrame(index=grouped.size().index)
    for column in columns:
        groups = [group[column].to_numpy(dtype=float) for _, group in grouped]
        low, high = bootstrap_median_intervals(groups, **bootstrap)
        out[f"median_{column}_lo"], out[f"median_{column}_hi"] = low, high
    return out


def summarise_probe_scores(scores: pd.DataFrame, bootstrap: Mapping) -> pd.DataFrame:
    """Median r, r² and NSE over the `ok` basins per (seed, model, probe, control, target,
    features, subset); `n_basins` counts them, `n_no_variance` / `n_no_data` the basins left out
    and why (`no_prediction` counts as no data); `median_{r,nse}_{lo,hi}` the bootstrap interval
    of the median over basins (`median_intervals`)."""
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
        .join(median_intervals(frame, PROBE_KEYS, INTERVAL_METRICS, bootstrap))
        .reset_index()
    )
    return summary[PROBE_SUMMARY_COLUMNS]


def probe_selectivity_table(scores: pd.DataFrame, bootstrap: Mapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trained probe minus each control, per basin and as medians, with the uncertainty of Δr.

    Controls (`hydroprobe.probes.grid.selectivity_pairs`): the untrained LSTM (same features),
    shuffle and shift (trained states, same features), inputs and inputs_all (raw inputs, paired
    with every features setting). Pairs are matched on seed, probe, target, subset and basin;
    only basins `ok` on both sides enter. Returns (per basin: keys, `basin`, `<m>_trained`,
    `<m>_control`, `delta_<m>`; medians: keys, `n_basins`, `median_delta_<m>`,
    `median_<m>_trained`, `median_<m>_control`, then `selectivity_uncertainty`'s columns)."""
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
    per_basin = per_basin.sort_values(order + ["basin"], ignore_index=True)
    medians = medians.sort_values(order, ignore_index=True)
    return per_basin, medians.join(selectivity_uncertainty(per_basin, order, bootstrap), on=order)


def selectivity_uncertainty(per_basin: pd.DataFrame, keys: list[str], bootstrap: Mapping) -> pd.DataFrame:
    """Per group of `keys` of the per-basin selectivity rows: the bootstrap interval of the
    median Δr (`median_delta_r_lo/hi`) and the paired Wilcoxon signed-rank test of the per-basin
    r, trained vs control (`n_trained_wins`, `wilcoxon_statistic`, `wilcoxon_p`,
    `wilcoxon_note`; see `hydroprobe.report.uncertainty.paired_wilcoxon`)."""
    columns = ["median_delta_r_lo", "median_delta_r_hi", *SELECTIVITY_TEST_COLUMNS]
    if per_basin.empty:
        return pd.DataFrame(columns=columns, index=pd.MultiIndex.from_arrays([[]] * len(keys), names=keys))
    intervals = median_intervals(per_basin, keys, ["delta_r"], bootstrap)
    tests = {
        key: paired_wilcoxon(group["delta_r"].to_numpy(dtype=float))
        for key, group in per_basin.groupby(keys, sort=True)
    }
    tests = pd.DataFrame(list(tests.values()), index=pd.MultiIndex.from_tuples(list(tests), names=keys))
    return intervals.join(tests)[columns]


def probe_ensemble_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Across seeds: mean, min and max of each median (r, r², NSE) per (model, probe, control,
    target, features, subset), with `n_seeds`; then the standard deviation across seeds
    (`std_median_<m>`, ddof 1: NaN with a single seed)."""
    keys = [k for k in PROBE_KEYS if k != "seed"]
    aggs = {"n_seeds": ("seed", "nunique")}
    for m in PROBE_METRICS:
        for stat in ("mean", "min", "max"):
            aggs[f"{stat}_median_{m}"] = (f"median_{m}", stat)
    for m in PROBE_METRICS:
        aggs[f"std_median_{m}"] = (f"median_{m}", "std")
    return summary.groupby(keys, sort=True).agg(**aggs).reset_index()


JOINT_GAIN_KEYS = ["seed", "features", "probe", "target", "subset", "model"]
JOINT_GAIN_COLUMNS = JOINT_GAIN_KEYS + [
    "n_basins",
    "median_delta_r",
    "delta_median_r",
    "median_delta_r2",
    "delta_median_r2",
    "median_r_joint",
    "median_r_inputs",
    "median_r2_joint",
    "median_r2_inputs",
    "n_joint_better",
]


def probe_joint_gain_table(scores: pd.DataFrame) -> pd.DataFrame:
    """What the state adds to the inputs: the joint probe (state + the inputs_all lags, features
    `cell+inputs_all`, `hydroprobe.probes.grid.joint_gain_pairs`) minus the inputs_all baseline,
    for the trained and the untrained LSTM (`model`).

    Pairs match on seed, probe, target, subset and basin, over basins `ok` on both sides
    (`n_basins`). `median_delta_<m>` is the median over basins of the per-basin difference,
    `delta_median_<m>` the difference of the two medians over the same basins (`median_<m>_joint`
    − `median_<m>_inputs`); `r2` is the square of each basin's Pearson r (the variance of the store
    a per-basin linear rescaling of the prediction explains). `n_joint_better` counts the basins
    where the joint probe's r is higher. Empty (with its columns) when no joint probe ran."""
    keys = ["seed", "probe", "target", "subset"]
    ok = scores[scores["status"].eq("ok")]
    rows = []
    for features, model, (base_model, base_features, base_control) in joint_gain_pairs(
        sorted(ok["features"].unique())
    ):
        joint = ok[(ok["model"] == model) & (ok["features"] == features) & (ok["control"] == NO_CONTROL)]
        base = ok[
            (ok["model"] == base_model) & (ok["features"] == base_features) & (ok["control"] == base_control)
        ]
        base_groups = dict(list(base.groupby(keys)))
        for key, group in joint.groupby(keys):
            if key not in base_groups:
                continue
            merged, med = selectivity(group, base_groups[key], metrics=("r", "r2"))
            row = dict(zip(keys, key), features=features, model=model, n_basins=int(med["n_basins_r"]))
            for m in ("r", "r2"):
                row[f"median_delta_{m}"] = med[f"median_delta_{m}"]
                row[f"median_{m}_joint"] = med[f"median_{m}_trained"]
                row[f"median_{m}_inputs"] = med[f"median_{m}_control"]
                row[f"delta_median_{m}"] = med[f"median_{m}_trained"] - med[f"median_{m}_control"]
            row["n_joint_better"] = int((merged["delta_r"] > 0).sum())
            rows.append(row)
    table = pd.DataFrame(rows, columns=JOINT_GAIN_COLUMNS)
    return table.sort_values(JOINT_GAIN_KEYS, ignore_index=True)
