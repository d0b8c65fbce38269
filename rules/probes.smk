# A probe per (model, seed, features, probe kind, control, target): fitted on the train period,
# scored per basin on the test period. Paths: see PROBE_SCORE_PATTERN in common.smk.


rule fit_probe:
    input:
        states="results/cell_states/{model}/seed{seed}.zarr",
        dataset="results/basin_dataset.zarr",
    output:
        "results/probes/{model}/seed{seed}/{features}/{probe}/{control}/{target}.csv",
    log:
        "logs/fit_probe/{model}_seed{seed}_{features}_{probe}_{control}_{target}.log",
    benchmark:
        "results/benchmarks/fit_probe/{model}_seed{seed}_{features}_{probe}_{control}_{target}.tsv"
    wildcard_constraints:
        features="cell|hidden",
        control="none|shuffle|shift",
    conda:
        "../envs/hydroprobe.yaml"
    params:
        **probe_params(),
    script:
        "../workflow_scripts/fit_probe.py"


# The raw-input baseline: the same probe on the last input_lags days of precipitation (inputs)
# or of every dynamic input (inputs_all), read from the basin dataset; no LSTM involved.
rule fit_input_probe:
    input:
        dataset="results/basin_dataset.zarr",
    output:
        "results/probes/inputs/seed{seed}/raw/{probe}/{control}/{target}.csv",
    log:
        "logs/fit_probe/inputs_seed{seed}_raw_{probe}_{control}_{target}.log",
    benchmark:
        "results/benchmarks/fit_probe/inputs_seed{seed}_raw_{probe}_{control}_{target}.tsv"
    wildcard_constraints:
        control="inputs|inputs_all",
    conda:
        "../envs/hydroprobe.yaml"
    params:
        **probe_params(),
    script:
        "../workflow_scripts/fit_probe.py"


# What the states hold, dimension by dimension (issue 4): per (model, seed, features) the pooled
# linear probe's standardised weights per target, each dimension's correlation with each target
# and a PCA of the states; then weight-strip figures and one PCA table. Reads each states store
# once (seconds); see hydroprobe.probes.analysis.

ANALYSIS_DIR = "results/analysis/{model}/seed{seed}/{features}"


# (model, seed, features) of every analysed states store, in a fixed order
ANALYSIS_STORES = [
    [model, seed, features]
    for model in MODELS
    for seed in config["seeds"]
    for features in config["probes"]["features"]
]


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
        features="cell|hidden",
    conda:
        "../envs/hydroprobe.yaml"
    params:
        targets=list(config["probes"]["targets"]),
        ridge=config["probes"]["ridge"],
        train_period=config["periods"]["train"],
        test_period=config["periods"]["test"],
        n_components=config["probes"]["pca_components"],
    script:
        "../workflow_scripts/analyse_cell_states.py"
