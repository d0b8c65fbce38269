"""Rule build_basin_dataset: CAMELS-GB inputs/target + ERA5-Land basin series in one zarr."""

from hydroprobe.basins.dataset import build_basin_dataset
from hydroprobe.io import open_zarr, write_zarr_atomic
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    era5_basins = open_zarr(snakemake.input.era5_basins)
    dataset = build_basin_dataset(snakemake.input.camels_gb, era5_basins, **snakemake.params)
    log.info("basin dataset: %s", dict(dataset.sizes))
    write_zarr_atomic(dataset, snakemake.output[0])
