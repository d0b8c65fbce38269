"""Rule data_warnings_table: the gaps in the input data the run went on with, one row each."""

from hydroprobe import data_warnings
from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    table = data_warnings.table(open_zarr(snakemake.input[0]))
    log.info("%d data warning(s)", len(table))
    write_csv_atomic(table, snakemake.output[0])
