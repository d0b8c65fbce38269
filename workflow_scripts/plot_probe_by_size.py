"""Rule plot_probe_by_size: discharge NSE and probe median r per store against the hidden size."""

import pandas as pd

from hydroprobe.report.sizes import plot_probe_by_size
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]):
    plot_probe_by_size(pd.read_csv(snakemake.input[0]), snakemake.output.png, snakemake.output.extra)
