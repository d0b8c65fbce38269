"""Rule plot_probe_weights: weight strips (targets x state dimensions) of the pooled linear probe
and each dimension's correlation with each target, trained vs untrained, for one seed and features."""

import pandas as pd

from hydroprobe.report.plots import plot_probe_weights
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]):
    models = list(snakemake.params.models)
    weights = {m: pd.read_csv(f) for m, f in zip(models, snakemake.input.weights)}
    correlations = {m: pd.read_csv(f) for m, f in zip(models, snakemake.input.correlations)}
    wc = snakemake.wildcards
    plot_probe_weights(
        weights,
        correlations,
        snakemake.output.png,
        title=f"What each {wc.features}-state dimension holds (seed {wc.seed}): pooled linear "
        "probe weights (train period) and per-dimension r (test period)",
        extra_paths=snakemake.output.extra,
    )
