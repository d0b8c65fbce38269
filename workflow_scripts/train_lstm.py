"""Rule train_lstm: train one seed; keep its initial weights as the untrained control."""

from hydroprobe.io import open_zarr
from hydroprobe.model.training import train_lstm
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    dataset = open_zarr(snakemake.input.dataset).load()
    train_lstm(
        dataset,
        **snakemake.params,
        seed=int(snakemake.wildcards.seed),
        trained_path=snakemake.output.trained,
        untrained_path=snakemake.output.untrained,
        threads=snakemake.threads,
        log=log.info,
    )
