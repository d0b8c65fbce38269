"""Rule probe_epoch: the linear probe of every target and the discharge skill of one seed's LSTM
after one epoch, its states extracted (continuous mode) into a temporary folder."""

from pathlib import Path

from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.probes.epochs import probe_epoch
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    seed, epoch = int(snakemake.wildcards.seed), int(snakemake.wildcards.epoch)
    dataset = open_zarr(snakemake.input.dataset).load()
    rows = probe_epoch(
        snakemake.input.checkpoint,
        dataset,
        seed=seed,
        epoch=epoch,
        **snakemake.params,
        work_dir=Path(snakemake.output[0]).parent,
        threads=snakemake.threads,
    )
    for row in rows.itertuples():
        log.info(
            "seed %d epoch %d %s: probe median r %.3f, median NSE %.3f; discharge median NSE %.3f (validation)",
            seed,
            epoch,
            row.target,
            row.median_r,
            row.median_nse,
            row.discharge_median_nse,
        )
    write_csv_atomic(rows, snakemake.output[0])
