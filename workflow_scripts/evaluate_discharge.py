"""Rule evaluate_discharge: NSE and KGE of the trained LSTM per basin on the test period."""
from hydroprobe.evaluation import discharge_scores
from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    target = snakemake.params.target
    # The extraction pass already ran every sequence-to-one window of the test period.
    simulated = open_zarr(snakemake.input.states)[f"{target}_sim"]
    observed = open_zarr(snakemake.input.dataset)[target]
    scores = discharge_scores(observed, simulated, snakemake.params.test_period)
    scores.insert(0, "seed", int(snakemake.wildcards.seed))
    log.info("median test NSE %.3f, KGE %.3f", scores["nse"].median(), scores["kge"].median())
    write_csv_atomic(scores, snakemake.output[0])
