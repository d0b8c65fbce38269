"""Rules fit_probe / fit_input_probe: one probe kind on one target, per basin scores.

States: the LSTM's cell or hidden state (model trained/untrained), optionally under a control
(shuffle: basin labels permuted; shift: states shift_days earlier), or raw inputs (model inputs:
the last input_lags days of precipitation, or of every dynamic input for inputs_all).
"""
import pandas as pd

from hydroprobe.io import open_zarr, write_csv_atomic
from hydroprobe.probe_controls import input_features, shift_states, shuffle_basins
from hydroprobe.probes import run_probe, select_features, basin_status_in_period, with_status
from hydroprobe.rule_log import rule_log
from hydroprobe.tables import with_subsets

with rule_log(snakemake.log[0]) as log:
    wc = snakemake.wildcards
    p = snakemake.params
    train_period, test_period = tuple(p.train_period), tuple(p.test_period)
    dataset = open_zarr(snakemake.input.dataset)
    target = dataset[wc.target].load()
    # fit_input_probe's path fixes model `inputs` and features `raw` instead of wildcards
    model, features, control = getattr(wc, "model", "inputs"), getattr(wc, "features", "raw"), wc.control
    if model == "inputs":
        times = pd.DatetimeIndex(dataset["time"].values)
        keep = ((times >= pd.Timestamp(train_period[0])) & (times <= pd.Timestamp(train_period[1]))) | (
            (times >= pd.Timestamp(test_period[0])) & (times <= pd.Timestamp(test_period[1])))
        variables = "all" if control == "inputs_all" else ("precipitation",)
        states = input_features(dataset.load(), variables, lags=p.input_lags, times=times[keep])
    else:
        states = select_features(open_zarr(snakemake.input.states), features).load()
        if control == "shuffle":
            states = shuffle_basins(states, p.seed)
        elif control == "shift":
            states = shift_states(states, p.shift_days)
    options = {"target_scaling": p.target_scaling}
    if wc.probe in ("linear", "linear_offsets"):
        options["ridge"] = p.ridge
    else:
        options["seed"] = p.seed
    scores, probe = run_probe(wc.probe, states, target, train_period, test_period, **options)
    scores = with_status(scores, basin_status_in_period(target, states["basin"].values, test_period))
    frac_snow = dataset["frac_snow"].to_series() if "frac_snow" in dataset else None
    if frac_snow is None:
        log.warning("the basin dataset has no static frac_snow: no snow subset")
    scores = with_subsets(scores, wc.target, frac_snow, p.snow_threshold)
    for name, value in [("features", features), ("target", wc.target), ("control", control),
                        ("probe", wc.probe), ("model", model), ("seed", int(wc.seed))]:
        scores.insert(0, name, value)
    scores = scores[["seed", "model", "probe", "control", "target", "features", "subset", "basin",
                     "status", "r", "r2", "nse"]]
    for subset, group in scores.groupby("subset"):
        log.info("%s %s %s %s %s seed %s subset %s: median r %.3f, median NSE %.3f over %d ok basins "
                 "(status: %s)", model, features, wc.probe, control, wc.target, wc.seed, subset,
                 group["r"].median(), group["nse"].median(), int(group["status"].eq("ok").sum()),
                 group["status"].value_counts().to_dict())
    write_csv_atomic(scores, snakemake.output[0])
