"""Rules fit_probe / fit_input_probe: one probe kind on one target, per-basin scores.

States: the LSTM's cell or hidden state (model trained/untrained), optionally under a control
(shuffle, shift), or raw inputs (model `inputs`, rule fit_input_probe: no states input); see
hydroprobe.probes.job.
"""

from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.probes.job import run_probe_job
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    wc = snakemake.wildcards
    dataset = open_zarr(snakemake.input.dataset)
    states = open_zarr(snakemake.input.states) if "states" in snakemake.input.keys() else None
    if "frac_snow" not in dataset:
        log.warning("the basin dataset has no static frac_snow: no snow subset")
    scores = run_probe_job(dataset, states, wc, **snakemake.params)
    for subset, group in scores.groupby("subset"):
        log.info(
            "%s %s %s %s %s seed %s subset %s: median r %.3f, median NSE %.3f over %d ok basins (status: %s)",
            wc.model,
            wc.features,
            wc.probe,
            wc.control,
            wc.target,
            wc.seed,
            subset,
            group["r"].median(),
            group["nse"].median(),
            int(group["status"].eq("ok").sum()),
            group["status"].value_counts().to_dict(),
        )
    write_csv_atomic(scores, snakemake.output[0])
