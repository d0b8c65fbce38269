"""Rule aggregate_era5_land: ERA5-Land grids to catchment means, lazily with dask, into zarr."""

from pathlib import Path

import dask
import xarray as xr

from hydroprobe.basins.aggregate import aggregate_to_basins, write_basin_series
from hydroprobe.rule_log import rule_log
from hydroprobe.sources.era5_land import open_era5_land


def era5_land_dir(era5_input):
    """The ERA5-Land folder: the input itself, or the folder above the variable folders of its files."""
    if isinstance(era5_input, str):
        return era5_input
    return str(Path(era5_input[0]).parents[1])


with rule_log(snakemake.log[0]) as log:
    dask.config.set(scheduler="threads", num_workers=snakemake.threads)
    fields = open_era5_land(era5_land_dir(snakemake.input.era5_land), snakemake.params.variables)
    weights = xr.load_dataset(snakemake.input.weights)
    basin_series = aggregate_to_basins(fields, weights)
    log.info(
        "aggregating %s over %d days to %d basins",
        list(fields.data_vars),
        fields.sizes["time"],
        basin_series.sizes["basin"],
    )
    write_basin_series(basin_series, snakemake.output[0])
