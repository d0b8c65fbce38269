"""Rule probe_size: the linear probe of every target and the discharge skill of one LSTM of the
hidden-size sweep (trained or untrained), its states extracted (continuous mode) into a temporary
folder."""

from pathlib import Path

from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.probes.sizes import probe_size
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    hidden, seed, model = (
        int(snakemake.wildcards.hidden),
        int(snakemake.wildcards.seed),
        snakemake.wildcards.model,
    )
    dataset = open_zarr(snakemake.input.dataset).load()
    rows = probe_size(
        snakemake.input.checkpoint,
        dataset,
        hidden_size=hidden,
        model=model,
        seed=seed,
        **snakemake.params,
        work_dir=Path(snakemake.output[0]).parent,
        threads=snakemake.threads,
    )
    for row in rows.itertuples():
        log.info(
            "hidden %d seed %d %s %s: probe median r %.3f, median NSE %.3f; discharge median NSE %.3f (validation)",
            hidden,
            seed,
            model,
            row.target,
            row.median_r,
            row.median_nse,
            row.discharge_median_nse,
        )
    write_csv_atomic(rows, snakemake.output[0])
