# When do the concepts form: the probes of every target and the discharge skill of each seed's
# LSTM after the epochs of training.keep_epochs (0 = untrained.pt, the last = trained.pt), the
# states read out in the continuous mode (hydroprobe.probes.epochs). No job when it is empty.
wildcard_constraints:
    epoch=r"\d+",


rule probe_epoch:
    input:
        checkpoint=epoch_checkpoint,
        dataset="results/basin_dataset.zarr",
    output:
        "results/probe_epochs/seed{seed}/epoch{epoch}.csv",
    log:
        "logs/probe_epoch/seed{seed}_epoch{epoch}.log",
    benchmark:
        "results/benchmarks/probe_epoch/seed{seed}_epoch{epoch}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    threads: 2
    resources:
        mem_mb=job_resources.STREAMED_JOB_MB,
        runtime=job_resources.extraction_runtime_min(config),
    params:
        # keyword arguments of hydroprobe.probes.epochs.probe_epoch (the script passes them through)
        targets=config["probes"]["targets"],
        periods=config["periods"],
        batch_windows=config["states"]["batch_windows"],
        probe_settings=probe_params(),
    script:
        "../workflow_scripts/probe_epoch.py"


rule probe_by_epoch_table:
    input:
        expand("results/probe_epochs/seed{seed}/epoch{epoch}.csv", seed=config["seeds"], epoch=PROBED_EPOCHS),
    output:
        report(
            "results/tables/probe_by_epoch.csv",
            caption="../report/probe_by_epoch_table.rst",
            category="Probes",
        ),
    log:
        "logs/probe_by_epoch_table.log",
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/probe_by_epoch_table.py"


rule plot_probe_by_epoch:
    input:
        "results/tables/probe_by_epoch.csv",
    output:
        **figure_outputs("results/figures/probe_by_epoch", "../report/probe_by_epoch.rst", "Probes"),
    log:
        "logs/plot_probe_by_epoch.log",
    conda:
        "../envs/hydroprobe.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/plot_probe_by_epoch.py"
