# Config validation, the paths that depend on the data source, wildcard constraints.
from pathlib import Path

from hydroprobe.config import load_schema, read_basins_file, validate_config
from hydroprobe.probes import grid as probe_grid

# Defaults filled in and every key checked; an error names the key and stops the run.
config.update(validate_config(config, load_schema(Path(workflow.basedir) / "schemas" / "config.schema.yaml")))

SYNTHETIC_DIR = "resources/synthetic"
CAMELS_GB_DOWNLOAD_DIR = "resources/camels_gb"
CARAVAN_DOWNLOAD_DIR = "resources/caravan"
ERA5_LAND_DOWNLOAD_DIR = "resources/era5_land"  # daily files, the layout open_era5_land reads
ERA5_LAND_HOURLY_DIR = "resources/era5_land_hourly"  # raw hourly months (temporary), outside the glob above
MODELS = list(probe_grid.LSTM_MODELS)  # the LSTMs whose states are extracted and probed


# basins_file becomes the basin list the rules see (a change of the file's content re-runs them).
if config.get("basins_file"):
    config["basins"] = read_basins_file(
        config["basins_file"], workflow.basedir, numeric_ids=config["source"] != "caravan"
    )


wildcard_constraints:
    seed=r"\d+",
    short=r"swvl[1-4]|sd",
    year=r"\d{4}",
    month=r"\d{2}",
    model=probe_grid.one_of(MODELS),
    probe=probe_grid.one_of(config["probes"]["kinds"]),
    target=probe_grid.one_of(config["probes"]["targets"]),
    features=probe_grid.one_of([*probe_grid.FEATURE_VARIABLES, probe_grid.INPUT_FEATURES]),
    control=probe_grid.one_of([probe_grid.NO_CONTROL, *probe_grid.CONTROLS]),


def caravan_dir():
    """The Caravan folder: the user's copy, or downloaded from Zenodo when caravan.path is null."""
    return config["caravan"].get("path") or CARAVAN_DOWNLOAD_DIR


def camels_gb_dir():
    """The CAMELS-GB folder: written by the synthetic world, downloaded, or the user's own copy."""
    if config["source"] == "synthetic":
        return f"{SYNTHETIC_DIR}/camels_gb"
    if config["source"] == "download" and not config["camels_gb"].get("path"):
        return CAMELS_GB_DOWNLOAD_DIR
    return config["camels_gb"]["path"]


def downloads_era5_land():
    return config["source"] == "download" and not config["era5_land"].get("path")


def era5_land_dir():
    """The folder of ERA5-Land NetCDF files (one sub-folder per variable)."""
    if config["source"] == "synthetic":
        return f"{SYNTHETIC_DIR}/era5_land"
    if downloads_era5_land():
        return ERA5_LAND_DOWNLOAD_DIR
    return config["era5_land"]["path"]


def era5_land_pieces():
    """(short_name, year, month or None) of every CDS request, in the configured mode."""
    dl = config["era5_land"]["download"]
    first, last = dl["years"]
    months = range(1, 13) if dl["mode"] == "hourly" else [None]
    return [
        (short, year, month)
        for short in config["era5_land"]["variables"]
        for year in range(first, last + 1)
        for month in months
    ]


def era5_land_input():
    """The ERA5-Land input of a rule: the folder, or (downloaded) the list of its daily files.

    The rule scripts take the folder of a list as the parent of its files' variable folders.
    """
    if not downloads_era5_land():
        return era5_land_dir()
    return [
        f"{ERA5_LAND_DOWNLOAD_DIR}/{short}/era5_land_{short}_{year:04d}{'' if month is None else f'{month:02d}'}.nc"
        for short, year, month in era5_land_pieces()
    ]


# Probe jobs (the grid: hydroprobe.probes.grid): the trained and untrained LSTM's states
# without control, the controls shuffle/shift on the trained states, and the raw-input baselines
# (model inputs, features raw, controls inputs/inputs_all).
def probe_score_files():
    probes = config["probes"]
    return probe_grid.probe_score_files(
        seeds=config["seeds"],
        features=probes["features"],
        kinds=probes["kinds"],
        targets=probes["targets"],
        controls=probes["controls"],
    )


def discharge_member_states(wildcards):
    """The trained cell-state stores (which carry the discharge simulation) of one seed, or of
    every seed for the seed ensemble."""
    seeds = config["seeds"] if wildcards.member == "ensemble" else [wildcards.member.removeprefix("seed")]
    return expand("results/cell_states/trained/seed{seed}.zarr", seed=seeds)


def probe_params():
    """The probe settings every probe job reads (a change reruns the probes, never training)."""
    probes = config["probes"]
    return dict(
        ridge=probes["ridge"],
        target_scaling=probes["target_scaling"],
        seed=probes["seed"],
        shift_days=probes["shift_days"],
        input_lags=probes["input_lags"],
        snow_threshold=probes["snow_threshold"],
        train_period=config["periods"]["train"],
        test_period=config["periods"]["test"],
    )


def final_outputs():
    return [
        "results/tables/probe_summary.csv",
        "results/tables/probe_scores.csv",
        "results/tables/probe_selectivity.csv",
        "results/tables/probe_ensemble.csv",
        "results/tables/discharge_scores.csv",
        "results/figures/probe_r_cdf.png",
        # what the states hold per dimension (rules/probes.smk): weight strips and PCA table
        *expand(
            "results/figures/probe_weights_seed{seed}_{features}.png",
            seed=config["seeds"],
            features=config["probes"]["features"],
        ),
        "results/tables/pca_summary.csv",
    ]
