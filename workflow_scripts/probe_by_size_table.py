"""Rule probe_by_size_table: the rows of every (hidden size, seed, model) in results/tables/probe_by_size.csv."""

import pandas as pd

from hydroprobe.io import write_csv_atomic
from hydroprobe.report.sizes import probe_by_size_table
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]):
    paths = list(snakemake.input)
    write_csv_atomic(probe_by_size_table(map(pd.read_csv, paths), paths), snakemake.output[0])
