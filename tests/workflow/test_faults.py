"""Faults a user meets end cleanly, with real snakemake processes.

A run killed with SIGKILL mid-job (aggregation, training, extraction, probe fitting) leaves a
stale lock and half-written `.tmp-*` outputs; after `snakemake --unlock` the rerun finishes
with result tables byte-identical to those of an uninterrupted run (CPU, same config). A second
run in a directory where one is running is refused. A full disk fails the job in one line naming
the output. A CDS key never reaches a log, a result or a message, even when the server echoes it
back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from small_disk import fill, small_disk
from workflow_helpers import ROOT, run_snakemake, snakemake_command

pytestmark = pytest.mark.workflow

# The tables every run ends with (and the per-basin tables written beside them).
TABLES = [
    "results/tables/probe_summary.csv",
    "results/tables/probe_scores.csv",
    "results/tables/probe_selectivity.csv",
    "results/tables/probe_ensemble.csv",
    "results/tables/discharge_scores.csv",
]
LOCKED = "Error: Directory cannot be locked."


def _fault_config() -> dict:
    """The tiny config, smaller still: one target, no controls, short epochs and one-pass
    extraction, and two epochs so that a run can be killed between the checkpoint of epoch 1 and
    the trained model."""
    config = yaml.safe_load((ROOT / "configs" / "test_tiny.yaml").read_text())
    config["training"].update(epochs=2, samples_per_epoch=1024)  # epoch 2 long enough to be caught in
    config["states"]["mode"] = "continuous"
    config["probes"].update(targets=["swvl1"], controls=[])
    config["report"]["extra_figure_formats"] = []
    return config


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A run directory holding only the generated synthetic world, copied by every run below."""
    workdir = tmp_path_factory.mktemp("world")
    (workdir / "config.yaml").write_text(yaml.safe_dump(_fault_config()))
    run_snakemake(workdir, workdir / "config.yaml", "--cores", "2", "generate_synthetic_world")
    return workdir


def _copy_of(world: Path, workdir: Path) -> Path:
    # copy2 keeps the modification times, so snakemake sees the world as up to date
    shutil.copytree(world, workdir, symlinks=True)
    return workdir


@pytest.fixture(scope="module")
def uninterrupted(world, tmp_path_factory) -> Path:
    workdir = _copy_of(world, tmp_path_factory.mktemp("uninterrupted") / "run")
    run_snakemake(workdir, workdir / "config.yaml", "--cores", "2", *TABLES)
    return workdir


@contextmanager
def _snakemake_running(workdir: Path, *args: str) -> Iterator[subprocess.Popen]:
    """A snakemake run in its own process group (so its jobs can be killed with it); its output
    goes to `snakemake.out` beside the run directory. Killed on exit if still running."""
    with open(workdir.parent / "snakemake.out", "a") as out:
        process = subprocess.Popen(
            snakemake_command(workdir, workdir / "config.yaml", "--cores", "2", *args),
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                _kill_group(process)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL snakemake and every job it started, and wait until none of them runs."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while _running_in_group(process.pid):
        assert time.monotonic() < deadline, f"processes of group {process.pid} outlived SIGKILL"
        time.sleep(0.05)


def _running_in_group(group: int) -> list[int]:
    """The processes of a process group that are not zombies (an init that does not reap
    orphans, as in some containers, leaves the killed jobs as zombies)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            running.append(int(stat.parent.name))
    return running


def _kill_when(workdir: Path, ready: Callable[[], bool], what: str, timeout_s: float = 240) -> None:
    """Run the tables' DAG in `workdir` and SIGKILL it the moment `ready()` holds."""
    with _snakemake_running(workdir, *TABLES) as process:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (workdir.parent / "snakemake.out").read_text()[-3000:]
                raise AssertionError(f"snakemake ended or stalled before {what}:\n{tail}")
            time.sleep(0.01)
        _kill_group(process)


def _temporaries(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".tmp-*-{name}"))


def _unlock(workdir: Path) -> None:
    run_snakemake(workdir, workdir / "config.yaml", "--unlock")


