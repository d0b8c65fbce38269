"""Rule era5_land_hourly_to_daily: one hourly ERA5-Land month -> its UTC daily means."""

from hydroprobe.rule_log import rule_log
from hydroprobe.sources.download.era5_land import hourly_to_daily

with rule_log(snakemake.log[0]) as log:
    path = hourly_to_daily(snakemake.input[0], snakemake.output[0])
    log.info("daily means: %s -> %s", snakemake.input[0], path)
