# The cell states (and discharge simulation) of every model, per basin and day.


rule extract_cell_states:
    input:
        checkpoint="results/models/seed{seed}/{model}.pt",
        dataset="results/basin_dataset.zarr",
    output:
        directory("results/cell_states/{model}/seed{seed}.zarr"),
    log:
        "logs/extract_cell_states/{model}_seed{seed}.log",
    benchmark:
        "results/benchmarks/extract_cell_states/{model}_seed{seed}.tsv"
    # first when ready: both models' extractions before the one-core probe jobs, which then pair up
    priority: 10
    conda:
        "../envs/hydroprobe.yaml"
    threads: 8
    resources:
        mem_mb=job_resources.EXTRACTION_MB,
        runtime=job_resources.extraction_runtime_min(config),
        gpu=1,
    params:
        # keyword arguments of hydroprobe.states.extract.extract_cell_states (passed through);
        # periods: validation too: its discharge simulation is scored (and shifted states reach back into it)
        periods=[config["periods"][name] for name in ("train", "validation", "test")],
        batch_windows=config["states"]["batch_windows"],
        mode=config["states"]["mode"],
    script:
        "../workflow_scripts/extract_cell_states.py"
