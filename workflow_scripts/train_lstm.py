"""Rule train_lstm: train one seed; keep its initial weights as the untrained control, and the
weights after each epoch of training.keep_epochs between the first and the last."""

from hydroprobe.io import open_zarr
from hydroprobe.model.checkpoints import intermediate_epochs
from hydroprobe.model.training import train_lstm
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    training = snakemake.config["training"]
    # the hidden-size sweep's models (rules/sizes.smk) keep no epoch: their rule has no `kept` output
    kept_files = snakemake.output.get("kept", [])
    kept = intermediate_epochs(training["keep_epochs"], training["epochs"]) if kept_files else []
    dataset = open_zarr(snakemake.input.dataset).load()
    train_lstm(
        dataset,
        **snakemake.params,
        seed=int(snakemake.wildcards.seed),
        trained_path=snakemake.output.trained,
        untrained_path=snakemake.output.untrained,
        kept_paths=dict(zip(kept, kept_files, strict=True)),
        threads=snakemake.threads,
        log=log.info,
    )
