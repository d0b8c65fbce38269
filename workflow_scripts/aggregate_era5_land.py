"""Rule aggregate_era5_land: ERA5-Land grids to catchment means, lazily with dask, into zarr."""

import dask
import xarray as xr

from hydroprobe.basins.aggregate import aggregate_to_basins, few_open_files, write_basin_series
from hydroprobe.rule_log import rule_log
from hydroprobe.sources.era5_land import open_era5_land
from hydroprobe.sources.paths import era5_land_input_dir

# few files open at once: memory bounded by a few files' chunks, not the years read
with rule_log(snakemake.log[0]) as log, few_open_files():
    dask.config.set(scheduler="threads", num_workers=snakemake.threads)
    fields = open_era5_land(era5_land_input_dir(snakemake.input.era5_land), snakemake.params.variables)
    weights = xr.load_dataset(snakemake.input.weights)
    basin_series = aggregate_to_basins(fields, weights)
    log.info(
        "aggregating %s over %d days to %d basins",
        list(fields.data_vars),
        fields.sizes["time"],
        basin_series.sizes["basin"],
    )
    write_basin_series(basin_series, snakemake.output[0])
