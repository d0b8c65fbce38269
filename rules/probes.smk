# A probe per (model, seed, features, probe kind, control, target): fitted on the train period,
# scored per basin on the test period. Paths: see PROBE_SCORE_PATTERN in common.smk.


rule fit_probe:
    input:
        states="results/cell_states/{model}/seed{seed}.zarr",
        dataset="results/basin_dataset.zarr",
    output:
        "results/probes/{model}/seed{seed}/{features}/{probe}/{control}/{target}.csv",
    wildcard_constraints:
        features="cell|hidden",
        control="none|shuffle|shift",
    params:
        **probe_params(),
    log:
        "logs/fit_probe/{model}_seed{seed}_{features}_{probe}_{control}_{target}.log",
    benchmark:
        "results/benchmarks/fit_probe/{model}_seed{seed}_{features}_{probe}_{control}_{target}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/fit_probe.py"


# The raw-input baseline: the same probe on the last input_lags days of precipitation (inputs)
# or of every dynamic input (inputs_all), read from the basin dataset; no LSTM involved.
rule fit_input_probe:
    input:
        dataset="results/basin_dataset.zarr",
    output:
        "results/probes/inputs/seed{seed}/raw/{probe}/{control}/{target}.csv",
    wildcard_constraints:
        control="inputs|inputs_all",
    params:
        **probe_params(),
    log:
        "logs/fit_probe/inputs_seed{seed}_raw_{probe}_{control}_{target}.log",
    benchmark:
        "results/benchmarks/fit_probe/inputs_seed{seed}_raw_{probe}_{control}_{target}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/fit_probe.py"
