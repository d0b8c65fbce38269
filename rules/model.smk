# One LSTM per seed; its initial weights are kept as the untrained control, and the weights after
# the epochs of training.keep_epochs between the first and the last (probed in rules/epochs.smk).
from hydroprobe.model.checkpoints import intermediate_epochs

with exit_on_bad_input():
    KEPT_EPOCHS = intermediate_epochs(config["training"]["keep_epochs"], config["training"]["epochs"])


rule train_lstm:
    input:
        dataset="results/basin_dataset.zarr",
    output:
        trained="results/models/seed{seed}/trained.pt",
        untrained="results/models/seed{seed}/untrained.pt",
        kept=expand("results/models/seed{{seed}}/epoch{epoch}.pt", epoch=KEPT_EPOCHS),
    log:
        "logs/train_lstm/seed{seed}.log",
    benchmark:
        "results/benchmarks/train_lstm/seed{seed}.tsv"
    # first when ready: the run waits on training, not on the one-core jobs beside it
    priority: 10
    conda:
        "../envs/hydroprobe.yaml"
    threads: 8
    resources:
        mem_mb=job_resources.mem_mb(config, fixed_mb=4000, bytes_per_basin_day=160),
        runtime=job_resources.training_runtime_min(config),
        gpu=1,
    params:
        # keyword arguments of hydroprobe.model.training.train_lstm (the script passes them through)
        model_cfg=config["model"],
        # without keep_epochs (read by the script): which epochs are kept never changes the weights,
        # so listing them does not rerun a finished training; a missing kept file does
        training_cfg={key: value for key, value in config["training"].items() if key != "keep_epochs"},
        periods=config["periods"],
    script:
        "../workflow_scripts/train_lstm.py"
