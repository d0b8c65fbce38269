"""Rule extract_cell_states: c_t for every basin and day of the probe periods, to zarr."""

from hydroprobe.io import open_zarr
from hydroprobe.rule_log import rule_log
from hydroprobe.states.extract import extract_cell_states

with rule_log(snakemake.log[0]) as log:
    dataset = open_zarr(snakemake.input.dataset).load()
    extract_cell_states(
        snakemake.input.checkpoint,
        dataset,
        **snakemake.params,
        out_path=snakemake.output[0],
        threads=snakemake.threads,
    )
