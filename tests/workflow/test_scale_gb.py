"""The Great-Britain rehearsal (configs/scale_gb.yaml) in small: configs/test_scale_gb.yaml end to
end on the GB synthetic world, and the full preset's plan."""

import shutil

import numpy as np
import pandas as pd
import pytest
import shapefile
import shapely
import xarray as xr
import yaml
from shapely.geometry import shape
from workflow_helpers import ROOT, planned_jobs, run_snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def gb_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("scale_gb")
    configfile = workdir / "test_scale_gb.yaml"
    shutil.copy(ROOT / "configs" / "test_scale_gb.yaml", configfile)
    # the tables and the maps (the figures whose extent is the region's): what the rehearsal
    # checks without timings
    run_snakemake(
        workdir,
        configfile,
        "--cores",
        "2",
        "results/tables/probe_summary.csv",
        "results/tables/discharge_summary.csv",
        "results/tables/data_warnings.csv",
        "results/figures/map_probe_r.png",
    )
    return workdir, yaml.safe_load(configfile.read_text())


def _polygons(workdir) -> dict[int, shapely.Geometry]:
    """The written catchment boundaries, back in lon/lat."""
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    path = (
        workdir
        / "resources/synthetic/camels_gb/CAMELS_GB_catchment_boundaries/CAMELS_GB_catchment_boundaries"
    )
    with shapefile.Reader(str(path)) as reader:
        return {
            int(record["ID_STRING"]): shapely.transform(
                shape(geom.__geo_interface__),
                lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])),
            )
            for geom, record in zip(reader.shapes(), reader.records())
        }


def test_every_generated_basin_is_trained_scored_and_probed(gb_run):
    workdir, config = gb_run
    n_basins = config["synthetic"]["n_basins"]
    generated = set(_polygons(workdir))
    assert len(generated) == n_basins
    truth = xr.open_dataset(workdir / "resources/synthetic/truth.nc")
    assert set(truth["basin"].values.tolist()) == generated
    scores = pd.read_csv(workdir / "results/tables/probe_scores.csv")
    assert set(scores["basin"]) == generated
    summary = pd.read_csv(workdir / "results/tables/probe_summary.csv")
    assert set(summary["target"]) == set(config["probes"]["targets"])
    assert set(zip(summary["model"], summary["control"])) == {
        ("trained", "none"),
        ("untrained", "none"),
        ("trained", "shuffle"),
        ("trained", "shift"),
        ("inputs", "inputs"),
    }
    soil = scores[scores["target"].str.startswith("swvl") & (scores["subset"] == "all")]
    # the soil stores vary in every basin over the test period: scored everywhere
    assert (soil["status"] == "ok").all() and soil["r"].notna().all()
    discharge = pd.read_csv(workdir / "results/tables/discharge_scores.csv", dtype={"seed": str})
    assert set(discharge["basin"]) == generated


def test_coastal_and_nested_catchments_are_among_the_scored(gb_run):
    workdir, _ = gb_run
    polygons = _polygons(workdir)
    era5 = next((workdir / "resources/synthetic/era5_land/swvl1").glob("*.nc"))
    with xr.open_dataset(era5) as ds:
        first_day = ds["swvl1"].isel(valid_time=0)
        lat, lon = np.meshgrid(ds["latitude"].values, ds["longitude"].values, indexing="ij")
        sea = np.isnan(first_day.values)
    sea_cells = shapely.union_all(
        shapely.box(lon[sea] - 0.05, lat[sea] - 0.05, lon[sea] + 0.05, lat[sea] + 0.05)
    )
    coastal = {b for b, poly in polygons.items() if poly.intersection(sea_cells).area > 1e-6}
    nested = {
        b
        for b, poly in polygons.items()
        if any(o != b and poly.within(other.buffer(1e-6)) for o, other in polygons.items())
    }
    assert coastal and nested
    weights = xr.open_dataset(workdir / "results/catchment_weights.nc")
    sums = pd.Series(weights["weight"].values).groupby(weights["basin"].values).sum()
    scores = pd.read_csv(workdir / "results/tables/probe_scores.csv")
    ok = scores[
        (scores["model"] == "trained") & (scores["control"] == "none") & (scores["target"] == "swvl1")
    ]
    ok = set(ok.loc[ok["status"] == "ok", "basin"])
    for basin in coastal | nested:
        assert basin in ok, basin
        # the catchment means are renormalised over the land cells a coastal catchment covers
        assert sums[basin] == pytest.approx(1.0)


def test_the_maps_draw_every_catchment_of_great_britain(gb_run):
    workdir, config = gb_run
    for name in ("map_catchments", "map_probe_r"):
        data = (workdir / f"results/figures/{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
    log = (workdir / "logs/plot_maps.log").read_text()
    line = next(line for line in log.splitlines() if line.startswith("probe r:"))
    assert f"'scored': {config['synthetic']['n_basins']}" in line


def test_the_era5_gap_at_the_start_of_training_is_reported(gb_run):
    workdir, config = gb_run
    warnings = pd.read_csv(workdir / "results/tables/data_warnings.csv")
    train = warnings[warnings["subject"] == "periods.train"]
    assert len(train) == 1
    first_era5_day = f"{config['synthetic']['era5_years'][0]}-01-01"
    assert first_era5_day in train["message"].iloc[0]


def test_full_preset_plans_every_stage_at_the_papers_size(tmp_path):
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")  # the preset goes on top of it
    result = run_snakemake(tmp_path, ROOT / "configs" / "scale_gb.yaml", "-n")
    jobs = planned_jobs(result.stdout)
    assert sum(jobs.values()) == 38
    assert jobs["generate_synthetic_world"] == 1
    assert jobs["train_lstm"] == 1 and jobs["extract_cell_states"] == 2
    assert not any(rule.startswith("download") for rule in jobs)
    # 3 probe kinds x (trained: none, shuffle, shift; untrained: none), and the raw-input baseline
    assert jobs["fit_probe"] == 12
    assert jobs["fit_input_probe"] == 3
    # the world's job asks for what 45 years of Great Britain's 670 basins take (1.56 GB measured)
    generate = result.stdout.split("rule generate_synthetic_world:")[1].split("\n\n")[0]
    assert "mem_mb=3000" in generate
