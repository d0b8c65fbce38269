# Config validation, the paths that depend on the data source, wildcard constraints.
from pathlib import Path

from hydroprobe.config import load_schema, validate_config

# Defaults filled in and every key checked; an error names the key and stops the run.
config.update(validate_config(config, load_schema(Path(workflow.basedir) / "schemas" / "config.schema.yaml")))

SYNTHETIC_DIR = "resources/synthetic"
MODELS = ["trained", "untrained"]


wildcard_constraints:
    seed=r"\d+",
    model="|".join(MODELS),
    probe="|".join(config["probes"]["kinds"]),
    target="|".join(config["probes"]["targets"]),


def camels_gb_dir():
    """The CAMELS-GB folder: written by the synthetic world, or the user's own copy."""
    if config["source"] == "synthetic":
        return f"{SYNTHETIC_DIR}/camels_gb"
    return config["camels_gb"]["path"]


def era5_land_dir():
    """The folder of ERA5-Land NetCDF files (one sub-folder per variable)."""
    if config["source"] == "synthetic":
        return f"{SYNTHETIC_DIR}/era5_land"
    return config["era5_land"]["path"]


def probe_score_files():
    return expand(
        "results/probes/{model}/seed{seed}/{probe}/{target}.csv",
        model=MODELS,
        seed=config["seeds"],
        probe=config["probes"]["kinds"],
        target=config["probes"]["targets"],
    )


def final_outputs():
    return [
        "results/tables/probe_summary.csv",
        "results/tables/probe_scores.csv",
        "results/tables/discharge_scores.csv",
        "results/figures/probe_r_cdf.png",
    ]
