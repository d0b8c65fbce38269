"""Rules fit_probe / fit_input_probe / fit_joint_probe: one probe kind, every target of
`params.targets` (one score file each, in that order), per-basin scores.

States: the LSTM's cell or hidden state (model trained/untrained), optionally under a control
(shuffle, shift), read block by block; or raw inputs (model `inputs`, rule fit_input_probe: no
states input); or the state together with the inputs_all lags (rule fit_joint_probe, the
features built once); see hydroprobe.probes.job.
"""

from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.probes.job import run_probe_jobs
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    wc = dict(snakemake.wildcards.items())
    params = dict(snakemake.params.items())
    targets = params.pop("targets")
    dataset = open_zarr(snakemake.input.dataset)
    states = open_zarr(snakemake.input.states) if "states" in snakemake.input.keys() else None
    if "frac_snow" not in dataset:
        log.warning("the basin dataset has no static frac_snow: no snow subset")
    jobs = [dict(wc, target=target) for target in targets]
    for job, scores, path in zip(jobs, run_probe_jobs(dataset, states, jobs, **params), snakemake.output):
        for subset, group in scores.groupby("subset"):
            log.info(
                "%s %s %s %s %s seed %s subset %s: median r %.3f, median NSE %.3f over %d ok basins "
                "(status: %s)",
                job["model"],
                job["features"],
                job["probe"],
                job["control"],
                job["target"],
                job["seed"],
                subset,
                group["r"].median(),
                group["nse"].median(),
                int(group["status"].eq("ok").sum()),
                group["status"].value_counts().to_dict(),
            )
        write_csv_atomic(scores, path)
