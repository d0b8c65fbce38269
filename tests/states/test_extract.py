"""Sequence-to-one cell-state extraction against a hand-rolled LSTM step loop."""

import os

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from toy_worlds import basin_world

from hydroprobe.model.checkpoints import save_checkpoint
from hydroprobe.model.lstm import HydroLSTM
from hydroprobe.model.normalisation import compute_normalisation
from hydroprobe.model.windows import build_window_data
from hydroprobe.states.extract import extract_cell_states

SEQ, HID = 15, 6
DYN, STAT = ["precipitation", "temperature"], ["area"]


def make_case(tmp_path, n_basins=3, days=120):
    start = pd.Timestamp("2001-01-01")
    end = start + pd.Timedelta(days=days - 1)
    ds = basin_world(n_basins, start, end, seed=3, basins=[7, 11, 13][:n_basins])
    ds["temperature"][2, 70] = np.nan  # a gap in basin 13
    norm = compute_normalisation(ds, DYN, STAT, "discharge_spec", ("2001-01-01", "2001-03-31"))
    torch.manual_seed(0)
    model = HydroLSTM(3, HID, 0.0, 3.0)
    cfg = {
        "n_inputs": 3,
        "hidden_size": HID,
        "output_dropout": 0.0,
        "initial_forget_bias": 3.0,
        "seq_length": SEQ,
        "predict_last_n": 1,
        "dynamic_inputs": DYN,
        "static_inputs": STAT,
        "target": "discharge_spec",
        "clip_target_at_zero": False,
    }
    path = save_checkpoint(
        {"state_dict": model.state_dict(), "model_config": cfg, "normalisation": norm.to_dict(), "seed": 0},
        tmp_path / "m.pt",
    )
    return ds, norm, model, path


def hand_rolled_c(model, x):
    """c after the last step of x (T, F) from zero state, gate equations written out."""
    H = model.hidden_size
    W_ih = model.lstm.weight_ih_l0.detach().double()
    W_hh = model.lstm.weight_hh_l0.detach().double()
    b = (model.lstm.bias_ih_l0 + model.lstm.bias_hh_l0).detach().double()
    h = torch.zeros(H, dtype=torch.float64)
    c = torch.zeros(H, dtype=torch.float64)
    for x_t in x.double():
        z = W_ih @ x_t + W_hh @ h + b
        i = torch.sigmoid(z[0:H])
        f = torch.sigmoid(z[H : 2 * H])
        g = torch.tanh(z[2 * H : 3 * H])
        o = torch.sigmoid(z[3 * H : 4 * H])
        c = f * c + i * g
        h = o * torch.tanh(c)
    return c


def test_states_match_hand_rolled_loop_and_layout(tmp_path):
    ds, norm, model, path = make_case(tmp_path)
    periods = [("2001-01-05", "2001-01-31"), ("2001-03-01", "2001-04-20")]
    out = extract_cell_states(path, ds, periods, tmp_path / "states.zarr", batch_windows=7, threads=1)
    st = xr.open_zarr(out, consolidated=False)
    c = st["c"]
    assert c.dims == ("time", "basin", "dim") and c.dtype == np.float32
    assert st.basin.dtype == np.int32 and list(st.basin.values) == [7, 11, 13]
    assert list(st.dim.values) == list(range(HID))
    expected_days = pd.date_range("2001-01-05", "2001-01-31").append(
        pd.date_range("2001-03-01", "2001-04-20")
    )
    assert pd.DatetimeIndex(st.time.values).equals(expected_days)
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.iterdir())

    data = build_window_data(ds, norm)
    times = pd.DatetimeIndex(ds.time.values)
    cv = c.values
    # windows reaching before the data start (first SEQ-1 days) are NaN
    early = pd.DatetimeIndex(st.time.values) < times[SEQ - 1]
    assert early.any() and np.isnan(cv[early]).all()
    assert np.isfinite(cv[~early][:, :2]).all()
    # the gap at day 70 of basin 13 spoils the windows ending at days 70…70+SEQ-1
    gap_days = times[70 : 70 + SEQ]
    in_gap = pd.DatetimeIndex(st.time.values).isin(gap_days)
    assert in_gap.any() and np.isnan(cv[in_gap, 2]).all()
    assert np.isfinite(cv[~in_gap & ~early, 2]).all()
    # values equal a hand-rolled step loop from a zero state
    for day in ["2001-01-15", "2001-01-31", "2001-03-10", "2001-04-20"]:
        t_out = int(np.flatnonzero(st.time.values == np.datetime64(day))[0])
        t_in = times.get_loc(pd.Timestamp(day))
        for j in range(3):
            if np.isnan(cv[t_out, j]).any():
                continue
            ref = hand_rolled_c(model, data.x[j, t_in - SEQ + 1 : t_in + 1])
            np.testing.assert_allclose(cv[t_out, j], ref.numpy(), rtol=1e-5, atol=1e-6)


