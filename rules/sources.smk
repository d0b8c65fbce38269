# Source data. The embedded default: a synthetic world written in the real CAMELS-GB and
# CDS ERA5-Land layouts, read back below through the same readers as real data.
from hydroprobe.sources.synthetic import resources as synthetic_resources


rule generate_synthetic_world:
    output:
        camels_gb=directory(f"{source_paths.SYNTHETIC_DIR}/camels_gb"),
        era5_land=directory(f"{source_paths.SYNTHETIC_DIR}/era5_land"),
        truth=f"{source_paths.SYNTHETIC_DIR}/truth.nc",
    log:
        "logs/generate_synthetic_world.log",
    benchmark:
        "results/benchmarks/generate_synthetic_world.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=synthetic_resources.mem_mb(config["synthetic"]),
        runtime=synthetic_resources.runtime_min(config["synthetic"]),
    params:
        synthetic=config["synthetic"],
    script:
        "../workflow_scripts/generate_synthetic_world.py"


# ---------------------------------------------------------------- source: download
# Every rule that talks to the network is a localrule: cluster compute nodes often have no
# internet, and each CDS request is mostly waiting in the CDS queue, not computing.

if source_paths.downloads_caravan(config):

    localrules:
        download_caravan,

    rule download_caravan:
        output:
            directory(source_paths.CARAVAN_DOWNLOAD_DIR),
        log:
            "logs/download_caravan.log",
        benchmark:
            "results/benchmarks/download_caravan.tsv"
        conda:
            "../envs/hydroprobe.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=720,
        params:
            record=config["caravan"]["zenodo_record"],
            archive=config["caravan"]["archive"],
            layout=config["caravan"]["layout"],
        script:
            "../workflow_scripts/download_caravan.py"


if source_paths.downloads_camels_gb(config):

    localrules:
        download_camels_gb,

    rule download_camels_gb:
        output:
            directory(source_paths.CAMELS_GB_DOWNLOAD_DIR),
        log:
            "logs/download_camels_gb.log",
        benchmark:
            "results/benchmarks/download_camels_gb.tsv"
        conda:
            "../envs/hydroprobe.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=120,
        script:
            "../workflow_scripts/download_camels_gb.py"


# Each CDS request holds one unit of the global resource cds_requests (capped in the profiles
# and by --resources cds_requests=N): the CDS rejects a user's requests beyond a few queued per
# dataset, so more at once only buys rejections. Retry settings are read by the script from
# the config, not passed as params, so changing them does not re-download finished files.
if source_paths.downloads_era5_land(config):
    _era5_dl = config["era5_land"]["download"]

    if _era5_dl["mode"] == "hourly":

        localrules:
            download_era5_land_hourly,

        # One job per variable x year, its 12 monthly requests in turn (one in flight), each
        # averaged to daily means: a job per month would plan thousands of jobs.
        rule download_era5_land_hourly:
            output:
                source_paths.era5_land_job_files(
                    source_paths.ERA5_LAND_DOWNLOAD_DIR, "{short}", "{year}", "hourly"
                ),
            log:
                "logs/download_era5_land/{short}_{year}.log",
            benchmark:
                "results/benchmarks/download_era5_land/{short}_{year}.tsv"
            conda:
                "../envs/hydroprobe.yaml"
            threads: 1
            resources:
                cds_requests=1,
                mem_mb=2000,
                runtime=12 * 720,
            params:
                area=_era5_dl["area"],
                mode=_era5_dl["mode"],
            script:
                "../workflow_scripts/download_era5_land.py"

    else:

        localrules:
            download_era5_land_daily,

        rule download_era5_land_daily:
            output:
                f"{source_paths.ERA5_LAND_DOWNLOAD_DIR}/{{short}}/era5_land_{{short}}_{{year}}.nc",
            log:
                "logs/download_era5_land/{short}_{year}.log",
            benchmark:
                "results/benchmarks/download_era5_land/{short}_{year}.tsv"
            conda:
                "../envs/hydroprobe.yaml"
            threads: 1
            resources:
                cds_requests=1,
                mem_mb=2000,
                runtime=720,
            params:
                area=_era5_dl["area"],
                mode=_era5_dl["mode"],
            script:
                "../workflow_scripts/download_era5_land.py"
