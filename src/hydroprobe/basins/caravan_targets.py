"""Probe targets for a CAMELS-GB run from Caravan's ``camelsgb`` basin means, matched by gauge id.

The model of Lees et al. (2022) is driven by CAMELS-GB; only its probe targets, the ERA5-Land
soil water layers ``swvl1..4`` and snow ``sd``, come from ERA5-Land. Caravan (Kratzert et al.
2023) already holds those as daily basin means for 408 of the 671 CAMELS-GB catchments, under
the id ``camelsgb_<NRFA id>``: reading them replaces 2 340 CDS requests, the catchment weights and
the aggregation. ``volumetric_soil_water_layer_{1..4}_mean`` (m3/m3) become ``swvl1..4`` and
``snow_depth_water_equivalent_mean`` (mm) / 1000 becomes ``sd`` (m w.e., the unit of ERA5-Land's
``sd`` and of the rest of the workflow).

Caravan's means are not the paper's: Caravan averaged ERA5-Land over each polygon on Google Earth
Engine (cells weighted by the fraction inside) in the gauge's local time, the paper the plain mean
of every cell its polygon touches (``all_touched``) over UTC days of the CDS hourly data.

The choice for the basins Caravan lacks: they stay in the run (the LSTM is trained and evaluated
on every CAMELS-GB basin, as in the paper) with NaN probe targets, so every probe table reports
them as ``no_data`` and no probe is fitted or scored on them. Each one is logged and recorded as
a data warning (``hydroprobe.data_warnings``) that travels to ``results/tables/data_warnings.csv``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe import data_warnings
from hydroprobe.basins.dataset import UNITS
from hydroprobe.errors import InputDataError
from hydroprobe.sources.caravan import CARAVAN_PROBE_TARGETS, log_generation, read_attributes, read_timeseries

SUBDATASET = "camelsgb"
STAGE = "build_basin_dataset"


def caravan_gauge_id(gauge_id: int) -> str:
    """The Caravan id of a CAMELS-GB gauge: 96004 -> ``camelsgb_96004``."""
    return f"{SUBDATASET}_{int(gauge_id)}"


def caravan_probe_targets(
    caravan_dir: str | os.PathLike,
    basins: list[int],
    layout: str = "csv",
    variables: list[str] | None = None,
) -> xr.Dataset:
    """(basin, time) float32 probe targets of the CAMELS-GB `basins` from Caravan's camelsgb series,
    in the layout of ``era5_land_basins.zarr`` (contract §2), so that
    :func:`hydroprobe.basins.dataset.build_basin_dataset` takes it in place of the ERA5-Land basin
    series.

    `variables` (default all of ``swvl1..4, sd``) are read from each matched basin's file; the
    time axis is the union of their dates. A basin is matched when Caravan's attribute tables list
    ``camelsgb_<id>``; a listed basin without its file, or without a target column, is an error.
    Basins Caravan does not list get NaN targets and a data warning each (attribute
    ``data_warnings``); none matched at all is an error.
    """
    caravan_dir = Path(caravan_dir)
    variables = list(CARAVAN_PROBE_TARGETS if variables is None else variables)
    unknown = [v for v in variables if v not in CARAVAN_PROBE_TARGETS]
    if unknown:
        raise InputDataError(
            f"probe target(s) {', '.join(unknown)} not in Caravan (has {', '.join(CARAVAN_PROBE_TARGETS)})"
        )
    basins = [int(b) for b in basins]
    listed = set(read_attributes(caravan_dir, SUBDATASET).index)
    matched = [b for b in basins if caravan_gauge_id(b) in listed]
    absent = [b for b in basins if caravan_gauge_id(b) not in listed]
    folder = caravan_dir / "attributes" / SUBDATASET
    if not matched:
        raise InputDataError(
            f"none of the {len(basins)} CAMELS-GB basins is in Caravan's {SUBDATASET} tables in {folder}: "
            "no probe targets"
        )

    columns = [CARAVAN_PROBE_TARGETS[v][0] for v in variables]
    frames = {b: read_timeseries(caravan_dir, caravan_gauge_id(b), layout, columns) for b in matched}
    log_generation(list(frames.values()), SUBDATASET)
    time = frames[matched[0]].index
    for frame in frames.values():
        time = time.union(frame.index)
    time = pd.DatetimeIndex(time, name="time")

    data = {}
    for name, column in zip(variables, columns):
        factor = CARAVAN_PROBE_TARGETS[name][1]
        values = np.full((len(basins), len(time)), np.nan, dtype=np.float64)
        for i, b in enumerate(basins):
            if b in frames:
                values[i] = frames[b][column].reindex(time).to_numpy() * factor
        data[name] = (("basin", "time"), values.astype(np.float32))
    ds = xr.Dataset(
        data,
        coords={"basin": np.asarray(basins, dtype=np.int32), "time": time.values.astype("datetime64[ns]")},
    )
    for name, column in zip(variables, columns):
        ds[name].attrs.update(units=UNITS[name], caravan_column=column)
    if "sd" in ds:
        ds["sd"].attrs["comment"] = "Caravan snow_depth_water_equivalent_mean (mm) / 1000"
    ds.attrs.update(probe_target_source=f"caravan {SUBDATASET}", caravan_matched=len(matched))

    found: list[data_warnings.DataWarning] = []
    for b in absent:
        data_warnings.warn(
            found,
            STAGE,
            f"basin {b}",
            f"not in Caravan {SUBDATASET}: trained and evaluated, but without probe targets (NaN, "
            "scored no_data)",
        )
    if absent:
        data_warnings.log.warning(
            "%d of %d basins are not in Caravan %s and are not probed", len(absent), len(basins), SUBDATASET
        )
    return data_warnings.attach(ds, found)
