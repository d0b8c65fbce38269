"""Rule plot_probe_comparisons: from probe_scores.csv and probe_selectivity_basins.csv, the probe r
of the trained LSTM beside every control and the per-basin Δr (all basins), the median r per seed,
and the sd r of the snow basins beside all; first configured probe kind and features, every seed
pooled."""

import pandas as pd

from hydroprobe.report.probe_comparisons import (
    comparison_rows,
    plot_control_delta_r,
    plot_control_r,
    plot_seed_medians,
    plot_snow_subset,
)
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    out = snakemake.output
    probe, features = snakemake.params.probe, snakemake.params.features
    scores = pd.read_csv(snakemake.input.scores)
    selectivity = pd.read_csv(snakemake.input.selectivity_basins)
    seeds = ", ".join(str(s) for s in sorted(scores["seed"].unique()))
    several = scores["seed"].nunique() > 1
    seed_label = f"seeds {seeds}" if several else f"seed {seeds}"
    pooled = f"{seed_label} pooled" if several else seed_label
    rows = comparison_rows(scores, probe, features)
    log.info("comparisons drawn: %s", sorted(rows["comparison"].unique()))
    plot_control_r(
        rows[rows["subset"] == "all"],
        out.controls_r_png,
        title=f"Probe r of the trained LSTM and each control, all basins\n({probe} probe, {features} "
        f"states, {pooled}; median written)",
        extra_paths=out.controls_r_extra,
    )
    delta = selectivity[
        (selectivity["probe"] == probe)
        & (selectivity["features"] == features)
        & (selectivity["subset"] == "all")
    ]
    plot_control_delta_r(
        delta,
        out.controls_delta_r_png,
        title=f"Δr = r(trained) − r(control) per basin ({probe} probe, {features} states, {pooled})\n"
        "Δr > 0: the cell state holds more than the control; Δr < 0 (shaded): the control reads better",
        extra_paths=out.controls_delta_r_extra,
    )
    lstm = scores[
        (scores["probe"] == probe) & (scores["features"] == features) & (scores["control"] == "none")
    ]
    plot_seed_medians(
        lstm[lstm["subset"] == "all"],
        out.seeds_png,
        title=f"Median probe r over all basins per seed ({probe} probe, {features} states, {seed_label})",
        extra_paths=out.seeds_extra,
    )
    plot_snow_subset(
        lstm,
        out.snow_png,
        snow_threshold=snakemake.params.snow_threshold,
        title=f"sd probe r: all basins vs snow basins (frac_snow > {snakemake.params.snow_threshold:g})\n"
        f"{probe} probe, {features} states, {pooled}",
        extra_paths=out.snow_extra,
    )
