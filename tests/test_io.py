"""Atomic outputs: a file appears complete or not at all."""

import numpy as np
import pandas as pd
import pytest

from hydroprobe.io import atomic_output
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
