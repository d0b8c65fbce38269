# hydroprobe: does an LSTM rainfall-runoff model form hydrological concepts?
# A reproduction and extension of Lees et al. (2022, HESS 26, 3079-3101).
# The rules live in rules/, the rule glue in workflow_scripts/, the method in src/hydroprobe/.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/sources.smk"
include: "rules/basins.smk"
include: "rules/model.smk"
include: "rules/states.smk"
include: "rules/probes.smk"
include: "rules/report.smk"
include: "rules/epochs.smk"
include: "rules/sizes.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
        epoch_outputs(),
        size_outputs(),
