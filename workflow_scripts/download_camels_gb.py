"""Rule download_camels_gb: the EIDC zip of CAMELS-GB, extracted safely into the reader's layout."""

from hydroprobe.rule_log import rule_log
from hydroprobe.sources.download.camels_gb import CAMELS_GB_DOI, CAMELS_GB_URL, fetch

with rule_log(snakemake.log[0]) as log:
    log.info("CAMELS-GB (doi:%s, Open Government Licence v3) from %s", CAMELS_GB_DOI, CAMELS_GB_URL)
    dest = fetch(snakemake.output[0])
    log.info("CAMELS-GB ready in %s", dest)
