"""Rule build_basin_dataset: CAMELS-GB inputs/target + the probe targets (ERA5-Land basin series,
or Caravan's camelsgb basin means) in one zarr; the config's periods checked against their dates
before anything trains."""

from hydroprobe.basins.caravan_targets import caravan_probe_targets
from hydroprobe.basins.dataset import build_basin_dataset, check_against_periods
from hydroprobe.io import open_zarr, write_zarr_atomic
from hydroprobe.rule_log import rule_log
from hydroprobe.sources.camels_gb import list_gauge_ids

with rule_log(snakemake.log[0]) as log:
    p = snakemake.params
    camels_dir = snakemake.input.camels_gb
    if hasattr(snakemake.input, "caravan"):
        basins = p.basins or list_gauge_ids(camels_dir)
        probe_targets = caravan_probe_targets(
            snakemake.input.caravan, basins, p.caravan_layout, p.probe_targets
        )
        log.info("probe targets of %d basins from Caravan camelsgb", probe_targets.attrs["caravan_matched"])
    else:
        probe_targets = open_zarr(snakemake.input.era5_basins)
    dataset = build_basin_dataset(
        camels_dir, probe_targets, p.dynamic_inputs, p.target, p.static_inputs, basins=p.basins
    )
    dataset = check_against_periods(
        dataset, p.periods, f"CAMELS-GB time series in {camels_dir}", stage=snakemake.rule
    )
    log.info("basin dataset: %s", dict(dataset.sizes))
    write_zarr_atomic(dataset, snakemake.output[0])
