"""Atomic outputs: a file appears complete or not at all; a failed write names its target."""

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from small_disk import small_disk

from hydroprobe.io import (
    OutputWriteError,
    atomic_output,
    remove_stale_temporaries,
    write_csv_atomic,
    write_netcdf_atomic,
    write_zarr_atomic,
)
from hydroprobe.model.checkpoints import save_checkpoint
from hydroprobe.report.plots import plot_probe_cdfs


def test_atomic_output_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    with atomic_output(target) as tmp:
        tmp.write_text("new")
        assert not target.exists()
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "new"  # the old complete file stays
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]  # no temporary left


def test_atomic_output_folder_and_nothing_written(tmp_path):
    target = tmp_path / "store"
    target.mkdir()
    (target / "old").write_text("old")
    with atomic_output(target) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new"]
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_output(target):
            pass
    assert [p.name for p in target.iterdir()] == ["new"]  # the complete folder stays
    assert [p.name for p in tmp_path.iterdir()] == ["store"]


def test_figure_is_written_whole(tmp_path):
    rng = np.random.default_rng(0)
    scores = pd.DataFrame(
        {
            "seed": 1,
            "model": np.repeat(["trained", "untrained"], 20),
            "probe": "linear",
            "control": "none",
            "target": "swvl1",
            "features": "cell",
            "subset": "all",
            "basin": np.tile(np.arange(20), 2),
            "status": "ok",
            "r": rng.uniform(0, 1, 40),
            "r2": 0.0,
            "nse": 0.0,
        }
    )
    path = plot_probe_cdfs(scores, tmp_path / "fig.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_stale_temporaries_of_the_target_go_when_it_is_next_written(tmp_path):
    """A job killed mid-write leaves `.tmp-<8 hex>-<name>`; the next write of that name removes
    it, and leaves the temporaries of every other target (and anything else hidden) alone."""
    store = tmp_path / "era5_land_basins.zarr"
    killed_store = tmp_path / ".tmp-0badc0de-era5_land_basins.zarr"
    (killed_store / "swvl1").mkdir(parents=True)
    (killed_store / "swvl1" / "c.0").write_bytes(b"half")
    killed_file = tmp_path / ".tmp-deadbeef-era5_land_basins.zarr"
    killed_file.write_text("half")
    others = [
        ".tmp-0badc0de-basin_dataset.zarr",  # another output, perhaps being written right now
        ".tmp-0badc0de-s.zarr",  # a target whose name ends the same
        ".tmp-0badc0de-era5_land_basins.zarr.bak",
        ".tmp-camels-k2j4h6",  # a tempfile folder of a download
        ".tmp-1234-era5_land_basins.zarr",  # not the writers' pattern
    ]
    for name in others:
        (tmp_path / name).write_text("keep")
    ds = xr.Dataset({"swvl1": (("basin", "time"), np.arange(6.0).reshape(2, 3))})
    write_zarr_atomic(ds, store)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([store.name, *others])
    xr.testing.assert_identical(xr.open_zarr(store, consolidated=False).load(), ds)
    assert remove_stale_temporaries(tmp_path / "absent" / "x.csv") == []


def _one_line_naming(err: BaseException, target) -> str:
    text = str(err)
    assert "\n" not in text and str(target) in text, text
    return text


def test_disk_full_while_writing_names_the_target_and_leaves_no_partial(tmp_path, monkeypatch):
    target = tmp_path / "tables" / "probe_scores.csv"
    write_csv_atomic(pd.DataFrame({"r": [0.5]}), target)

    def fill_the_disk(self, path, **kwargs):
        Path(path).write_text("basin,r\n1,0.")  # a partial row, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", fill_the_disk)
    with pytest.raises(OutputWriteError) as caught:
        write_csv_atomic(pd.DataFrame({"r": [0.9]}), target)
    text = _one_line_naming(caught.value, target)
    assert text.startswith(f"cannot write {target}: No space left on device - free space")
    assert caught.value.errno == errno.ENOSPC and isinstance(caught.value, OSError)
    assert [p.name for p in target.parent.iterdir()] == ["probe_scores.csv"]  # no temporary left
    assert target.read_text() == "r\n0.5\n"  # the previous complete table stays


def test_errors_about_other_files_pass_through_unchanged(tmp_path):
    """An unreadable input met while writing is not the output's fault: its own error stays."""
    with pytest.raises(PermissionError) as caught:
        with atomic_output(tmp_path / "out.csv") as tmp:
            tmp.write_text("x")
            raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "input.nc"))
    assert not isinstance(caught.value, OutputWriteError)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_output(tmp_path / "out.csv"):
            pass


@pytest.fixture
def disk(tmp_path):
    with small_disk(tmp_path / "disk") as mounted:
        yield mounted


def test_a_really_full_disk_names_each_kind_of_output(disk):
    big = np.random.default_rng(0).normal(size=(64, 4096))  # 2 MiB, eight times the disk
    writers = {
        "results/table.csv": lambda p: write_csv_atomic(pd.DataFrame(big), p),
        "results/basins.zarr": lambda p: write_zarr_atomic(xr.Dataset({"x": (("a", "b"), big)}), p),
        "results/weights.nc": lambda p: write_netcdf_atomic(xr.Dataset({"x": (("a", "b"), big)}), p),
        "results/models/seed1/trained.pt": lambda p: save_checkpoint({"w": torch.from_numpy(big)}, p),
    }
    for relative, write in writers.items():
        target = disk / relative
        with pytest.raises(OSError) as caught:
            write(target)
        assert caught.value.errno == errno.ENOSPC, f"{relative}: {caught.value!r}"
        assert isinstance(caught.value, OutputWriteError), f"{relative}: {caught.value!r}"
        _one_line_naming(caught.value, target)
    leftovers = [p.relative_to(disk) for p in disk.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers
    write_csv_atomic(pd.DataFrame({"r": [1.0]}), disk / "results/table.csv")  # space is back


_WRITE_AS_NOBODY = """
import sys
import pandas as pd
from hydroprobe.io import write_csv_atomic
try:
    write_csv_atomic(pd.DataFrame({"r": [1.0]}), sys.argv[1])
except Exception as err:
    print(f"{type(err).__name__}: {err}")
"""


def test_a_folder_without_write_permission_is_named(tmp_path):
    """A real permission error: as root (immune to file modes) the writer runs as `nobody`."""
    folder = Path(tempfile.mkdtemp(prefix="hydroprobe-readonly-"))  # pytest's tmp_path is private
    try:
        results = folder / "results"
        results.mkdir()
        folder.chmod(0o755)
        results.chmod(0o555)
        command = [sys.executable, "-c", _WRITE_AS_NOBODY]
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv: cannot drop to an unprivileged user")
            command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
        for target in (results / "probe_scores.csv", results / "tables" / "probe_scores.csv"):
            done = subprocess.run([*command, str(target)], capture_output=True, text=True, cwd=folder)
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith(
                f"OutputWriteError: cannot write {target}: Permission denied - make"
            )
            assert done.stdout.count("\n") == 1
        assert list(results.iterdir()) == []
    finally:
        shutil.rmtree(folder)
