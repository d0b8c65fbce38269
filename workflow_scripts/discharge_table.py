"""Rule discharge_table: per-basin test-period discharge skill of every seed in one table."""
import pandas as pd

from hydroprobe.io import write_csv_atomic
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    table = pd.concat([pd.read_csv(p) for p in snakemake.input], ignore_index=True)
    table = table[["seed", "basin", "nse", "kge"]].sort_values(["seed", "basin"], ignore_index=True)
    log.info("median test NSE per seed:\n%s", table.groupby("seed")["nse"].median().to_string())
    write_csv_atomic(table, snakemake.output[0])
