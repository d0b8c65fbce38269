"""Rule plot_probe_cdfs: CDF of per-basin probe r per target, trained vs untrained (all basins,
first configured features, no control)."""

import pandas as pd

from hydroprobe.probes.grid import LSTM_MODELS
from hydroprobe.report.plots import plot_probe_cdfs
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]):
    scores = pd.read_csv(snakemake.input[0])
    scores = scores[
        (scores["subset"] == "all")
        & (scores["features"] == snakemake.params.features)
        & scores["model"].isin(LSTM_MODELS)
    ]
    plot_probe_cdfs(scores, snakemake.output.png, metric="r", extra_paths=snakemake.output.extra)
