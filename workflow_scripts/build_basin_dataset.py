"""Rule build_basin_dataset: CAMELS-GB inputs/target + ERA5-Land basin series in one zarr; the
config's periods checked against their dates before anything trains."""

from hydroprobe.basins.dataset import build_basin_dataset, check_against_periods
from hydroprobe.io import open_zarr, write_zarr_atomic
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    settings = {name: value for name, value in snakemake.params.items() if name != "periods"}
    camels_dir = snakemake.input.camels_gb
    era5_basins = open_zarr(snakemake.input.era5_basins)
    dataset = build_basin_dataset(camels_dir, era5_basins, **settings)
    dataset = check_against_periods(
        dataset, snakemake.params.periods, f"CAMELS-GB time series in {camels_dir}", stage=snakemake.rule
    )
    log.info("basin dataset: %s", dict(dataset.sizes))
    write_zarr_atomic(dataset, snakemake.output[0])
