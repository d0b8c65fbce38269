"""Rule summarise_probes: every per-basin probe score in one table, their medians with bootstrap
intervals, the selectivity (trained minus each control) with a paired test, and the spread across
seeds."""

from hydroprobe.io import write_csv_atomic
from hydroprobe.report.tables import (
    gather_probe_scores,
    probe_ensemble_table,
    probe_joint_gain_table,
    probe_selectivity_table,
    summarise_probe_scores,
)
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    scores = gather_probe_scores(snakemake.input)
    bootstrap = snakemake.params.bootstrap
    summary = summarise_probe_scores(scores, bootstrap)
    per_basin, selectivity = probe_selectivity_table(scores, bootstrap)
    ensemble = probe_ensemble_table(summary)
    log.info("\n%s", summary.to_string(index=False))
    log.info("selectivity\n%s", selectivity.to_string(index=False))
    write_csv_atomic(scores, snakemake.output.scores)
    write_csv_atomic(summary, snakemake.output.summary)
    write_csv_atomic(selectivity, snakemake.output.selectivity)
    write_csv_atomic(per_basin, snakemake.output.selectivity_basins)
    write_csv_atomic(ensemble, snakemake.output.ensemble)
    write_csv_atomic(probe_joint_gain_table(scores), snakemake.output.joint_gain)
