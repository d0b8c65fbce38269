"""Rule plot_probe_cdfs: CDF of per-basin probe r per target, trained vs untrained."""
import pandas as pd

from hydroprobe.plots import plot_probe_cdfs
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]):
    plot_probe_cdfs(pd.read_csv(snakemake.input[0]), snakemake.output[0], metric="r")
