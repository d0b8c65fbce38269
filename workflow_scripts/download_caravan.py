"""Rule download_caravan: Caravan's archive from its Zenodo record, unpacked safely."""

from hydroprobe.rule_log import rule_log
from hydroprobe.sources.download.caravan import CARAVAN_RECORDS, CARAVAN_VERSION, fetch_caravan

with rule_log(snakemake.log[0]) as log:
    params = snakemake.params
    record = params.record or CARAVAN_RECORDS.get(params.layout)
    if not params.record:
        log.info("caravan.zenodo_record null: Caravan %s, the %s record", CARAVAN_VERSION, params.layout)
    log.info("Caravan (Kratzert et al. 2023, CC-BY-4.0) from Zenodo record %s", record)
    dest = fetch_caravan(
        snakemake.output[0], record=record, layout=params.layout, archive=params.archive, log=log
    )
    log.info("Caravan ready in %s", dest)
