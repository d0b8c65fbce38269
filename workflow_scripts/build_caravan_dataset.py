"""Rule build_caravan_dataset: a Caravan sub-dataset (already basin-averaged) -> the basin dataset;
the config's periods checked against its dates before anything trains."""

from hydroprobe.basins.dataset import check_against_periods
from hydroprobe.io import write_zarr_atomic
from hydroprobe.rule_log import rule_log
from hydroprobe.sources.caravan import build_caravan_dataset

with rule_log(snakemake.log[0]) as log:
    settings = {name: value for name, value in snakemake.params.items() if name != "periods"}
    caravan_dir = snakemake.input.caravan
    dataset = build_caravan_dataset(caravan_dir, **settings)
    dataset = check_against_periods(
        dataset,
        snakemake.params.periods,
        f"Caravan {settings['subdataset']} time series in {caravan_dir}",
        stage=snakemake.rule,
    )
    log.info("Caravan %s basin dataset: %s", settings["subdataset"], dict(dataset.sizes))
    write_zarr_atomic(dataset, snakemake.output[0])
