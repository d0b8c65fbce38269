"""Rule generate_synthetic_world: write the embedded synthetic world in the real formats."""

from pathlib import Path

from hydroprobe.rule_log import rule_log
from hydroprobe.sources.synthetic import generate_world

with rule_log(snakemake.log[0]) as log:
    settings = snakemake.params.synthetic
    out_dir = Path(snakemake.output.truth).parent
    log.info(
        "generating the synthetic world (region %s, seed %s, %s...%s) into %s",
        settings["region"],
        settings["seed"],
        settings["start"],
        settings["end"],
        out_dir,
    )
    generate_world(out_dir, **settings)
