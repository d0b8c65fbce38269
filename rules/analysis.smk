# What the states hold, dimension by dimension (issue 4): per (model, seed, features) the pooled
# linear probe's standardised weights per target, each dimension's correlation with each target
# and a PCA of the states; then weight-strip figures and one PCA table. Reads each states store
# once (seconds); see hydroprobe.state_analysis.

ANALYSIS_DIR = "results/analysis/{model}/seed{seed}/{features}"


# (model, seed, features) of every analysed states store, in a fixed order
ANALYSIS_STORES = [[model, seed, features] for model in MODELS for seed in config["seeds"]
                   for features in config["probes"]["features"]]


rule analyse_cell_states:
    input:
        states="results/cell_states/{model}/seed{seed}.zarr",
        dataset="results/basin_dataset.zarr",
    output:
        weights=f"{ANALYSIS_DIR}/probe_weights.csv",
        correlations=f"{ANALYSIS_DIR}/dimension_correlations.csv",
        pca=f"{ANALYSIS_DIR}/pca.csv",
    wildcard_constraints:
        features="cell|hidden",
    params:
        targets=list(config["probes"]["targets"]),
        ridge=config["probes"]["ridge"],
        train_period=config["periods"]["train"],
        test_period=config["periods"]["test"],
        n_components=config["probes"]["pca_components"],
    log:
        "logs/analyse_cell_states/{model}_seed{seed}_{features}.log",
    benchmark:
        "results/benchmarks/analyse_cell_states/{model}_seed{seed}_{features}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/analyse_cell_states.py"


rule plot_probe_weights:
    input:
        weights=expand(f"{ANALYSIS_DIR}/probe_weights.csv", model=MODELS, allow_missing=True),
        correlations=expand(f"{ANALYSIS_DIR}/dimension_correlations.csv", model=MODELS, allow_missing=True),
    output:
        report("results/figures/probe_weights_seed{seed}_{features}.png", caption="../report/probe_weights.rst",
               category="Probes"),
    wildcard_constraints:
        features="cell|hidden",
    params:
        models=MODELS,
    log:
        "logs/plot_probe_weights/seed{seed}_{features}.log",
    benchmark:
        "results/benchmarks/plot_probe_weights/seed{seed}_{features}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/plot_probe_weights.py"


rule pca_summary:
    input:
        [f"results/analysis/{model}/seed{seed}/{features}/pca.csv" for model, seed, features in ANALYSIS_STORES],
    output:
        "results/tables/pca_summary.csv",
    params:
        stores=ANALYSIS_STORES,
    log:
        "logs/pca_summary.log",
    benchmark:
        "results/benchmarks/pca_summary.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/pca_summary.py"
