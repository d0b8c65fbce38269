"""Rule evaluate_discharge: discharge skill per basin on the validation and test periods, of one
seed's trained LSTM or of the seed ensemble's mean simulation."""

from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.report.discharge import discharge_scores, ensemble_mean
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    target = snakemake.params.target
    member = snakemake.wildcards.member
    # The extraction pass already ran every sequence-to-one window of these periods.
    simulations = [open_zarr(path)[f"{target}_sim"] for path in snakemake.input.states]
    simulated = simulations[0] if member != "ensemble" else ensemble_mean(simulations)
    observed = open_zarr(snakemake.input.dataset)[target]
    scores = discharge_scores(observed, simulated, snakemake.params.periods)
    scores.insert(0, "seed", member.removeprefix("seed"))
    for period, group in scores.groupby("period", sort=False):
        log.info(
            "%s (%d members), %s: median NSE %.3f, KGE %.3f, FHV %.1f %%, FLV %.1f %%",
            member,
            len(simulations),
            period,
            group["nse"].median(),
            group["kge"].median(),
            group["fhv"].median(),
            group["flv"].median(),
        )
    write_csv_atomic(scores, snakemake.output[0])
