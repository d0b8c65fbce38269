"""Rule download_camels_gb: the EIDC zip of CAMELS-GB, extracted safely into the reader's layout.

The address and hash come from the config (camels_gb.download), not the rule's params: a
mirror or a newly recorded hash of the same zip must not re-download a finished copy.
"""

from hydroprobe.rule_log import rule_log
from hydroprobe.sources.download.camels_gb import CAMELS_GB_DOI, CAMELS_GB_URL, fetch

with rule_log(snakemake.log[0]) as log:
    settings = snakemake.config["camels_gb"]["download"]
    url = settings["url"] or CAMELS_GB_URL
    log.info("CAMELS-GB (doi:%s, Open Government Licence v3) from %s", CAMELS_GB_DOI, url)
    dest = fetch(snakemake.output[0], url=url, sha256=settings["sha256"], log=log)
    log.info("CAMELS-GB ready in %s", dest)
