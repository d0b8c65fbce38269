"""The default run (`snakemake --cores N` on the embedded sample) timed against an earlier commit's.

Both workflows run in fresh scratch folders, one after the other, each with its own checkout's
Snakefile, workflow scripts and library (`git worktree` of `--against`, its `src` first on
PYTHONPATH): the same machine and the same moment, so the ratio is what the code changed. Prints
each run's wall time, job count and the summed CPU seconds of its jobs (Snakemake's benchmark
files), then the ratios. Run it on a quiet machine: both runs are bound by the same cores.

    python benchmarks/default_run.py [--against ba96819] [--cores 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stage_table import benchmark_records  # noqa: E402  (benchmarks/ is not a package)

ROOT = Path(__file__).resolve().parents[1]
# the last commit before probe jobs fitted every target of a setting in one pass (one job and one
# full read of the states store per target before)
DEFAULT_PEER = "ba96819"


def job_cpu_seconds(run_dir: Path) -> tuple[int, float]:
    """(jobs, summed cpu_time) from a finished run's benchmark files."""
    records = benchmark_records(run_dir)
    return len(records), float(records["cpu_time"].fillna(0).sum())


def timed_run(tree: Path, cores: int, scratch: Path) -> dict:
    """One default run of the checkout `tree` in `scratch`: wall seconds, jobs, job CPU seconds."""
    scratch.mkdir(parents=True)
    shutil.copy(tree / "config.yaml", scratch / "config.yaml")
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(tree / "Snakefile")]
    command += ["--directory", str(scratch), "--cores", str(cores), "--quiet", "all"]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"{tree}: the default run failed:\n{(result.stdout + result.stderr)[-3000:]}")
    jobs, cpu = job_cpu_seconds(scratch)
    return {"wall_s": wall, "jobs": jobs, "job_cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=DEFAULT_PEER, help="the earlier commit (a git ref)")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        peer = Path(tmp) / "peer"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(peer), args.against], check=True
        )
        try:
            rows = {
                args.against: timed_run(peer, args.cores, Path(tmp) / "run_peer"),
                "this checkout": timed_run(ROOT, args.cores, Path(tmp) / "run_this"),
            }
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(peer)], check=False)
    table = pd.DataFrame(rows).T
    print(table.to_markdown(floatfmt=".1f"))
    before, now = rows[args.against], rows["this checkout"]
    print(
        f"this checkout / {args.against}: wall {now['wall_s'] / before['wall_s']:.2f}x, "
        f"job CPU {now['job_cpu_s'] / before['job_cpu_s']:.2f}x, jobs {now['jobs']} vs {before['jobs']}"
    )


if __name__ == "__main__":
    main()
