"""The tiny workflow through a real SLURM: every job submitted with sbatch by the executor plugin,
and the same tables as a local run.

Needs a running cluster (`.ci/local_slurm` starts a one-node one on localhost as root); skipped
with the reason where there is none. The project's SLURM profile is used as a user would adapt
it: partitions renamed to the cluster's, the GPU request dropped, threads and memory cut to the
node's size, status polling made quick.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from workflow_helpers import ROOT, planned_jobs, run_snakemake

pytestmark = pytest.mark.workflow

TABLES = ["probe_summary.csv", "probe_selectivity.csv", "discharge_summary.csv"]


def _cluster_partition() -> str:
    """The default partition of a responding cluster, or skip."""
    if shutil.which("sinfo") is None:
        pytest.skip("no SLURM here (sinfo not found); start one with .ci/local_slurm")
    result = subprocess.run(["sinfo", "-h", "-o", "%P %T"], capture_output=True, text=True, timeout=20)
    states = [line.split() for line in result.stdout.splitlines() if line.strip()]
    usable = [p for p, state in states if state in {"idle", "mixed", "allocated"}]
    if result.returncode != 0 or not usable:
        pytest.skip(f"SLURM does not answer or has no usable node: {result.stderr.strip()[:200]}")
    defaults = [p for p in usable if p.endswith("*")]
    return (defaults or usable)[0].rstrip("*")


def _adapted_profile(partition: str, dest: Path) -> Path:
    """profiles/slurm with what a user changes for their cluster (here: a 2-core node)."""
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    profile["default-resources"].update(slurm_partition=partition, mem_mb=1000, runtime=30)
    # every rule sizes its own jobs (threads, mem_mb, runtime, gpu): cut each to the node
    rules = run_snakemake(dest.parent, ROOT / "configs" / "test_tiny.yaml", "--list-rules").stdout.split()
    profile["set-threads"] = dict.fromkeys(rules, 1)
    node = {"slurm_partition": partition, "mem_mb": 1000, "runtime": 30, "gpu": 0}  # the node has no GPU
    profile["set-resources"] = {rule: dict(node) for rule in rules}
    profile.update(
        {
            "jobs": 4,
            "latency-wait": 5,
            "slurm-init-seconds-before-status-checks": 1,
            "slurm-status-command": "squeue",
            "slurm-keep-successful-logs": True,  # the plugin deletes them otherwise: they are the evidence
        }
    )
    dest.mkdir(parents=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile))
    return dest


def _small_config(dest: Path) -> Path:
    config = yaml.safe_load((ROOT / "configs" / "test_tiny.yaml").read_text())
    config["probes"].update(targets=["swvl1", "sd"], controls=["shuffle"])
    dest.write_text(yaml.safe_dump(config))
    return dest


def _submitted_jobs(workdir: Path) -> dict[str, int]:
    """Rule -> number of jobs with a SLURM log (the plugin writes one per sbatch submission)."""
    logs = workdir / ".snakemake" / "slurm_logs"
    counts: dict[str, int] = {}
    for log in logs.rglob("*.log"):
        rule = log.relative_to(logs).parts[0].removeprefix("rule_")
        counts[rule] = counts.get(rule, 0) + 1
    return counts


def test_tiny_run_through_slurm_equals_the_local_run(tmp_path):
    partition = _cluster_partition()
    profile = _adapted_profile(partition, tmp_path / "profile")
    targets = [f"results/tables/{name}" for name in TABLES]

    local = tmp_path / "local"
    local.mkdir()
    config = _small_config(local / "config.yaml")
    # one thread per job, as on the cluster: torch's reductions then add in the same order
    threads = ["--set-threads", "train_lstm=1", "extract_cell_states=1", "aggregate_era5_land=1"]
    run_snakemake(local, config, "--cores", "2", *targets, *threads)

    cluster = tmp_path / "cluster"
    cluster.mkdir()
    config = _small_config(cluster / "config.yaml")
    planned = planned_jobs(
        run_snakemake(cluster, config, "-n", "--workflow-profile", str(profile), *targets).stdout
    )
    run_snakemake(cluster, config, "--workflow-profile", str(profile), *targets)

    local_rules = {"all"}
    expected = {rule: count for rule, count in planned.items() if rule not in local_rules}
    assert _submitted_jobs(cluster) == expected
    for name in TABLES:
        assert filecmp.cmp(
            local / "results" / "tables" / name, cluster / "results" / "tables" / name, shallow=False
        ), name
