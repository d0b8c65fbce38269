"""Rule download_caravan: Caravan's archive from its Zenodo record, unpacked safely."""

from hydroprobe.rule_log import rule_log
from hydroprobe.sources.download.caravan import fetch_caravan

with rule_log(snakemake.log[0]) as log:
    log.info("Caravan (Kratzert et al. 2023, CC-BY-4.0) from Zenodo record %s", snakemake.params.record)
    dest = fetch_caravan(snakemake.output[0], **snakemake.params)
    log.info("Caravan ready in %s", dest)
