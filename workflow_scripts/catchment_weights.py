"""Rule catchment_weights: each catchment's weights on the ERA5-Land grid, built once."""

from hydroprobe.basins.aggregate import few_open_files
from hydroprobe.basins.weights import compute_catchment_weights, land_cells
from hydroprobe.config import check_basins_in_data
from hydroprobe.io import write_netcdf_atomic
from hydroprobe.rule_log import rule_log
from hydroprobe.sources.camels_gb import list_gauge_ids, read_boundaries
from hydroprobe.sources.era5_land import open_era5_land
from hydroprobe.sources.paths import era5_land_input_dir

with rule_log(snakemake.log[0]) as log:
    params = snakemake.params
    camels_dir = snakemake.input.camels_gb
    # the first job that sees the basins: an unknown id stops here, named with the data folder
    check_basins_in_data(params.basins, list_gauge_ids(camels_dir), f"CAMELS-GB time series in {camels_dir}")
    boundaries = read_boundaries(camels_dir, gauge_ids=params.basins)
    with few_open_files():  # a year of each variable is read: memory bounded by a few files
        fields = open_era5_land(era5_land_input_dir(snakemake.input.era5_land), params.variables)
        land = land_cells(fields)
    log.info("%d of %d ERA5-Land cells have data", int(land.sum()), land.size)
    weights = compute_catchment_weights(boundaries, land, method=params.method)
    log.info(
        "%d basins, %d basin-cell pairs, method %s", len(boundaries), weights.sizes["entry"], params.method
    )
    write_netcdf_atomic(weights, snakemake.output[0])
