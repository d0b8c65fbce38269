"""Rules download_era5_land_{hourly,daily}: one variable x one year from the CDS (hourly mode:
its 12 monthly requests, each averaged to daily means; daily mode: one request).

The retry and client settings are read from the config, not from rule params: params are a
rerun trigger, and changing how patiently we retry must not re-download finished files.
Credentials come from ~/.cdsapirc (or CDSAPI_RC) or CDSAPI_URL/CDSAPI_KEY; the key is
redacted from every message by hydroprobe.sources.download.era5_land.
"""

from pathlib import Path

from hydroprobe.rule_log import rule_log
from hydroprobe.sources.download.era5_land import RetryPolicy, download, download_hourly_year
from hydroprobe.sources.paths import era5_land_hourly_work_dir

with rule_log(snakemake.log[0]) as log:
    wc, params = snakemake.wildcards, snakemake.params
    settings = snakemake.config["era5_land"]["download"]
    client = {
        "area": params.area,
        "policy": RetryPolicy(settings["attempts"], settings["backoff_s"], settings["backoff_max_s"]),
        "timeout_s": settings["timeout_s"],
        "poll_max_s": settings["poll_max_s"],
    }
    if params.mode == "hourly":
        work_dir = era5_land_hourly_work_dir(wc.short, wc.year)
        paths = download_hourly_year(wc.short, int(wc.year), list(snakemake.output), work_dir, **client)
    else:
        paths = [download(wc.short, int(wc.year), None, Path(snakemake.output[0]), mode="daily", **client)]
    for path in paths:
        log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
