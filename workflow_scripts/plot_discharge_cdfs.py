"""Rule plot_discharge_cdfs: CDF over basins of NSE and KGE per period (validation, test), each
seed and the seed ensemble, from discharge_scores.csv."""

import pandas as pd

from hydroprobe.report.discharge_cdf import plot_discharge_cdfs
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]):
    scores = pd.read_csv(snakemake.input[0], dtype={"seed": str})
    plot_discharge_cdfs(
        scores,
        snakemake.output.png,
        periods={name: tuple(dates) for name, dates in snakemake.params.periods.items()},
        extra_paths=snakemake.output.extra,
    )
