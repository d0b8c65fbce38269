"""Probes by training epoch: the rows of epoch 0 and of the last epoch equal the probe fitted on
the states of untrained.pt and trained.pt (continuous mode), the discharge column is the median
validation NSE, and the table and figure hold what the rows say."""

import numpy as np
import pandas as pd
import pytest
from toy_worlds import BUCKET_PERIODS, train_bucket_lstm

from hydroprobe.errors import InputDataError
from hydroprobe.io import open_zarr
from hydroprobe.metrics import nse
from hydroprobe.model.checkpoints import kept_epoch_file
from hydroprobe.probes.epochs import EPOCH_COLUMNS, probe_epoch, probed_epochs
from hydroprobe.probes.job import run_probe_job
from hydroprobe.report.epochs import plot_probe_by_epoch, probe_by_epoch_table
from hydroprobe.states.extract import extract_cell_states

EPOCHS = 3
PERIODS = BUCKET_PERIODS
PROBE_SETTINGS = dict(
    ridge=1e-6,
    target_scaling="global",
    seed=0,
    shift_days=180,
    input_lags=8,
    snow_threshold=0.05,
    train_period=PERIODS["train"],
    test_period=PERIODS["test"],
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small LSTM of 3 epochs on the bucket world, epoch 1 kept: (dataset, model folder)."""
    folder = tmp_path_factory.mktemp("models")
    dataset = train_bucket_lstm(
        folder, hidden_size=6, epochs=EPOCHS, kept_paths={1: kept_epoch_file(folder, 1, EPOCHS)}
    )
    return dataset, folder


def _epoch_row(trained, epoch, tmp_path):
    dataset, folder = trained
    return probe_epoch(
        kept_epoch_file(folder, epoch, EPOCHS),
        dataset,
        seed=1,
        epoch=epoch,
        targets=["swvl1"],
        periods=PERIODS,
        batch_windows=256,
        probe_settings=PROBE_SETTINGS,
        work_dir=tmp_path / "work",
        threads=1,
    )


def _reference(trained, checkpoint, tmp_path):
    """The probe of the workflow's probe job and the discharge NSE, on continuous-mode states of
    `checkpoint`: (median r over ok basins, median validation NSE of the simulation)."""
    dataset, folder = trained
    store = extract_cell_states(
        folder / checkpoint,
        dataset,
        periods=list(PERIODS.values()),
        out_path=tmp_path / f"{checkpoint}.zarr",
        batch_windows=256,
        threads=1,
        mode="continuous",
    )
    states = open_zarr(store).load()
    job = dict(seed=1, model="trained", features="cell", probe="linear", control="none", target="swvl1")
    scores = run_probe_job(dataset, states, job, **PROBE_SETTINGS)
    ok = scores[(scores["status"] == "ok") & (scores["subset"] == "all")]
    validation = slice(*PERIODS["validation"])
    sim = states["discharge_spec_sim"].sel(time=validation).transpose("basin", "time")
    obs = dataset["discharge_spec"].sel(time=sim["time"], basin=sim["basin"]).transpose("basin", "time")
    discharge = np.median([nse(o, s) for o, s in zip(obs.values, sim.values)])
    return float(ok["r"].median()), float(discharge)


def test_epoch_zero_and_last_rows_equal_the_untrained_and_trained_probes(trained, tmp_path):
    first, last = _epoch_row(trained, 0, tmp_path), _epoch_row(trained, EPOCHS, tmp_path)
    assert list(first.columns) == EPOCH_COLUMNS
    for row, checkpoint in ((first, "untrained.pt"), (last, "trained.pt")):
        r, discharge = _reference(trained, checkpoint, tmp_path)
        assert row["median_r"].item() == pytest.approx(r, abs=1e-12)
        assert row["discharge_median_nse"].item() == pytest.approx(discharge, abs=1e-12)
    # training changed both: the untrained model does not simulate discharge
    assert last["discharge_median_nse"].item() > first["discharge_median_nse"].item() + 0.3
    assert last["median_r"].item() != pytest.approx(first["median_r"].item(), abs=1e-3)
    assert not list((tmp_path / "work").iterdir())  # the temporary states are gone


def test_kept_epoch_row_lies_between(trained, tmp_path):
    row = _epoch_row(trained, 1, tmp_path)
    assert row[["seed", "epoch", "target"]].iloc[0].tolist() == [1, 1, "swvl1"]
    assert np.isfinite(row[["median_r", "median_nse", "discharge_median_nse"]].to_numpy(float)).all()


def test_probed_epochs_add_untrained_and_trained_only_when_asked():
    assert probed_epochs([], 20) == []
    assert probed_epochs([10, 1, 20], 20) == [0, 1, 10, 20]
    assert probed_epochs([0], 20) == [0, 20]


def _rows(seed, epoch, r, discharge):
    return pd.DataFrame(
        {
            "seed": seed,
            "epoch": epoch,
            "target": ["sd", "swvl1"],
            "median_r": [r - 0.1, r],
            "median_nse": [0.0, 0.1],
            "discharge_median_nse": discharge,
        }
    )


def test_table_is_sorted_by_seed_epoch_and_the_papers_target_order():
    table = probe_by_epoch_table([_rows(2, 0, 0.3, -1.0), _rows(1, 10, 0.8, 0.6), _rows(1, 0, 0.4, -0.9)])
    assert list(table.columns) == EPOCH_COLUMNS
    assert table[["seed", "epoch", "target"]].values.tolist() == [
        [1, 0, "swvl1"],
        [1, 0, "sd"],
        [1, 10, "swvl1"],
        [1, 10, "sd"],
        [2, 0, "swvl1"],
        [2, 0, "sd"],
    ]
    assert table["median_r"].tolist() == pytest.approx([0.4, 0.3, 0.8, 0.7, 0.3, 0.2])


def test_table_names_a_row_file_without_the_columns():
    with pytest.raises(InputDataError, match=r"seed1/epoch0.csv: lacks the column\(s\) median_r"):
        probe_by_epoch_table([_rows(1, 0, 0.4, 0.1).drop(columns="median_r")], ["seed1/epoch0.csv"])


def test_figure_draws_r_per_store_and_discharge_per_seed(tmp_path, keep_figure):
    table = probe_by_epoch_table(
        [_rows(s, e, 0.3 + 0.05 * e, -1 + 0.1 * e) for s in (1, 2) for e in (0, 2, 5)]
    )
    path = plot_probe_by_epoch(table, tmp_path / "by_epoch.png", [tmp_path / "by_epoch.svg"])
    assert path.stat().st_size > 0 and (tmp_path / "by_epoch.svg").stat().st_size > 0
    lines = {line.get_label(): line for ax in keep_figure[0].axes for line in ax.get_lines()}
    assert {"swvl1 (0–7 cm)", "sd (snow water eq.)", "discharge NSE (validation)", "seed 1", "seed 2"} <= set(
        lines
    )
    assert lines["swvl1 (0–7 cm)"].get_xdata().tolist() == [0, 2, 5]
    assert lines["swvl1 (0–7 cm)"].get_ydata().tolist() == pytest.approx([0.3, 0.4, 0.55])
    assert lines["discharge NSE (validation)"].get_ydata().tolist() == pytest.approx([-1.0, -0.8, -0.5])
