"""Rule pca_summary: the PCA tables of every analysed states store in one table, keyed by
model, seed and features."""

import pandas as pd

from hydroprobe.io import write_csv_atomic
from hydroprobe.probes.analysis import pca_summary_table
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    frames = {tuple(key): pd.read_csv(path) for key, path in zip(snakemake.params.stores, snakemake.input)}
    summary = pca_summary_table(frames)
    log.info("\n%s", summary[summary["component"] <= 3].to_string(index=False))
    write_csv_atomic(summary, snakemake.output[0])
