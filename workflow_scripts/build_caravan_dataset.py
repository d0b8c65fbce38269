"""Rule build_caravan_dataset: a Caravan sub-dataset (already basin-averaged) -> the basin dataset."""

from hydroprobe.io import write_zarr_atomic
from hydroprobe.rule_log import rule_log
from hydroprobe.sources.caravan import build_caravan_dataset

with rule_log(snakemake.log[0]) as log:
    params = snakemake.params
    dataset = build_caravan_dataset(
        snakemake.input.caravan,
        params.subdataset,
        basins=params.basins,
        dynamic_inputs=params.dynamic_inputs,
        target=params.target,
        static_inputs=params.static_inputs,
        forcing_map=params.forcing,
        layout=params.layout,
    )
    log.info("Caravan %s basin dataset: %s", params.subdataset, dict(dataset.sizes))
    write_zarr_atomic(dataset, snakemake.output[0])
