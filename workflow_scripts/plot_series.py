"""Rule plot_series: for a few basins (config report.series_basins, or the best, median and worst
by the trained probe's r), the ERA5-Land stores beside the pooled probe's prediction from the
trained and untrained LSTM's states, and observed beside simulated discharge (test period)."""

import pandas as pd

from hydroprobe.io import open_zarr
from hydroprobe.probes.grid import FEATURE_VARIABLES
from hydroprobe.report.series import (
    basin_series,
    check_against_scores,
    plot_discharge_series,
    plot_store_series,
    prediction_r,
    probe_predictions,
)
from hydroprobe.report.series_basins import RANKED_SLOTS, series_basins
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]) as log:
    p = snakemake.params
    seed = snakemake.wildcards.seed
    test = tuple(p.test_period)
    dataset = open_zarr(snakemake.input.dataset)
    # lazy: the probe is fitted block by block, and only the drawn basins' test states and
    # discharge simulation are read whole
    variables = [FEATURE_VARIABLES[p.features], f"{p.target}_sim"]
    states = {model: open_zarr(path)[variables] for model, path in zip(p.models, snakemake.input.states)}
    scores = pd.read_csv(snakemake.input.scores)
    job = dict(seed=seed, probe=p.probe, control="none", features=p.features)
    basins = series_basins(
        p.slots, scores, {**job, "model": "trained", "subset": "all"}, dataset["basin"].values
    )
    log.info("basins: %s", {slot: str(basin) for slot, basin in basins.items()})

    predictions = probe_predictions(
        dataset,
        states,
        p.targets,
        job,
        ridge=p.ridge,
        target_scaling=p.target_scaling,
        train_period=p.train_period,
        test_period=test,
        seed=p.probe_seed,
        basins=list(dict.fromkeys(basins.values())),  # a basin may fill two slots
    )
    observed = dataset[list(p.targets)]
    r = check_against_scores(prediction_r(observed, predictions), scores, job)
    log.info(
        "recomputed probe r of the drawn basins agrees with probe_scores.csv on %d rows",
        int(r["r_scores"].notna().sum()),
    )

    period = f"test period {test[0]} to {test[1]}"
    discharge = []
    trained_sim = states["trained"][f"{p.target}_sim"]
    for slot, basin in basins.items():
        label = f"basin {basin}" + (f" ({slot} by trained probe r)" if slot in RANKED_SLOTS else "")
        rows = r[r["basin"].astype(str) == str(basin)]
        plot_store_series(
            basin_series(observed, basin, test),
            {model: basin_series(pred, basin, test) for model, pred in predictions.items()},
            {(row.model, row.target): row.r_scores for row in rows.itertuples()},
            snakemake.output[f"{slot}_png"],
            title=f"ERA5-Land stores and the pooled {p.probe} probe's reading of them, {label}\n"
            f"seed {seed}, {p.features} state, {period}",
            extra_paths=snakemake.output[f"{slot}_extra"],
        )
        sim = basin_series(trained_sim, basin, test)
        obs = dataset[p.target].sel(basin=basin).reindex(time=sim["time"])
        discharge.append((label, obs, sim))
    plot_discharge_series(
        discharge,
        snakemake.output.discharge_png,
        title=f"Observed and simulated specific discharge: trained LSTM seed {seed}, {period}",
        extra_paths=snakemake.output.discharge_extra,
    )
