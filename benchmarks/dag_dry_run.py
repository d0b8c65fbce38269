"""How long Snakemake takes to plan the paper's full preset at the size of a real study.

configs/lees2022.yaml with N seeds and every probe kind, feature and control the schema allows,
dry-run in a scratch folder (downloads planned, nothing read). Prints the wall time of the whole
`snakemake -n` command and the number of planned jobs per rule.

    python benchmarks/dag_dry_run.py [--seeds 8]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _every(schema: dict, key: str) -> list[str]:
    return schema["properties"]["probes"]["properties"][key]["items"]["enum"]


def full_preset(seeds: int) -> dict:
    config = yaml.safe_load((ROOT / "configs" / "lees2022.yaml").read_text())
    schema = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text())
    config["seeds"] = list(range(1, seeds + 1))
    for key in ("kinds", "features", "controls"):
        config["probes"][key] = _every(schema, key)
    return config


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    table = dry_run_output.split("Job stats:", 1)[-1]
    jobs = {}
    for line in table.splitlines():
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if match:
            jobs[match.group(1)] = int(match.group(2))
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        configfile = Path(scratch) / "config.yaml"
        configfile.write_text(yaml.safe_dump(full_preset(args.seeds)))
        command = [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(ROOT / "Snakefile")]
        command += ["--directory", scratch, "--configfile", str(configfile)]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, cwd=scratch)
        seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"dry run failed:\n{result.stderr[-3000:]}")
    jobs = planned_jobs(result.stdout + result.stderr)
    total = jobs.pop("total", sum(jobs.values()))
    for rule, count in sorted(jobs.items(), key=lambda item: -item[1]):
        print(f"{rule:32s} {count:6d}")
    print(f"dry run of configs/lees2022.yaml, {args.seeds} seeds, every probe kind/feature/control:")
    print(f"{total} jobs planned in {seconds:.1f} s (target: 10 s on 2 cores)")
    probe = scontrol_seconds()
    if probe is not None:
        print(
            f"of which ~{probe:.1f} s may be the SLURM executor plugin's `scontrol show config` at import "
            "(it waits up to 10 s where SLURM is installed but no controller answers)"
        )


def scontrol_seconds() -> float | None:
    """Seconds `scontrol show config` takes here (the SLURM executor plugin runs it when Snakemake
    loads its plugins, dry runs included); None where SLURM is not installed."""
    if shutil.which("scontrol") is None:
        return None
    start = time.perf_counter()
    subprocess.run(["scontrol", "show", "config"], capture_output=True, timeout=30)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
