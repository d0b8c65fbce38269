# Tables and figures from the per-job outputs: probes, what the states hold per dimension, and
# discharge skill.


rule summarise_probes:
    input:
        probe_score_files(),
    output:
        scores="results/tables/probe_scores.csv",
        summary=report(
            "results/tables/probe_summary.csv", caption="../report/probe_summary.rst", category="Probes"
        ),
        selectivity=report(
            "results/tables/probe_selectivity.csv",
            caption="../report/probe_selectivity.rst",
            category="Controls",
        ),
        selectivity_basins="results/tables/probe_selectivity_basins.csv",
        ensemble="results/tables/probe_ensemble.csv",
        joint_gain=report(
            "results/tables/probe_joint_gain.csv",
            caption="../report/probe_joint_gain.rst",
            category="Controls",
        ),
    log:
        "logs/summarise_probes.log",
    benchmark:
        "results/benchmarks/summarise_probes.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        bootstrap=config["report"]["bootstrap"],
    script:
        "../workflow_scripts/summarise_probes.py"


rule plot_probe_cdfs:
    input:
        "results/tables/probe_scores.csv",
    output:
        **figure_outputs("results/figures/probe_r_cdf", "../report/probe_r_cdf.rst", "Probes"),
    log:
        "logs/plot_probe_cdfs.log",
    benchmark:
        "results/benchmarks/plot_probe_cdfs.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        features=config["probes"]["features"][0],
    script:
        "../workflow_scripts/plot_probe_cdfs.py"


rule plot_probe_weights:
    input:
        weights=expand(f"{ANALYSIS_DIR}/probe_weights.csv", model=MODELS, allow_missing=True),
        correlations=expand(f"{ANALYSIS_DIR}/dimension_correlations.csv", model=MODELS, allow_missing=True),
    output:
        **figure_outputs(
            "results/figures/probe_weights_seed{seed}_{features}",
            "../report/probe_weights.rst",
            "Cell state",
        ),
    log:
        "logs/plot_probe_weights/seed{seed}_{features}.log",
    benchmark:
        "results/benchmarks/plot_probe_weights/seed{seed}_{features}.tsv"
    wildcard_constraints:
        features=probe_grid.one_of(probe_grid.FEATURE_VARIABLES),
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        models=MODELS,
    script:
        "../workflow_scripts/plot_probe_weights.py"


rule pca_summary:
    input:
        [
            f"{ANALYSIS_DIR.format(model=model, seed=seed, features=features)}/pca.csv"
            for model, seed, features in ANALYSIS_STORES
        ],
    output:
        report("results/tables/pca_summary.csv", caption="../report/pca_summary.rst", category="Cell state"),
    log:
        "logs/pca_summary.log",
    benchmark:
        "results/benchmarks/pca_summary.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        stores=ANALYSIS_STORES,
    script:
        "../workflow_scripts/pca_summary.py"


# Discharge skill per basin on the validation and test periods, of one seed (member seedN) or of
# the seed ensemble's mean simulation (member ensemble).
rule evaluate_discharge:
    input:
        states=discharge_member_states,
        dataset="results/basin_dataset.zarr",
    output:
        "results/discharge/{member}.csv",
    log:
        "logs/evaluate_discharge/{member}.log",
    benchmark:
        "results/benchmarks/evaluate_discharge/{member}.tsv"
    wildcard_constraints:
        member=r"seed\d+|ensemble",
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=job_resources.mem_mb(config, fixed_mb=1000, bytes_per_basin_day=64, per="periods"),
        runtime=30,
    params:
        target=config["model"]["target"],
        periods={name: config["periods"][name] for name in ("validation", "test")},
    script:
        "../workflow_scripts/evaluate_discharge.py"


rule discharge_table:
    input:
        expand("results/discharge/seed{seed}.csv", seed=config["seeds"]),
        "results/discharge/ensemble.csv",
    output:
        scores="results/tables/discharge_scores.csv",
        summary=report(
            "results/tables/discharge_summary.csv",
            caption="../report/discharge_summary.rst",
            category="Discharge",
        ),
    log:
        "logs/discharge_table.log",
    benchmark:
        "results/benchmarks/discharge_table.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/discharge_table.py"


# The gaps in the input data the run went on with, as the basin dataset carries them
# (hydroprobe.data_warnings): one row each, only the header when there are none.
rule data_warnings_table:
    input:
        "results/basin_dataset.zarr",
    output:
        report("results/tables/data_warnings.csv", caption="../report/data_warnings.rst", category="Data"),
    log:
        "logs/data_warnings_table.log",
    benchmark:
        "results/benchmarks/data_warnings_table.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/data_warnings_table.py"


