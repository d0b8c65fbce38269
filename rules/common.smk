# Config validation, the source paths (hydroprobe.sources.paths, as source_paths), wildcard constraints.
from pathlib import Path

from hydroprobe import job_resources  # the rules' mem_mb and runtime, sized from the config
from hydroprobe.config import (
    exit_on_bad_input,
    load_schema,
    read_basins_file,
    split_hidden_sizes,
    validate_config,
)
from hydroprobe.probes import grid as probe_grid
from hydroprobe.sources import paths as source_paths

# Defaults filled in and every key checked; an error names the key and stops the run (one line).
# A list of hidden sizes is a sweep (rules/sizes.smk); every other rule sees the headline size.
with exit_on_bad_input():
    validated, SIZE_SWEEP = split_hidden_sizes(
        validate_config(config, load_schema(Path(workflow.basedir) / "schemas" / "config.schema.yaml"))
    )
    config.update(validated)

MODELS = list(probe_grid.LSTM_MODELS)  # the LSTMs whose states are extracted and probed


# basins_file becomes the basin list the rules see (a change of the file's content re-runs them).
if config.get("basins_file"):
    with exit_on_bad_input():
        config["basins"] = read_basins_file(
            config["basins_file"], workflow.basedir, numeric_ids=config["source"] != "caravan"
        )


wildcard_constraints:
    seed=r"\d+",
    short=r"swvl[1-4]|sd",
    year=r"\d{4}",
    model=probe_grid.one_of(MODELS),
    probe=probe_grid.one_of(config["probes"]["kinds"]),
    target=probe_grid.one_of(config["probes"]["targets"]),
    features=probe_grid.one_of(
        [*probe_grid.FEATURE_VARIABLES, probe_grid.INPUT_FEATURES, *probe_grid.JOINT_FEATURES]
    ),
    control=probe_grid.one_of([probe_grid.NO_CONTROL, *probe_grid.CONTROLS]),


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
        max_train_values=probes["max_train_values"],
        train_period=config["periods"]["train"],
        test_period=config["periods"]["test"],
    )


def figure_outputs(stem, caption, category, subcategory=None, prefix=""):
    """A figure rule's outputs: `png`, shown in the HTML report with its caption under `category`,
    and `extra`, the same figure in each of report.extra_figure_formats (pdf, svg). A rule with
    several figures merges one dict per figure, each with its own key `prefix` (`r_png`, `r_extra`)."""
    return {
        f"{prefix}png": report(f"{stem}.png", caption=caption, category=category, subcategory=subcategory),
        f"{prefix}extra": [f"{stem}.{fmt}" for fmt in config["report"]["extra_figure_formats"]],
    }


def map_source_inputs():
    """What the catchment maps draw from: the CAMELS-GB folder (boundary polygons) and ERA5-Land
    (its land cells), or the Caravan folder (gauge coordinates)."""
    if config["source"] == "caravan":
        return dict(caravan=source_paths.caravan_dir(config))
    if not source_paths.uses_era5_land(config):  # probe targets from Caravan: polygons, no land cells
        return dict(camels_gb=source_paths.camels_gb_dir(config))
    return dict(
        camels_gb=source_paths.camels_gb_dir(config),
        era5_land=source_paths.era5_land_input(config),
    )


def final_outputs():
    return [
        "results/tables/probe_summary.csv",
        "results/tables/probe_scores.csv",
        "results/tables/probe_selectivity.csv",
        "results/tables/probe_ensemble.csv",
        "results/tables/discharge_scores.csv",
        "results/tables/data_warnings.csv",
        "results/figures/probe_r_cdf.png",
        # what the states hold per dimension (rules/probes.smk): weight strips and PCA table
        *expand(
            "results/figures/probe_weights_seed{seed}_{features}.png",
            seed=config["seeds"],
            features=config["probes"]["features"],
        ),
        "results/tables/pca_summary.csv",
        # the controls, seeds, snow basins, discharge CDFs and PCA variance (rules/report.smk)
        "results/figures/probe_controls_r.png",
        "results/figures/probe_controls_delta_r.png",
        "results/figures/probe_seeds.png",
        "results/figures/probe_snow.png",
        "results/figures/discharge_cdf.png",
        "results/figures/pca_variance.png",
        # time series of a few basins (rules/report.smk: plot_series, SERIES_SLOTS)
        *expand("results/figures/series_seed{seed}_{slot}.png", seed=config["seeds"], slot=SERIES_SLOTS),
        *expand("results/figures/series_discharge_seed{seed}.png", seed=config["seeds"]),
        # maps of the catchments (rules/report.smk: plot_maps)
        "results/figures/map_catchments.png",
        "results/figures/map_probe_r.png",
        "results/figures/map_selectivity_untrained.png",
        "results/figures/map_discharge_nse.png",
    ]


# The epochs probed (rules/epochs.smk): 0 = untrained.pt, the kept ones, the last = trained.pt.
from hydroprobe.model.checkpoints import kept_epoch_file
from hydroprobe.probes.epochs import probed_epochs

with exit_on_bad_input():
    PROBED_EPOCHS = probed_epochs(config["training"]["keep_epochs"], config["training"]["epochs"])


def epoch_checkpoint(wildcards):
    """The seed's model after the epoch: untrained.pt, epoch{N}.pt or trained.pt."""
    return str(
        kept_epoch_file(f"results/models/seed{wildcards.seed}", wildcards.epoch, config["training"]["epochs"])
    )


def epoch_outputs():
    """The table and figure of the epochs, when training.keep_epochs asks for them."""
    if not PROBED_EPOCHS:
        return []
    return ["results/tables/probe_by_epoch.csv", "results/figures/probe_by_epoch.png"]


# The hidden-size sweep (rules/sizes.smk): one LSTM per size of model.hidden_size and seed.
def config_of_size(hidden):
    """The run's config with the model's hidden size replaced: what a sweep size's jobs read."""
    return {**config, "model": {**config["model"], "hidden_size": int(hidden)}}


def size_checkpoint(wildcards):
    """The trained or untrained model of a size and seed: the headline run's for the headline
    size (nothing is trained twice), the sweep's own for any other."""
    if int(wildcards.hidden) == config["model"]["hidden_size"]:
        return f"results/models/seed{wildcards.seed}/{wildcards.model}.pt"
    return f"results/sizes/h{wildcards.hidden}/models/seed{wildcards.seed}/{wildcards.model}.pt"


def size_outputs():
    """The table and figure of the sweep, when model.hidden_size lists sizes."""
    if not SIZE_SWEEP:
        return []
    return ["results/tables/probe_by_size.csv", "results/figures/probe_by_size.png"]
