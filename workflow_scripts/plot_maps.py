"""Rule plot_maps: maps of the catchments coloured by the trained LSTM's probe r, the selectivity
Δr = trained − untrained, and the discharge NSE of the test period (first seed, first features,
pooled linear probe when configured). CAMELS-GB polygons over the ERA5-Land land cells, or
Caravan gauges as points."""

import pandas as pd

from hydroprobe.io import open_zarr
from hydroprobe.probes.job import snow_basins
from hydroprobe.report.maps import (
    BNG,
    LONLAT,
    catchment_attribute,
    discharge_values,
    era5_land_grid,
    gauge_points,
    plot_score_maps,
    probe_panel_titles,
    probe_r_values,
    scale_geometries,
    selectivity_values,
)
from hydroprobe.rule_log import rule_log

with rule_log(snakemake.log[0]):
    p = snakemake.params
    scores = pd.read_csv(snakemake.input.scores)
    discharge = pd.read_csv(snakemake.input.discharge)
    dataset = open_zarr(snakemake.input.dataset)
    basins = [int(b) for b in dataset["basin"].values]

    if p.source == "caravan":
        from hydroprobe.sources.caravan import read_attributes

        attributes = read_attributes(snakemake.input.caravan, p.subdataset)
        gauge_ids = dict(zip(basins, [str(g) for g in dataset["gauge_id"].values]))
        geometries, land, crs = gauge_points(attributes, gauge_ids), None, LONLAT
    else:
        from hydroprobe.sources.camels_gb import read_boundaries
        from hydroprobe.sources.paths import era5_land_input_dir

        geometries = scale_geometries(read_boundaries(snakemake.input.camels_gb, basins), 1e-3)
        # no ERA5-Land in a run whose probe targets come from Caravan: the polygons alone
        has_era5 = hasattr(snakemake.input, "era5_land")
        land = era5_land_grid(era5_land_input_dir(snakemake.input.era5_land)) if has_era5 else None
        crs = BNG
        if has_era5 and land is None:
            print("the first ERA5-Land time step has no finite cell: no land drawn")

    frac_snow = dataset["frac_snow"].to_series() if "frac_snow" in dataset else None
    snow = [str(b) for b in snow_basins(frac_snow, p.snow_threshold)]
    print(f"{len(geometries)} catchments, {len(snow)} in the snow subset (frac_snow > {p.snow_threshold})")

    common = dict(geometries=geometries, land=land, crs=crs)

    # the study area: each catchment coloured by a static attribute, the snow subset outlined
    quantity, values = catchment_attribute(dataset)
    panel = f"{len(basins)} catchments"
    counts = plot_score_maps(
        {panel: values},
        path=snakemake.output.data_png,
        extra_paths=snakemake.output.data_extra,
        quantity=quantity,
        title="The catchments of this run",
        outlined={panel: snow} if snow else {},
        **common,
    )
    print("catchments:", counts)

    probe = p.probe
    where = f"{probe} probe on {p.features}, seed {p.seed}, test period"

    def outlines(titles):
        return {titles["sd"]: snow} if "sd" in titles and snow else {}

    r = probe_r_values(scores, model="trained", probe=probe, features=p.features, seed=p.seed)
    titles = probe_panel_titles(r)
    counts = plot_score_maps(
        {titles[t]: v for t, v in r.items()},
        path=snakemake.output.r_png,
        extra_paths=snakemake.output.r_extra,
        quantity="probe r (trained LSTM)",
        title=f"Trained LSTM: per-basin probe r ({where})",
        upper=1.0,
        outlined=outlines(titles),
        **common,
    )
    print("probe r:", counts)

    dr = selectivity_values(scores, probe=probe, features=p.features, seed=p.seed)
    titles = probe_panel_titles(dr)
    counts = plot_score_maps(
        {titles[t]: v for t, v in dr.items()},
        path=snakemake.output.dr_png,
        extra_paths=snakemake.output.dr_extra,
        quantity="Δr = r(trained) − r(untrained)",
        title=f"Selectivity: trained − untrained LSTM ({where})",
        diverging=True,
        outlined=outlines(titles),
        **common,
    )
    print("selectivity:", counts)

    nse = discharge_values(discharge, seed=p.seed, period="test")
    counts = plot_score_maps(
        {f"seed {p.seed}, test period": nse},
        path=snakemake.output.nse_png,
        extra_paths=snakemake.output.nse_extra,
        quantity="NSE",
        title="Trained LSTM: discharge NSE per basin",
        upper=1.0,
        lower=-1.0,
        **common,
    )
    print("discharge NSE:", counts)