def test_states_store_hidden_state_and_the_same_prediction_as_predict_discharge(tmp_path):
    from hydroprobe.states.inference import predict_discharge

    ds, _, model, path = make_case(tmp_path)
    period = ("2001-02-01", "2001-04-20")
    st = xr.open_zarr(
        extract_cell_states(path, ds, [period], tmp_path / "s.zarr", batch_windows=16, threads=1),
        consolidated=False,
    )
    expected = predict_discharge(path, ds, period, batch_windows=16, threads=1).transpose("time", "basin")
    np.testing.assert_allclose(st["discharge_spec_sim"].values, expected.values, rtol=1e-5, atol=1e-6)
    # h_t = o_t * tanh(c_t): the hidden state is bounded by |tanh(c_t)|
    h, c = st["h"].values, st["c"].values
    ok = np.isfinite(c)
    assert np.all(np.abs(h[ok]) <= np.abs(np.tanh(c[ok])) + 1e-6)


@pytest.mark.parametrize("threads", [1, 2])
def test_failed_extraction_leaves_the_previous_store_and_no_partial_one(tmp_path, monkeypatch, threads):
    """A batch fails in this process (the third one), or in the forked worker of the third
    basin (2 threads: the basins in two parts)."""
    import hydroprobe.states.extract as extract

    ds, _, _, path = make_case(tmp_path)
    out = tmp_path / "s.zarr"
    extract_cell_states(path, ds, [("2001-02-01", "2001-04-20")], out, batch_windows=16, threads=1)
    before = xr.open_zarr(out, consolidated=False)["c"].values
    real, calls, parent = extract.final_states_streamed, {"n": 0}, os.getpid()

    def fails(model, x, *args):
        calls["n"] += 1
        in_worker_of_one_basin = os.getpid() != parent and x.shape[0] == 1
        if (threads == 1 and calls["n"] == 3) or in_worker_of_one_basin:
            raise RuntimeError("killed")
        return real(model, x, *args)

    monkeypatch.setattr(extract, "final_states_streamed", fails)
    if threads > 1:
        monkeypatch.setattr(extract, "basin_parts", lambda n, workers: [(0, 2), (2, 3)])
    with pytest.raises(RuntimeError, match="killed"):
        extract_cell_states(path, ds, [("2001-01-20", "2001-04-20")], out, batch_windows=16, threads=threads)
    np.testing.assert_array_equal(xr.open_zarr(out, consolidated=False)["c"].values, before)
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.iterdir())


def test_continuous_mode_is_one_pass_over_the_series_with_the_window_modes_valid_days(tmp_path):
    ds, norm, model, path = make_case(tmp_path)
    periods = [("2001-01-01", "2001-04-30")]
    window = xr.open_zarr(
        extract_cell_states(path, ds, periods, tmp_path / "w.zarr", batch_windows=7, threads=1),
        consolidated=False,
    )
    cont = xr.open_zarr(
        extract_cell_states(path, ds, periods, tmp_path / "c.zarr", 7, threads=1, mode="continuous"),
        consolidated=False,
    )
    assert cont.attrs["mode"] == "continuous" and window.attrs["mode"] == "window"
    assert set(cont.data_vars) == set(window.data_vars) and cont["c"].dims == window["c"].dims
    c_w, c_c = window["c"].values, cont["c"].values
    # the same days have a state: SEQ complete days behind them (the gap in basin 13 included)
    np.testing.assert_array_equal(np.isnan(c_w), np.isnan(c_c))

    data = build_window_data(ds, norm)
    times = pd.DatetimeIndex(ds.time.values)
    first = SEQ - 1  # the first day with a full window: both modes ran SEQ steps from zero
    np.testing.assert_allclose(c_c[first], c_w[first], rtol=1e-5, atol=1e-6)
    # later days carry the whole series: c at day t = the hand-rolled loop over days 0..t
    for j, t in [(0, 40), (1, 119), (2, 69), (2, 100)]:
        if t == 69:  # the day before basin 13's gap: still one unbroken run from day 0
            ref = hand_rolled_c(model, data.x[j, : t + 1])
        elif j == 2:  # after the gap the state restarted at zero on day 71
            ref = hand_rolled_c(model, data.x[j, 71 : t + 1])
        else:
            ref = hand_rolled_c(model, data.x[j, : t + 1])
        np.testing.assert_allclose(c_c[t, j], ref.numpy(), rtol=1e-5, atol=1e-5)
    assert np.nanmax(np.abs(c_c[60] - c_w[60])) > 1e-4  # memory beyond one window shows
    assert times[0] == pd.Timestamp("2001-01-01")
    # the prediction is the head on the continuous h, as in the window mode
    sim = [v for v in cont.data_vars if v.endswith("_sim")][0]
    np.testing.assert_array_equal(np.isnan(cont[sim].values), np.isnan(c_c[..., 0]))


