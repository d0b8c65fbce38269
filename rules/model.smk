# One LSTM per seed (its initial weights kept as the untrained control), discharge skill,
# and the cell states of both models.


rule train_lstm:
    input:
        dataset="results/basin_dataset.zarr",
    output:
        trained="results/models/seed{seed}/trained.pt",
        untrained="results/models/seed{seed}/untrained.pt",
    params:
        model=config["model"],
        training=config["training"],
        periods=config["periods"],
    threads: 2
    log:
        "logs/train_lstm/seed{seed}.log",
    benchmark:
        "results/benchmarks/train_lstm/seed{seed}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/train_lstm.py"


# Discharge skill per basin on the validation and test periods, of one seed (member seedN) or of
# the seed ensemble's mean simulation (member ensemble).
rule evaluate_discharge:
    input:
        states=discharge_member_states,
        dataset="results/basin_dataset.zarr",
    output:
        "results/discharge/{member}.csv",
    wildcard_constraints:
        member=r"seed\d+|ensemble",
    params:
        target=config["model"]["target"],
        periods={name: config["periods"][name] for name in ("validation", "test")},
    log:
        "logs/evaluate_discharge/{member}.log",
    benchmark:
        "results/benchmarks/evaluate_discharge/{member}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/evaluate_discharge.py"


rule extract_cell_states:
    input:
        checkpoint="results/models/seed{seed}/{model}.pt",
        dataset="results/basin_dataset.zarr",
    output:
        directory("results/cell_states/{model}/seed{seed}.zarr"),
    params:
        # validation too: its discharge simulation is scored (and shifted states reach back into it)
        periods=[config["periods"][name] for name in ("train", "validation", "test")],
        batch_windows=config["states"]["batch_windows"],
    threads: 2
    log:
        "logs/extract_cell_states/{model}_seed{seed}.log",
    benchmark:
        "results/benchmarks/extract_cell_states/{model}_seed{seed}.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/extract_cell_states.py"
