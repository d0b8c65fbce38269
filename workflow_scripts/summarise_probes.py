"""Rule summarise_probes: every per-basin probe score in one table, and their medians."""
from hydroprobe.io import write_csv_atomic
from hydroprobe.rule_log import rule_log
from hydroprobe.tables import gather_probe_scores, summarise_probe_scores

with rule_log(snakemake.log[0]) as log:
    scores = gather_probe_scores(snakemake.input)
    summary = summarise_probe_scores(scores)
    log.info("\n%s", summary.to_string(index=False))
    write_csv_atomic(scores, snakemake.output.scores)
    write_csv_atomic(summary, snakemake.output.summary)
