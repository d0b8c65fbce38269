"""Rule catchment_weights: each catchment's weights on the ERA5-Land grid, built once."""

from pathlib import Path

from hydroprobe.basins.weights import compute_catchment_weights
from hydroprobe.io import write_netcdf_atomic
from hydroprobe.rule_log import rule_log
from hydroprobe.sources.camels_gb import read_boundaries
from hydroprobe.sources.era5_land import open_era5_land


def era5_land_dir(era5_input):
    """The ERA5-Land folder: the input itself, or the folder above the variable folders of its files."""
    if isinstance(era5_input, str):
        return era5_input
    return str(Path(era5_input[0]).parents[1])


with rule_log(snakemake.log[0]) as log:
    params = snakemake.params
    boundaries = read_boundaries(snakemake.input.camels_gb, gauge_ids=params.basins)
    fields = open_era5_land(era5_land_dir(snakemake.input.era5_land), [params.variables[0]])
    # One time step marks the valid (land) cells; sea is NaN in every ERA5-Land file.
    grid = fields[params.variables[0]].isel(time=0).load()
    weights = compute_catchment_weights(boundaries, grid, method=params.method)
    log.info(
        "%d basins, %d basin-cell pairs, method %s", len(boundaries), weights.sizes["entry"], params.method
    )
    write_netcdf_atomic(weights, snakemake.output[0])
