"""Rules download_era5_land_{hourly,daily}: one CDS request (variable x month or x year).

Credentials come from ~/.cdsapirc (or CDSAPI_RC) or CDSAPI_URL/CDSAPI_KEY; the key is
redacted from every message by hydroprobe.sources.download.era5_land.
"""

from pathlib import Path

from hydroprobe.rule_log import rule_log
from hydroprobe.sources.download.era5_land import build_request, make_client, retrieve

with rule_log(snakemake.log[0]) as log:
    wc, params = snakemake.wildcards, snakemake.params
    month = int(wc.month) if params.mode == "hourly" else None
    dataset, request = build_request(wc.short, int(wc.year), month, mode=params.mode, area=params.area)
    log.info(
        "CDS %s: %s %s%s, area %s",
        dataset,
        wc.short,
        wc.year,
        "" if month is None else f"-{month:02d}",
        params.area,
    )
    client = make_client()
    path = retrieve(
        client,
        dataset,
        request,
        Path(snakemake.output[0]),
        attempts=params.attempts,
        backoff_s=params.backoff_s,
        variable=wc.short,
    )
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
