"""Rule discharge_table: per-basin discharge skill of every seed and of the seed ensemble in one
table, and its medians per seed and period."""

import pandas as pd

from hydroprobe.io import write_csv_atomic
from hydroprobe.report.discharge import DISCHARGE_SCORE_COLUMNS, discharge_summary
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    # seed is a number, or "ensemble" for the mean simulation of all seeds (listed last)
    table = pd.concat([pd.read_csv(p, dtype={"seed": str}) for p in snakemake.input], ignore_index=True)
    table = table[["seed"] + DISCHARGE_SCORE_COLUMNS]
    summary = discharge_summary(table)
    log.info("medians per seed and period:\n%s", summary.to_string(index=False))
    write_csv_atomic(table, snakemake.output.scores)
    write_csv_atomic(summary, snakemake.output.summary)