def test_unknown_extraction_mode_names_the_config_key(tmp_path):
    ds, _, _, path = make_case(tmp_path)
    with pytest.raises(ValueError, match="states.mode"):
        extract_cell_states(path, ds, [("2001-01-01", "2001-01-31")], tmp_path / "x.zarr", 7, mode="fast")
    assert not (tmp_path / "x.zarr").exists()


def test_continuous_mode_gives_the_same_states_whatever_the_basin_groups(tmp_path, monkeypatch):
    ds, _, _, path = make_case(tmp_path)
    periods = [("2001-01-01", "2001-04-30")]

    def extracted(name):
        out = extract_cell_states(path, ds, periods, tmp_path / name, 7, threads=1, mode="continuous")
        return xr.open_zarr(out, consolidated=False).load()

    together = extracted("together.zarr")  # every basin in one group
    monkeypatch.setattr("hydroprobe.states.extract.CONTINUOUS_GROUP_BYTES", 1)  # a basin a group
    alone = extracted("alone.zarr")
    assert together.sizes["basin"] >= 3
    # equal up to the rounding of a different batch size in the LSTM kernels
    xr.testing.assert_allclose(together, alone, rtol=1e-6, atol=1e-6)


def test_window_extraction_split_over_worker_processes_is_the_one_process_extraction(tmp_path, monkeypatch):
    import hydroprobe.states.extract as extract

    ds, _, _, path = make_case(tmp_path)
    periods = [("2001-01-20", "2001-04-20")]
    parts_run = []

    def counting(task, parts):
        parts_run.append(list(parts))
        return real_run_forked(task, parts)

    real_run_forked = extract.run_forked
    monkeypatch.setattr(extract, "run_forked", counting)
    one = xr.open_zarr(
        extract_cell_states(path, ds, periods, tmp_path / "one.zarr", 16, threads=1), consolidated=False
    )
    three = xr.open_zarr(
        extract_cell_states(path, ds, periods, tmp_path / "three.zarr", 16, threads=3), consolidated=False
    )
    assert parts_run == [[(0, 3)], [(0, 1), (1, 2), (2, 3)]]  # one worker, then one per basin
    for name in ("c", "h"):
        np.testing.assert_array_equal(three[name].values, one[name].values)
    np.testing.assert_allclose(
        three["discharge_spec_sim"].values, one["discharge_spec_sim"].values, rtol=1e-5
    )
    c = one["c"].values
    assert np.isfinite(c).any() and np.isnan(c[:, 2]).any()  # basin 13's gap: no state where it lies


def test_extraction_workers_one_per_thread_on_a_linux_cpu_in_the_window_mode_only(monkeypatch):
    import sys

    from hydroprobe.states.extract import basin_parts, window_workers

    cpu = torch.device("cpu")
    monkeypatch.setattr(sys, "platform", "linux")
    assert window_workers(4, cpu, "window") == 4
    assert window_workers(None, cpu, "window") == 1
    assert window_workers(4, cpu, "continuous") == 1
    assert window_workers(4, torch.device("cuda"), "window") == 1
    monkeypatch.setattr(sys, "platform", "darwin")  # fork is not the default there: one process
    assert window_workers(4, cpu, "window") == 1
    assert basin_parts(13, 2) == [(0, 6), (6, 13)]
    assert basin_parts(2, 4) == [(0, 1), (1, 2)]  # no empty part
