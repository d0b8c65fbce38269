# Benchmark tables and figures from the per-job outputs.


rule summarise_probes:
    input:
        probe_score_files(),
    output:
        scores="results/tables/probe_scores.csv",
        summary="results/tables/probe_summary.csv",
        selectivity="results/tables/probe_selectivity.csv",
        selectivity_basins="results/tables/probe_selectivity_basins.csv",
        ensemble="results/tables/probe_ensemble.csv",
    log:
        "logs/summarise_probes.log",
    benchmark:
        "results/benchmarks/summarise_probes.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/summarise_probes.py"


rule plot_probe_cdfs:
    input:
        "results/tables/probe_scores.csv",
    output:
        report("results/figures/probe_r_cdf.png", caption="../report/probe_r_cdf.rst", category="Probes"),
    params:
        features=config["probes"]["features"][0],
    log:
        "logs/plot_probe_cdfs.log",
    benchmark:
        "results/benchmarks/plot_probe_cdfs.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/plot_probe_cdfs.py"


rule discharge_table:
    input:
        expand("results/discharge/seed{seed}.csv", seed=config["seeds"]),
        "results/discharge/ensemble.csv",
    output:
        scores="results/tables/discharge_scores.csv",
        summary="results/tables/discharge_summary.csv",
    log:
        "logs/discharge_table.log",
    benchmark:
        "results/benchmarks/discharge_table.tsv"
    conda:
        "../envs/hydroprobe.yaml"
    script:
        "../workflow_scripts/discharge_table.py"
