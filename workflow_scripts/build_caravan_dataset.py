"""Rule build_caravan_dataset: a Caravan sub-dataset (already basin-averaged) -> the basin dataset."""

from hydroprobe.io import write_zarr_atomic
from hydroprobe.rule_log import rule_log
from hydroprobe.sources.caravan import build_caravan_dataset

with rule_log(snakemake.log[0]) as log:
    dataset = build_caravan_dataset(snakemake.input.caravan, **snakemake.params)
    log.info("Caravan %s basin dataset: %s", snakemake.params.subdataset, dict(dataset.sizes))
    write_zarr_atomic(dataset, snakemake.output[0])
