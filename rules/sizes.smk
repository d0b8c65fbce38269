# Does size matter: one LSTM per hidden size of model.hidden_size (a list) and seed, trained like
# the headline model, its initial weights kept as its untrained control; every target probed and
# the discharge scored on each (states in the continuous mode, as the epochs table reads them:
# hydroprobe.probes.sizes). The headline size reads the headline run's models (size_checkpoint).
# No job when model.hidden_size is one integer.
wildcard_constraints:
    hidden=r"[1-9]\d*",


rule train_size_lstm:
    input:
        dataset="results/basin_dataset.zarr",
    output:
        trained="results/sizes/h{hidden}/models/seed{seed}/trained.pt",
        untrained="results/sizes/h{hidden}/models/seed{seed}/untrained.pt",
    log:
        "logs/train_size_lstm/h{hidden}_seed{seed}.log",
    benchmark:
        "results/benchmarks/train_size_lstm/h{hidden}_seed{seed}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 8
    resources:
        mem_mb=job_resources.mem_mb(config, fixed_mb=4000, bytes_per_basin_day=160),
        runtime=job_resources.training_runtime_min(config),
        gpu=1,
    params:
        # the keywords of train_lstm's, the model's hidden size replaced (no kept epochs)
        model_cfg=lambda wildcards: config_of_size(wildcards.hidden)["model"],
        training_cfg={key: value for key, value in config["training"].items() if key != "keep_epochs"},
        periods=config["periods"],
    script:
        "../workflow_scripts/train_lstm.py"


rule probe_size:
    input:
        checkpoint=size_checkpoint,
        dataset="results/basin_dataset.zarr",
    output:
        "results/sizes/h{hidden}/seed{seed}_{model}.csv",
    log:
        "logs/probe_size/h{hidden}_seed{seed}_{model}.log",
    benchmark:
        "results/benchmarks/probe_size/h{hidden}_seed{seed}_{model}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 2
    resources:
        mem_mb=job_resources.STREAMED_JOB_MB,
        runtime=job_resources.extraction_runtime_min(config),
    params:
        # keyword arguments of hydroprobe.probes.sizes.probe_size (the script passes them through)
        targets=config["probes"]["targets"],
        periods=config["periods"],
        batch_windows=config["states"]["batch_windows"],
        probe_settings=probe_params(),
    script:
        "../workflow_scripts/probe_size.py"


rule probe_by_size_table:
    input:
        expand(
            "results/sizes/h{hidden}/seed{seed}_{model}.csv",
            hidden=SIZE_SWEEP,
            seed=config["seeds"],
            model=MODELS,
        ),
    output:
        report(
            "results/tables/probe_by_size.csv",
            caption="../report/probe_by_size_table.rst",
            category="Probes",
        ),
    log:
        "logs/probe_by_size_table.log",
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/probe_by_size_table.py"


rule plot_probe_by_size:
    input:
        "results/tables/probe_by_size.csv",
    output:
        **figure_outputs("results/figures/probe_by_size", "../report/probe_by_size.rst", "Probes"),
    log:
        "logs/plot_probe_by_size.log",
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/plot_probe_by_size.py"
