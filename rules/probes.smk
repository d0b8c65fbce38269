# A probe per (model, seed, probe kind, target): fitted on the train period, scored per basin
# on the test period.


rule fit_probe:
    input:
        states="results/cell_states/{model}/seed{seed}.zarr",
        dataset="results/basin_dataset.zarr",
    output:
        "results/probes/{model}/seed{seed}/{probe}/{target}.csv",
    params:
        ridge=config["probes"]["ridge"],
        train_period=config["periods"]["train"],
        test_period=config["periods"]["test"],
    log:
        "logs/fit_probe/{model}_seed{seed}_{probe}_{target}.log",
    benchmark:
        "results/benchmarks/fit_probe/{model}_seed{seed}_{probe}_{target}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/fit_probe.py"