# Maps of the catchments: CAMELS-GB polygons over the ERA5-Land land cells, or Caravan gauges.
rule plot_maps:
    input:
        **map_source_inputs(),
        scores="results/tables/probe_scores.csv",
        discharge="results/tables/discharge_scores.csv",
        dataset="results/basin_dataset.zarr",
    output:
        **figure_outputs(
            "results/figures/map_catchments", "../report/maps_catchments.rst", "Data", prefix="data_"
        ),
        **figure_outputs("results/figures/map_probe_r", "../report/maps_probe_r.rst", "Probes", prefix="r_"),
        **figure_outputs(
            "results/figures/map_selectivity_untrained",
            "../report/maps_selectivity.rst",
            "Controls",
            prefix="dr_",
        ),
        **figure_outputs(
            "results/figures/map_discharge_nse",
            "../report/maps_discharge_nse.rst",
            "Discharge",
            prefix="nse_",
        ),
    log:
        "logs/plot_maps.log",
    benchmark:
        "results/benchmarks/plot_maps.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=job_resources.mem_mb(config, fixed_mb=2000),
        runtime=30,
    params:
        source=config["source"],
        subdataset=config.get("caravan", {}).get("subdataset"),
        seed=config["seeds"][0],
        features=config["probes"]["features"][0],
        probe=probe_grid.figure_probe_kind(config["probes"]["kinds"]),
        snow_threshold=config["probes"]["snow_threshold"],
    script:
        "../workflow_scripts/plot_maps.py"


# Time series of a few basins (config report.series_basins, or the best, median and worst by the
# trained probe's r): one figure of the stores per basin, one of discharge with a row per basin.
from hydroprobe.report.series_basins import series_slots

SERIES_SLOTS = series_slots(config["report"]["series_basins"])
SERIES_PROBE = probe_grid.figure_probe_kind(config["probes"]["kinds"])


# its outputs: a figure of the stores per slot (`{slot}_png`), the discharge rows (`discharge_png`)
SERIES_FIGURES = figure_outputs(
    "results/figures/series_discharge_seed{seed}",
    "../report/series_discharge.rst",
    "Discharge",
    subcategory="Time series",
    prefix="discharge_",
)
for slot in SERIES_SLOTS:
    SERIES_FIGURES |= figure_outputs(
        f"results/figures/series_seed{{seed}}_{slot}",
        "../report/series.rst",
        "Probes",
        subcategory="Time series",
        prefix=f"{slot}_",
    )


rule plot_series:
    input:
        states=expand("results/cell_states/{model}/seed{{seed}}.zarr", model=MODELS),
        dataset="results/basin_dataset.zarr",
        scores="results/tables/probe_scores.csv",
    output:
        **SERIES_FIGURES,
    log:
        "logs/plot_series/seed{seed}.log",
    benchmark:
        "results/benchmarks/plot_series/seed{seed}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=job_resources.STREAMED_JOB_MB,
        runtime=60,
    params:
        models=MODELS,
        slots=SERIES_SLOTS,
        probe=SERIES_PROBE,
        features=config["probes"]["features"][0],
        targets=config["probes"]["targets"],
        target=config["model"]["target"],
        ridge=config["probes"]["ridge"],
        target_scaling=config["probes"]["target_scaling"],
        # the probes' own seed: used by the mlp and sgd_elasticnet fits only
        probe_seed=None if SERIES_PROBE in ("linear", "linear_offsets") else config["probes"]["seed"],
        train_period=config["periods"]["train"],
        test_period=config["periods"]["test"],
    script:
        "../workflow_scripts/plot_series.py"


# Figures from the probe tables: the trained LSTM beside every control (r and Δr), the seeds'
# median r, and the snow basins' sd r; first probe kind and features, every seed pooled.
rule plot_probe_comparisons:
    input:
        scores="results/tables/probe_scores.csv",
        selectivity_basins="results/tables/probe_selectivity_basins.csv",
    output:
        **figure_outputs(
            "results/figures/probe_controls_r",
            "../report/probe_controls_r.rst",
            "Controls",
            prefix="controls_r_",
        ),
        **figure_outputs(
            "results/figures/probe_controls_delta_r",
            "../report/probe_controls_delta_r.rst",
            "Controls",
            prefix="controls_delta_r_",
        ),
        **figure_outputs(
            "results/figures/probe_seeds", "../report/probe_seeds.rst", "Probes", prefix="seeds_"
        ),
        **figure_outputs("results/figures/probe_snow", "../report/probe_snow.rst", "Probes", prefix="snow_"),
    log:
        "logs/plot_probe_comparisons.log",
    benchmark:
        "results/benchmarks/plot_probe_comparisons.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        probe=config["probes"]["kinds"][0],
        features=config["probes"]["features"][0],
        snow_threshold=config["probes"]["snow_threshold"],
    script:
        "../workflow_scripts/plot_probe_comparisons.py"


# CDF over basins of the discharge NSE and KGE per period, each seed and the seed ensemble.
rule plot_discharge_cdfs:
    input:
        "results/tables/discharge_scores.csv",
    output:
        **figure_outputs("results/figures/discharge_cdf", "../report/discharge_cdf.rst", "Discharge"),
    log:
        "logs/plot_discharge_cdfs.log",
    benchmark:
        "results/benchmarks/plot_discharge_cdfs.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        periods={name: config["periods"][name] for name in ("validation", "test")},
    script:
        "../workflow_scripts/plot_discharge_cdfs.py"


# Explained variance per principal component of the states, trained vs untrained (first seed
# and features).
rule plot_pca_variance:
    input:
        "results/tables/pca_summary.csv",
    output:
        **figure_outputs("results/figures/pca_variance", "../report/pca_variance.rst", "Cell state"),
    log:
        "logs/plot_pca_variance.log",
    benchmark:
        "results/benchmarks/plot_pca_variance.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        seed=config["seeds"][0],
        features=config["probes"]["features"][0],
    script:
        "../workflow_scripts/plot_pca_variance.py"