def _rerun_after_unlock(workdir: Path) -> None:
    _unlock(workdir)
    run_snakemake(workdir, workdir / "config.yaml", "--cores", "2", *TABLES)


def _assert_same_tables(workdir: Path, reference: Path) -> None:
    tables = sorted(p.name for p in (reference / "results/tables").glob("*.csv"))
    assert tables == sorted(p.name for p in (workdir / "results/tables").glob("*.csv"))
    assert len(tables) >= len(TABLES)
    for name in tables:
        ours, theirs = (d / "results/tables" / name for d in (workdir, reference))
        assert ours.read_bytes() == theirs.read_bytes(), f"{name} differs from the uninterrupted run"
    left = [p for p in (workdir / "results").rglob(".tmp-*")]
    assert left == [], left


def test_killed_at_every_stage_the_reruns_end_like_an_uninterrupted_run(world, uninterrupted, tmp_path):
    workdir = _copy_of(world, tmp_path / "run")
    results = workdir / "results"

    # aggregation: the killed write leaves its temporary store and snakemake's lock
    _kill_when(workdir, lambda: bool(_temporaries(results, "era5_land_basins.zarr")), "aggregation wrote")
    assert not (results / "era5_land_basins.zarr").exists()
    assert _temporaries(results, "era5_land_basins.zarr"), "the killed write left its temporary"
    refused = run_snakemake(workdir, workdir / "config.yaml", "--cores", "2", *TABLES, check=False)
    assert refused.returncode != 0
    assert LOCKED in refused.stderr and "--unlock" in refused.stderr, refused.stderr[-2000:]

    # training, between the checkpoint of epoch 1 and the trained model
    models = results / "models/seed1"
    _unlock(workdir)
    _kill_when(workdir, lambda: (models / "trained.pt.resume/epoch_001.pt").exists(), "epoch 1 was saved")
    assert "left behind by an interrupted write" in (workdir / "logs/aggregate_era5_land.log").read_text()
    assert not _temporaries(results, "era5_land_basins.zarr")
    assert not (models / "trained.pt").exists()

    # extraction of the cell states, then probe fitting
    states = results / "cell_states"
    _unlock(workdir)
    _kill_when(workdir, lambda: bool(list(states.glob("*/.tmp-*-seed1.zarr"))), "extraction wrote")
    log = (workdir / "logs/train_lstm/seed1.log").read_text()
    assert "resuming from the checkpoint of epoch" in log, log
    assert not (models / "trained.pt.resume").exists()
    probe_logs = workdir / "logs/fit_probe"
    _unlock(workdir)
    _kill_when(workdir, lambda: probe_logs.is_dir() and any(probe_logs.iterdir()), "a probe started")

    _rerun_after_unlock(workdir)
    _assert_same_tables(workdir, uninterrupted)


def test_a_full_disk_fails_the_job_in_one_line_naming_the_output(uninterrupted, tmp_path):
    workdir = _copy_of(uninterrupted, tmp_path / "run")
    tables = workdir / "results/tables"
    shutil.rmtree(tables)
    with small_disk(tables, size="64k") as disk:
        filler = fill(disk)
        failed = run_snakemake(workdir, workdir / "config.yaml", "--cores", "2", *TABLES, check=False)
        left = list(disk.iterdir())
    assert failed.returncode != 0
    log = (workdir / "logs/summarise_probes.log").read_text()
    line = next(line for line in log.splitlines() if line.startswith("ERROR"))
    assert line.startswith("ERROR OutputWriteError: cannot write results/tables/probe_")
    assert "No space left on device - free space on that disk" in line
    assert "Traceback" not in log
    assert line in failed.stderr  # the profile's show-failed-logs puts it under snakemake's error
    assert left == [filler]  # no partial table, no temporary
    locks = workdir / ".snakemake/locks"
    assert not (locks.is_dir() and any(locks.iterdir())), (
        "a failed job left the lock: rerun would need --unlock"
    )


