"""Rule fit_probe: pooled linear probe of one target on one model's cell states."""

from hydroprobe.io import write_csv_atomic, open_zarr
from hydroprobe.probes import probe_target
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    wc = snakemake.wildcards
    states = open_zarr(snakemake.input.states)["c"]
    target = open_zarr(snakemake.input.dataset)[wc.target]
    scores, probe = probe_target(
        states, target,
        train_period=tuple(snakemake.params.train_period),
        test_period=tuple(snakemake.params.test_period),
        ridge=snakemake.params.ridge,
    )
    scores.insert(0, "target", wc.target)
    scores.insert(0, "control", "none")
    scores.insert(0, "probe", wc.probe)
    scores.insert(0, "model", wc.model)
    scores.insert(0, "seed", int(wc.seed))
    log.info("%s %s seed %s: median r %.3f, median NSE %.3f over %d basins", wc.model, wc.target, wc.seed,
             scores["r"].median(), scores["nse"].median(), scores["r"].count())
    write_csv_atomic(scores, snakemake.output[0])
