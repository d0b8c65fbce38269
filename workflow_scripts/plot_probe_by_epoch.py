"""Rule plot_probe_by_epoch: probe median r per store and discharge NSE against the epoch."""

import pandas as pd

from hydroprobe.report.epochs import plot_probe_by_epoch
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]):
    plot_probe_by_epoch(pd.read_csv(snakemake.input[0]), snakemake.output.png, snakemake.output.extra)