def test_a_second_run_in_the_same_directory_is_refused(world, tmp_path):
    workdir = _copy_of(world, tmp_path / "run")
    with _snakemake_running(workdir, *TABLES) as first:
        # the first run holds the lock once it writes its lock files
        locks = workdir / ".snakemake/locks"
        deadline = time.monotonic() + 120
        while not (locks.is_dir() and any(locks.iterdir())):
            assert first.poll() is None and time.monotonic() < deadline, "the first run never locked"
            time.sleep(0.05)
        second = run_snakemake(workdir, workdir / "config.yaml", "--cores", "2", *TABLES, check=False)
        assert first.poll() is None, "the first run ended before the second was refused"
    assert second.returncode != 0
    assert LOCKED in second.stderr, second.stderr[-2000:]
    assert "no other Snakemake process is trying to create the same files" in second.stderr


# ------------------------------------------------------------------------------ credentials

FAKE_KEY = "fake-cds-token-5f0c2a9e-4b7d-41e6-93aa-0d1e2f3a4b5c"
KEY_PIECES = [FAKE_KEY, "5f0c2a9e-4b7d", "93aa-0d1e2f3a4b5c"]  # a cut or wrapped key leaks too


class _EchoingCds(BaseHTTPRequestHandler):
    """A CDS that refuses every request with 401, echoing the token it was sent in the body,
    a header and the reason, as a careless server might."""

    seen: list[dict] = []

    def _refuse(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = dict(self.headers.items())
        type(self).seen.append({"method": self.command, "path": self.path, "headers": headers})
        token = headers.get("PRIVATE-TOKEN") or headers.get("Authorization") or "(none)"
        body = json.dumps(
            {"title": f"invalid token {token}", "detail": f"the token {token} is not valid", "status": 401}
        ).encode()
        self.send_response(401, f"Unauthorized token {token}")
        self.send_header("Content-Type", "application/json")
        self.send_header("WWW-Authenticate", f"Bearer token={token}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _refuse  # noqa: N815 (the names http.server calls)

    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def _cds_echoing_the_key() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingCds)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def _nothing_listens() -> str:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        port = server.server_address[1]
    return f"http://127.0.0.1:{port}/api"  # closed again: connections are refused


@pytest.mark.parametrize("service", ["refusing_connections", "echoing_the_key"])
def test_the_cds_key_never_reaches_a_log_result_or_message(service, tmp_path, monkeypatch):
    workdir = tmp_path / "run"
    workdir.mkdir()
    config = _fault_config()
    config.update(source="download", camels_gb={"path": str(ROOT / "tests/data/camels_gb")})
    config["era5_land"] = {
        "path": None,
        "variables": ["swvl1"],
        "download": {"mode": "daily", "years": [2000, 2000], "attempts": 1, "backoff_s": 0},
    }
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("CDSAPI_KEY", FAKE_KEY)
    monkeypatch.setenv("CDSAPI_RC", str(tmp_path / "no.cdsapirc"))
    _EchoingCds.seen = []
    target = "resources/era5_land/swvl1/era5_land_swvl1_2000.nc"
    if service == "echoing_the_key":
        with _cds_echoing_the_key() as url:
            monkeypatch.setenv("CDSAPI_URL", url)
            done = run_snakemake(workdir, configfile, "--cores", "1", target, check=False)
        assert any(FAKE_KEY in json.dumps(request) for request in _EchoingCds.seen), (
            "the download never reached the server with the key",
            done.stderr[-2000:],
        )
    else:
        monkeypatch.setenv("CDSAPI_URL", _nothing_listens())
        done = run_snakemake(workdir, configfile, "--cores", "1", target, check=False)

    assert done.returncode != 0
    log = workdir / "logs/download_era5_land/swvl1_2000.log"
    assert log.exists() and "ERROR" in log.read_text(), done.stderr[-2000:]
    if service == "echoing_the_key":
        assert "401" in log.read_text()  # the server's answer, echoed key and all, reached the log
    assert not (workdir / target).exists()
    assert not any(piece in done.stdout + done.stderr for piece in KEY_PIECES)
    leaks = [
        path.relative_to(workdir)
        for path in workdir.rglob("*")
        if path.is_file() and any(piece.encode() in path.read_bytes() for piece in KEY_PIECES)
    ]
    assert leaks == [], f"the CDS key was written to {leaks}"
