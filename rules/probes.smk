# A probe per (model, seed, features, probe kind, control, target): fitted on the train period,
# scored per basin on the test period. Which probes exist: hydroprobe.probes.grid. One job per
# (model, seed, features, probe kind, control) fits every target, writing each target's score
# file: the states store is read once per job, block by block (hydroprobe.probes.job).

PROBE_JOB = "{model}_seed{seed}_{features}_{probe}_{control}"  # names the log and benchmark files
PROBE_TARGET_FILES = expand(
    probe_grid.PROBE_SCORE_PATTERN, target=config["probes"]["targets"], allow_missing=True
)


rule fit_probe:
    input:
        states="results/cell_states/{model}/seed{seed}.zarr",
        dataset="results/basin_dataset.zarr",
    output:
        PROBE_TARGET_FILES,
    log:
        f"logs/fit_probe/{PROBE_JOB}.log",
    benchmark:
        f"results/benchmarks/fit_probe/{PROBE_JOB}.tsv"
    wildcard_constraints:
        features=probe_grid.one_of(probe_grid.FEATURE_VARIABLES),
        control=probe_grid.one_of([probe_grid.NO_CONTROL, *probe_grid.STATE_CONTROLS]),
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=job_resources.probe_job_mb(config),
        runtime=30,
    params:
        **probe_params(),
        targets=list(config["probes"]["targets"]),
    script:
        "../workflow_scripts/fit_probe.py"


# The raw-input baseline: the same probe on the last input_lags days of precipitation (inputs)
# or of every dynamic input (inputs_all), read from the basin dataset; no LSTM involved.
rule fit_input_probe:
    input:
        dataset="results/basin_dataset.zarr",
    output:
        PROBE_TARGET_FILES,
    log:
        f"logs/fit_probe/{PROBE_JOB}.log",
    benchmark:
        f"results/benchmarks/fit_probe/{PROBE_JOB}.tsv"
    wildcard_constraints:
        model=probe_grid.INPUT_MODEL,
        features=probe_grid.INPUT_FEATURES,
        control=probe_grid.one_of(probe_grid.INPUT_CONTROLS),
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=job_resources.probe_job_mb(config),
        runtime=30,
    params:
        **probe_params(),
        targets=list(config["probes"]["targets"]),
    script:
        "../workflow_scripts/fit_probe.py"


# The joint probe: the state together with the inputs_all lags (features cell+inputs_all, control
# none), trained and untrained LSTM; compared with the inputs_all baseline in
# results/tables/probe_joint_gain.csv. One job fits every target on features built once (the
# lagged inputs are the costly part), writing each target's score file.
rule fit_joint_probe:
    input:
        states="results/cell_states/{model}/seed{seed}.zarr",
        dataset="results/basin_dataset.zarr",
    output:
        PROBE_TARGET_FILES,
    log:
        f"logs/fit_probe/{PROBE_JOB}.log",
    benchmark:
        f"results/benchmarks/fit_probe/{PROBE_JOB}.tsv"
    wildcard_constraints:
        features=probe_grid.one_of(probe_grid.JOINT_FEATURES),
        control=probe_grid.NO_CONTROL,
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=job_resources.probe_job_mb(config),
        runtime=30,
    params:
        **probe_params(),
        targets=list(config["probes"]["targets"]),
    script:
        "../workflow_scripts/fit_probe.py"


# What the states hold, dimension by dimension: per (model, seed, features) the pooled linear
# probe's standardised weights per target, each dimension's correlation with each target and a
# PCA of the states; then weight-strip figures and one PCA table (rules/report.smk). Reads each
# states store once (seconds); see hydroprobe.probes.analysis.

ANALYSIS_DIR = probe_grid.ANALYSIS_DIR
# [model, seed, features] of every analysed states store, in a fixed order
ANALYSIS_STORES = probe_grid.analysis_stores(config["seeds"], config["probes"]["features"])


rule analyse_cell_states:
    input:
        states="results/cell_states/{model}/seed{seed}.zarr",
        dataset="results/basin_dataset.zarr",
    output:
        weights=f"{ANALYSIS_DIR}/probe_weights.csv",
        correlations=f"{ANALYSIS_DIR}/dimension_correlations.csv",
        pca=f"{ANALYSIS_DIR}/pca.csv",
    log:
        "logs/analyse_cell_states/{model}_seed{seed}_{features}.log",
    benchmark:
        "results/benchmarks/analyse_cell_states/{model}_seed{seed}_{features}.tsv"
    wildcard_constraints:
        features=probe_grid.one_of(probe_grid.FEATURE_VARIABLES),
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=job_resources.STREAMED_JOB_MB,
        runtime=30,
    params:
        targets=list(config["probes"]["targets"]),
        ridge=config["probes"]["ridge"],
        train_period=config["periods"]["train"],
        test_period=config["periods"]["test"],
        n_components=config["probes"]["pca_components"],
    script:
        "../workflow_scripts/analyse_cell_states.py"
