"""HydroLSTM, NSE* loss, normalisation and window gathering."""

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from hydroprobe.model.loss import nse_star_loss
from hydroprobe.model.lstm import HydroLSTM
from hydroprobe.model.normalisation import Normalisation, compute_normalisation
from hydroprobe.model.windows import build_window_data, gather_windows, valid_samples


def small_dataset(n_basins=3, start="2000-01-01", days=200, seed=0):
    rng = np.random.default_rng(seed)
    time = pd.date_range(start, periods=days, freq="D")
    shape = (n_basins, days)
    return xr.Dataset(
        {
            "precipitation": (("basin", "time"), rng.gamma(0.5, 4.0, shape).astype(np.float32)),
            "temperature": (("basin", "time"), rng.normal(10, 5, shape).astype(np.float32)),
            "discharge_spec": (("basin", "time"), rng.gamma(2.0, 1.0, shape).astype(np.float32)),
            "area": (("basin",), rng.uniform(10, 500, n_basins).astype(np.float32)),
        },
        coords={"basin": np.arange(101, 101 + n_basins, dtype=np.int32), "time": time},
    )


def test_forget_gate_bias_effective_value():
    m = HydroLSTM(5, 8, output_dropout=0.4, initial_forget_bias=3.0)
    h = 8
    eff = m.lstm.bias_ih_l0 + m.lstm.bias_hh_l0
    assert torch.allclose(eff[h : 2 * h], torch.full((h,), 3.0))
    # other gates keep PyTorch's default (non-constant) initialisation
    assert not torch.allclose(eff[:h], torch.full((h,), 3.0))


def test_forward_shapes():
    m = HydroLSTM(5, 8, output_dropout=0.4, initial_forget_bias=3.0).eval()  # eval: no dropout
    x = torch.randn(4, 12, 5)
    assert m(x).shape == (4, 12)
    assert m(x, last_n=3).shape == (4, 3)
    assert torch.allclose(m(x, last_n=3), m(x)[:, -3:])


def test_nse_star_loss_by_hand():
    y_hat = torch.tensor([[1.0, 2.0], [0.0, 5.0], [3.0, 3.0]])
    y = torch.tensor([[1.5, float("nan")], [1.0, 4.0], [float("nan"), float("nan")]])
    sigma = torch.tensor([0.5, 2.0, 1.0])
    eps = 0.1
    terms = [0.5**2 / 0.6**2, 1.0**2 / 2.1**2, 1.0**2 / 2.1**2]
    expected = sum(terms) / 3
    got = nse_star_loss(y_hat, y, sigma, eps)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # a single-step (B,) form
    got1 = nse_star_loss(
        torch.tensor([2.0, 0.0]), torch.tensor([1.0, float("nan")]), torch.tensor([1.0, 1.0]), eps
    )
    assert got1.item() == pytest.approx(1.0 / 1.1**2, rel=1e-6)
    # gradient is finite with NaN targets
    y_hat.requires_grad_(True)
    nse_star_loss(y_hat, y, sigma, eps).backward()
    assert torch.isfinite(y_hat.grad).all()
    assert y_hat.grad[2].abs().sum() == 0


def test_normalisation_uses_training_period_only():
    ds = small_dataset()
    period = ("2000-02-01", "2000-04-30")
    a = compute_normalisation(ds, ["precipitation", "temperature"], ["area"], "discharge_spec", period)
    ds2 = ds.copy(deep=True)
    outside = (ds2.time < np.datetime64("2000-02-01")) | (ds2.time > np.datetime64("2000-04-30"))
    for v in ["precipitation", "temperature", "discharge_spec"]:
        ds2[v] = ds2[v].where(~outside, ds2[v] * 7 + 100)
    b = compute_normalisation(ds2, ["precipitation", "temperature"], ["area"], "discharge_spec", period)
    assert a.to_dict() == b.to_dict()
    sel = ds.sel(time=slice(*period))
    assert a.dynamic_mean["precipitation"] == pytest.approx(float(sel.precipitation.mean()), rel=1e-5)
    assert a.basin_target_std[102] == pytest.approx(
        float(np.std(sel.discharge_spec.sel(basin=102))), rel=1e-5
    )
    assert Normalisation.from_dict(a.to_dict()) == a


def test_windows_gather_and_validity():
    ds = small_dataset()
    ds["precipitation"][1, 50] = np.nan
    ds["discharge_spec"][0, 60] = np.nan
    norm = compute_normalisation(
        ds, ["precipitation", "temperature"], ["area"], "discharge_spec", ("2000-01-01", "2000-07-18")
    )
    data = build_window_data(ds, norm)
    assert data.x.shape == (3, 200, 3)
    L = 10
    b, e = valid_samples(data, L, ("2000-01-01", "2000-07-18"), predict_last_n=1)
    pairs = set(zip(b.tolist(), e.tolist()))
    assert (0, 8) not in pairs and (0, 9) in pairs  # window must lie inside the data
    assert all((1, t) not in pairs for t in range(50, 60)) and (1, 60) in pairs  # gap in inputs
    assert (0, 60) not in pairs  # no target
    b2, e2 = valid_samples(data, L, ("2000-01-01", "2000-07-18"), predict_last_n=2)
    assert (0, 61) in set(zip(b2.tolist(), e2.tolist()))
    xb = gather_windows(data.x, b[:5], e[:5], L)
    for k in range(5):
        assert torch.equal(xb[k], data.x[b[k], e[k] - L + 1 : e[k] + 1])
    # statics repeated at every step, normalised
    area = (ds.area.values - norm.static_mean["area"]) / norm.static_std["area"]
    assert np.allclose(data.x[:, :, 2].numpy(), area[:, None])
