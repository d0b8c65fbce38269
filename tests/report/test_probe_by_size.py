"""Probes by hidden size: a sweep model's rows are the epochs machinery's rows of the same
checkpoint (untrained = epoch 0, trained = the last epoch), a checkpoint of another size is named,
and the table and figure hold what the rows say."""

import numpy as np
import pandas as pd
import pytest
from toy_worlds import BUCKET_PERIODS, train_bucket_lstm

from hydroprobe.errors import InputDataError
from hydroprobe.probes.epochs import probe_epoch
from hydroprobe.probes.sizes import SIZE_COLUMNS, probe_size
from hydroprobe.report.sizes import NSE_FLOOR, plot_probe_by_size, probe_by_size_table

EPOCHS = 2
HIDDEN = 5
PERIODS = BUCKET_PERIODS
PROBING = dict(
    seed=1,
    targets=["swvl1"],
    periods=PERIODS,
    batch_windows=256,
    probe_settings=dict(
        ridge=1e-6,
        target_scaling="global",
        seed=0,
        shift_days=180,
        input_lags=8,
        snow_threshold=0.05,
        train_period=PERIODS["train"],
        test_period=PERIODS["test"],
    ),
    threads=1,
)


@pytest.fixture(scope="module")
def sized_model(tmp_path_factory):
    """A 5-unit LSTM of 2 epochs on the bucket world: (dataset, model folder)."""
    folder = tmp_path_factory.mktemp("h5")
    return train_bucket_lstm(folder, hidden_size=HIDDEN, epochs=EPOCHS), folder


def test_rows_equal_the_epoch_rows_of_the_same_checkpoints(sized_model, tmp_path):
    dataset, folder = sized_model
    for model, epoch in (("untrained", 0), ("trained", EPOCHS)):
        checkpoint = folder / f"{model}.pt"
        row = probe_size(checkpoint, dataset, hidden_size=HIDDEN, model=model, work_dir=tmp_path, **PROBING)
        same = probe_epoch(checkpoint, dataset, epoch=epoch, work_dir=tmp_path, **PROBING)
        assert list(row.columns) == SIZE_COLUMNS
        assert row[["seed", "hidden_size", "model", "target"]].values.tolist() == [
            [1, HIDDEN, model, "swvl1"]
        ]
        columns = ["median_r", "median_nse", "discharge_median_nse"]
        np.testing.assert_allclose(row[columns].to_numpy(float), same[columns].to_numpy(float), atol=1e-12)
    assert not list(tmp_path.iterdir())  # the temporary states are gone


def test_checkpoint_of_another_size_is_named(sized_model, tmp_path):
    dataset, folder = sized_model
    with pytest.raises(InputDataError, match=r"trained.pt: an LSTM of hidden size 5, not 8 as its place"):
        probe_size(
            folder / "trained.pt", dataset, hidden_size=8, model="trained", work_dir=tmp_path, **PROBING
        )


def _rows(seed, size, model, r, discharge):
    return pd.DataFrame(
        {
            "seed": seed,
            "hidden_size": size,
            "model": model,
            "target": ["sd", "swvl1"],
            "median_r": [r - 0.1, r],
            "median_nse": [0.0, 0.1],
            "discharge_median_nse": discharge,
        }
    )


def test_table_is_sorted_by_model_size_seed_and_the_papers_target_order():
    table = probe_by_size_table(
        [
            _rows(1, 64, "untrained", 0.3, -2.0),
            _rows(2, 4, "trained", 0.5, 0.4),
            _rows(1, 64, "trained", 0.8, 0.7),
        ]
    )
    assert list(table.columns) == SIZE_COLUMNS
    assert table[["model", "hidden_size", "seed", "target"]].values.tolist() == [
        ["trained", 4, 2, "swvl1"],
        ["trained", 4, 2, "sd"],
        ["trained", 64, 1, "swvl1"],
        ["trained", 64, 1, "sd"],
        ["untrained", 64, 1, "swvl1"],
        ["untrained", 64, 1, "sd"],
    ]
    assert table["median_r"].tolist() == pytest.approx([0.5, 0.4, 0.8, 0.7, 0.3, 0.2])


def test_table_names_a_row_file_without_the_columns():
    with pytest.raises(InputDataError, match=r"h4/seed1_trained.csv: lacks the column\(s\) hidden_size"):
        probe_by_size_table(
            [_rows(1, 4, "trained", 0.4, 0.1).drop(columns="hidden_size")], ["h4/seed1_trained.csv"]
        )


def test_figure_draws_seeds_as_points_and_their_median_on_a_log_size_axis(tmp_path, keep_figure):
    frames = [
        _rows(seed, size, model, r, nse)
        for seed, shift in ((1, 0.0), (2, 0.1), (3, 0.3))
        for size in (4, 16, 64)
        for model, r, nse in (
            ("trained", 0.4 + size / 200 + shift, 0.5 + shift),
            ("untrained", 0.2 + shift, -5.0),
        )
    ]
    table = probe_by_size_table(frames)
    path = plot_probe_by_size(table, tmp_path / "by_size.png", [tmp_path / "by_size.svg"])
    assert path.stat().st_size > 0 and (tmp_path / "by_size.svg").stat().st_size > 0
    axes = {ax.get_title(): ax for ax in keep_figure[0].axes}
    assert {"discharge", "swvl1 (0–7 cm)", "sd (snow water eq.)"} <= set(axes)
    swvl1 = axes["swvl1 (0–7 cm)"]
    assert swvl1.get_xscale() == "log"
    trained, untrained = swvl1.get_lines()  # the medians over seeds
    assert trained.get_xdata().tolist() == [4, 16, 64]
    # seeds 1, 2, 3 lie 0, 0.1, 0.3 above the size's base: the median is seed 2's
    assert trained.get_ydata().tolist() == pytest.approx([0.52, 0.58, 0.82])
    assert untrained.get_ydata().tolist() == pytest.approx([0.3, 0.3, 0.3])
    points = swvl1.collections[0].get_offsets()  # each trained seed a point
    assert len(points) == 9
    # the untrained NSE (-5) drawn at the floor, the trained median as it is
    discharge_trained, discharge_untrained = axes["discharge"].get_lines()
    assert discharge_trained.get_ydata().tolist() == pytest.approx([0.6, 0.6, 0.6])
    assert discharge_untrained.get_ydata().tolist() == pytest.approx([NSE_FLOOR] * 3)
