# Source data. The embedded default: a synthetic world written in the real CAMELS-GB and
# CDS ERA5-Land layouts, read back below through the same readers as real data.


rule generate_synthetic_world:
    output:
        camels_gb=directory(f"{SYNTHETIC_DIR}/camels_gb"),
        era5_land=directory(f"{SYNTHETIC_DIR}/era5_land"),
        truth=f"{SYNTHETIC_DIR}/truth.nc",
    params:
        synthetic=config["synthetic"],
    log:
        "logs/generate_synthetic_world.log",
    benchmark:
        "results/benchmarks/generate_synthetic_world.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/generate_synthetic_world.py"
