"""Rules fit_probe / fit_input_probe: one probe kind on one target, per-basin scores.

States: the LSTM's cell or hidden state (model trained/untrained), optionally under a control
(shuffle, shift), or raw inputs (model `inputs`); see hydroprobe.probes.job.
"""

from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.probes.job import run_probe_job
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    wc, p = snakemake.wildcards, snakemake.params
    dataset = open_zarr(snakemake.input.dataset)
    # fit_input_probe's path fixes model `inputs` and features `raw` instead of wildcards
    model, features = getattr(wc, "model", "inputs"), getattr(wc, "features", "raw")
    states = None if model == "inputs" else open_zarr(snakemake.input.states)
    if "frac_snow" not in dataset:
        log.warning("the basin dataset has no static frac_snow: no snow subset")
    scores = run_probe_job(
        dataset,
        states,
        seed=int(wc.seed),
        model=model,
        features=features,
        probe=wc.probe,
        control=wc.control,
        target=wc.target,
        train_period=tuple(p.train_period),
        test_period=tuple(p.test_period),
        params={
            "ridge": p.ridge,
            "seed": p.seed,
            "shift_days": p.shift_days,
            "input_lags": p.input_lags,
            "target_scaling": p.target_scaling,
            "snow_threshold": p.snow_threshold,
        },
    )
    for subset, group in scores.groupby("subset"):
        log.info(
            "%s %s %s %s %s seed %s subset %s: median r %.3f, median NSE %.3f over %d ok basins (status: %s)",
            model,
            features,
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
