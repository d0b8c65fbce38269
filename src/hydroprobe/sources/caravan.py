"""Caravan source (Kratzert et al. 2023, Sci Data 10, 61; data CC-BY-4.0).

Caravan gives, per basin, daily ERA5-Land catchment averages (computed on Google Earth Engine
from area-weighted polygon means, in local standard time without DST) together with observed
streamflow from the source dataset. It is therefore already basin-averaged: no catchment
weights or aggregation step are needed, and the ERA5-Land probe targets of Lees et al. (2022)
come from the same files as the LSTM forcing.

Layout of ``caravan_dir`` (as published)::

    attributes/<src>/attributes_{caravan,hydroatlas,other}_<src>.csv   keyed by gauge_id
    timeseries/csv/<src>/<src>_<id>.csv       column `date` + features, missing = empty field
    timeseries/netcdf/<src>/<src>_<id>.nc     dimension `date`, one variable per feature

where ``<src>`` is the sub-dataset (``camelsgb``, ``camels``, ``camelsch``, ...) and the basin
id is ``<src>_<id>`` (e.g. ``camelsch_4001``).

Units (Caravan README): precipitation / potential evaporation mm/day (daily sums), temperature
degC, soil water m3/m3, snow water equivalent **mm**, streamflow mm/day. ERA5-Land's ``sd`` —
the Lees et al. probe target — is in metres of water equivalent, so
``sd = snow_depth_water_equivalent_mean / 1000``.

Two generations of names: Caravan 1.5 (kratzert/Caravan pull request "Update code for Caravan
v1.5", code/caravan_utils.py) added FAO Penman-Monteith PET beside ERA5-Land's own, renaming
``potential_evaporation_sum`` to ``potential_evaporation_sum_ERA5_LAND`` (new:
``potential_evaporation_sum_FAO_PENMAN_MONTEITH``) and the PET-based climate indices
``pet_mean, aridity, moisture_index, seasonality`` to ``<name>_ERA5_LAND`` (new: ``<name>_FAO_PM``).
The readers return the current names whatever the copy: an older copy's columns are renamed on
reading, and a config that asks for an old name gets the current column.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.basins.dataset import UNITS
from hydroprobe.errors import InputDataError
from hydroprobe.sources.columns import daily_dates, numeric_columns, static_arrays

log = logging.getLogger("hydroprobe")

#: Caravan < 1.5 name -> the name since 1.5 (time-series columns; the ERA5-Land PET kept its values).
RENAMED_COLUMNS = {"potential_evaporation_sum": "potential_evaporation_sum_ERA5_LAND"}
#: the same for the attribute tables (climate indices computed from ERA5-Land's PET).
RENAMED_ATTRIBUTES = {
    name: f"{name}_ERA5_LAND" for name in ("pet_mean", "aridity", "moisture_index", "seasonality")
}
#: model input name -> Caravan column (defaults; override with ``forcing``, config caravan.forcing).
CARAVAN_FORCING = {
    "precipitation": "total_precipitation_sum",
    "temperature": "temperature_2m_mean",
    "pet": "potential_evaporation_sum_ERA5_LAND",
}
#: default target column (mm/day, like CAMELS-GB ``discharge_spec``).
CARAVAN_TARGET = "streamflow"
#: probe target name -> (Caravan column, factor applied to get the ERA5-Land unit).
CARAVAN_PROBE_TARGETS = {
    "swvl1": ("volumetric_soil_water_layer_1_mean", 1.0),
    "swvl2": ("volumetric_soil_water_layer_2_mean", 1.0),
    "swvl3": ("volumetric_soil_water_layer_3_mean", 1.0),
    "swvl4": ("volumetric_soil_water_layer_4_mean", 1.0),
    "sd": ("snow_depth_water_equivalent_mean", 1.0 / 1000.0),  # mm -> m w.e.
}
LAYOUTS = ("csv", "netcdf")
_SUFFIX = {"csv": ".csv", "netcdf": ".nc"}
_ATTRIBUTE_KINDS = ("other", "caravan", "hydroatlas")
# Units of Caravan columns by feature prefix (Caravan README); used for variables named
# directly by their Caravan column.
_CARAVAN_UNITS = {
    "snow_depth_water_equivalent": "mm",
    "surface_net_solar_radiation": "W m-2",
    "surface_net_thermal_radiation": "W m-2",
    "surface_pressure": "kPa",
    "temperature_2m": "degC",
    "dewpoint_temperature_2m": "degC",
    "u_component_of_wind_10m": "m/s",
    "v_component_of_wind_10m": "m/s",
    "volumetric_soil_water_layer": "m3 m-3",
    "total_precipitation": "mm/day",
    "potential_evaporation": "mm/day",
    "streamflow": "mm/day",
}


def _check_layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise InputDataError(f"Caravan layout {layout!r} unknown (use one of {', '.join(LAYOUTS)})")
    return layout


def _timeseries_dir(caravan_dir: Path, subdataset: str, layout: str) -> Path:
    return caravan_dir / "timeseries" / layout / subdataset


def _numeric_part(basin_id: str) -> int:
    """``camelsch_4001`` -> 4001 (the id of the source dataset, after ``<src>_``)."""
    _, _, local = str(basin_id).partition("_")
    if not re.fullmatch(r"\d+", local):
        raise InputDataError(
            f"basin {basin_id}: Caravan id has no numeric part after '<src>_' "
            f"(cannot form the int32 basin coordinate)"
        )
    value = int(local)
    if value > np.iinfo(np.int32).max:
        raise InputDataError(f"basin {basin_id}: numeric id {value} does not fit in int32")
    return value


def _sort_key(basin_id: str):
    _, _, local = basin_id.partition("_")
    return (0, int(local), basin_id) if local.isdigit() else (1, 0, basin_id)


def list_basins(caravan_dir: str | os.PathLike, subdataset: str, layout: str | None = None) -> list[str]:
    """Caravan basin ids (``<src>_<id>``) of `subdataset` that have a time-series file.

    ``layout`` ``"csv"`` or ``"netcdf"`` restricts the search to that folder; ``None`` (default)
    takes the union of both. Sorted by the numeric part of the id.
    """
    caravan_dir = Path(caravan_dir)
    layouts = LAYOUTS if layout is None else (_check_layout(layout),)
    ids: set[str] = set()
    for lay in layouts:
        folder = _timeseries_dir(caravan_dir, subdataset, lay)
        if folder.is_dir():
            suffix = _SUFFIX[lay]
            ids.update(
                p.name[: -len(suffix)]
                for p in folder.iterdir()
                if p.name.endswith(suffix) and p.name.startswith(f"{subdataset}_")
            )
    if not ids:
        folders = " or ".join(str(_timeseries_dir(caravan_dir, subdataset, lay)) for lay in layouts)
        raise InputDataError(f"no Caravan time series of sub-dataset {subdataset!r} found in {folders}")
    return sorted(ids, key=_sort_key)


def _subdataset_of(basin_id: str) -> str:
    src, sep, _ = str(basin_id).partition("_")
    if not sep or not src:
        raise InputDataError(
            f"basin {basin_id}: not a Caravan id of the form '<src>_<id>' (e.g. camelsch_4001)"
        )
    return src


def current_name(name: str, renamed: dict[str, str]) -> str:
    """The name a Caravan >= 1.5 copy uses for `name` (an older name mapped to its new one)."""
    return renamed.get(name, name)


def _to_current_names(table: pd.DataFrame, renamed: dict[str, str]) -> pd.DataFrame:
    """`table` with older Caravan names renamed to the current ones; ``attrs["renamed"]`` lists the
    old names found (empty for a current copy). A column present under both names keeps the new."""
    old = {o: n for o, n in renamed.items() if o in table.columns and n not in table.columns}
    table = table.rename(columns=old)
    table.attrs["renamed"] = sorted(old)
    return table


def _timeseries_path(caravan_dir: Path, basin_id: str, layout: str) -> Path:
    folder = _timeseries_dir(caravan_dir, _subdataset_of(basin_id), layout)
    return folder / f"{basin_id}{_SUFFIX[layout]}"


def _read_csv(path: Path, wanted: list[str] | None = None) -> pd.DataFrame:
    """The csv's columns (only `wanted` ones, by their current names, when given) on its dates."""
    keep = None if wanted is None else (lambda c: c == "date" or current_name(c, RENAMED_COLUMNS) in wanted)
    try:
        df = pd.read_csv(path, dtype={"date": str}, usecols=keep)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputDataError(f"{path}: cannot parse Caravan csv ({err})") from None
    if "date" not in df.columns:
        raise InputDataError(f"{path}: missing column date")
    return df.drop(columns="date").set_index(daily_dates(df["date"], path))


def _read_netcdf(path: Path) -> pd.DataFrame:
    try:
        with xr.open_dataset(path) as ds:
            dim = "date" if "date" in ds.dims else "time" if "time" in ds.dims else None
            if dim is None:
                raise InputDataError(
                    f"{path}: no 'date' (or 'time') dimension (has {', '.join(map(str, ds.dims))})"
                )
            if not np.issubdtype(ds[dim].dtype, np.datetime64):
                raise InputDataError(f"{path}: the {dim!r} coordinate is not a date ({ds[dim].dtype})")
            names = [str(n) for n, v in ds.data_vars.items() if v.dims == (dim,)]
            index = pd.DatetimeIndex(ds[dim].values, name="date")
            return pd.DataFrame({n: ds[n].values for n in names}, index=index)
    except (OSError, ValueError) as err:
        raise InputDataError(f"{path}: cannot read Caravan netCDF ({err})") from None


def read_timeseries(
    caravan_dir: str | os.PathLike,
    basin_id: str,
    layout: str = "csv",
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Daily series of one Caravan basin, as stored (Caravan units), under the current names.

    Returns float64 columns on a datetime64[ns] DatetimeIndex named ``date``. Missing values (empty csv
    fields, NaN in netCDF) are NaN. The sub-dataset folder is taken from the id prefix
    (``camelsch_4001`` -> ``timeseries/<layout>/camelsch/camelsch_4001.<csv|nc>``).
    Columns that are not Caravan's (e.g. an extra ``eobs`` in some copies) are kept. Columns of a
    Caravan < 1.5 copy are renamed to the 1.5 names (:data:`RENAMED_COLUMNS`; the old names found
    are in ``attrs["renamed"]``), and `columns` may use either. A missing file, a missing column,
    a non-numeric value, or a date that is not a day, repeated or out of order, is an error
    naming the file.
    """
    caravan_dir = Path(caravan_dir)
    _check_layout(layout)
    basin_id = str(basin_id)
    path = _timeseries_path(caravan_dir, basin_id, layout)
    if not path.is_file():
        raise InputDataError(f"basin {basin_id}: no Caravan time series {path.name} in {path.parent}")
    wanted = None if columns is None else [current_name(c, RENAMED_COLUMNS) for c in columns]
    # a few columns of a 40-column file: the csv parser reads only those
    df = _read_csv(path, wanted) if layout == "csv" else _read_netcdf(path)
    # one time unit whatever the reader (pandas >= 3 parses csv dates as datetime64[us])
    df.index = pd.DatetimeIndex(df.index).as_unit("ns")
    df.index.name = "date"
    df = _to_current_names(df, RENAMED_COLUMNS)
    renamed = df.attrs["renamed"]
    df = numeric_columns(df, path, wanted)
    df.attrs["renamed"] = renamed
    if df.index.hasnans:
        raise InputDataError(f"{path}: a date is missing (NaT)")
    if df.index.has_duplicates:
        raise InputDataError(
            f"{path}: date {df.index[df.index.duplicated()][0]:%Y-%m-%d} appears more than once"
        )
    if not df.index.is_monotonic_increasing:
        raise InputDataError(f"{path}: dates are not in increasing order")
    if (df.index != df.index.normalize()).any():
        raise InputDataError(f"{path}: dates carry a time of day; Caravan series are daily")
    return df


def read_attributes(caravan_dir: str | os.PathLike, subdataset: str) -> pd.DataFrame:
    """All ``attributes/<src>/attributes_*_<src>.csv`` tables merged on ``gauge_id``.

    Indexed by the string Caravan id (``gauge_id``). Tables are merged outer, in the order
    other, caravan, hydroatlas, then any further ones alphabetically; a column present in two
    tables keeps the first table's values. Whatever subset of the tables exists is used.
    A Caravan < 1.5 copy's PET-based indices get their 1.5 names (:data:`RENAMED_ATTRIBUTES`).
    """
    folder = Path(caravan_dir) / "attributes" / subdataset
    files = sorted(folder.glob(f"attributes_*_{subdataset}.csv")) if folder.is_dir() else []
    if not files:
        raise InputDataError(f"no Caravan attribute table attributes_*_{subdataset}.csv in {folder}")

    def order(p: Path):
        kind = p.name[len("attributes_") : -len(f"_{subdataset}.csv")]
        return (_ATTRIBUTE_KINDS.index(kind) if kind in _ATTRIBUTE_KINDS else len(_ATTRIBUTE_KINDS), p.name)

    merged: pd.DataFrame | None = None
    for path in sorted(files, key=order):
        try:
            table = pd.read_csv(path, dtype={"gauge_id": str})
        except (ValueError, pd.errors.ParserError) as err:
            raise InputDataError(f"{path}: cannot parse Caravan attributes ({err})") from None
        if "gauge_id" not in table.columns:
            raise InputDataError(f"{path}: missing column gauge_id")
        if table["gauge_id"].duplicated().any():
            dup = table.loc[table["gauge_id"].duplicated(), "gauge_id"].iloc[0]
            raise InputDataError(f"{path}: gauge_id {dup} appears more than once")
        table = table.set_index("gauge_id")
        if merged is None:
            merged = table
        else:
            new = [c for c in table.columns if c not in merged.columns]
            merged = merged.join(table[new], how="outer")
    merged.index.name = "gauge_id"
    merged = _to_current_names(merged, RENAMED_ATTRIBUTES)
    if merged.attrs["renamed"]:
        log.info(
            "Caravan < 1.5 attribute names in %s: %s read as %s",
            folder,
            ", ".join(merged.attrs["renamed"]),
            ", ".join(RENAMED_ATTRIBUTES[n] for n in merged.attrs["renamed"]),
        )
    return merged


def _normalise_basin_ids(subdataset: str, basins) -> list[str]:
    out = []
    for b in basins:
        bid = f"{subdataset}_{b}" if isinstance(b, (int, np.integer)) or str(b).isdigit() else str(b)
        if _subdataset_of(bid) != subdataset:
            raise InputDataError(f"basin {bid}: not in Caravan sub-dataset {subdataset!r}")
        out.append(bid)
    if len(set(out)) != len(out):
        raise InputDataError(f"basin list for Caravan {subdataset!r} has duplicates")
    return out


def _statics(caravan_dir, subdataset, basin_ids, static_inputs) -> dict[str, np.ndarray]:
    if not static_inputs:
        return {}
    attrs = read_attributes(caravan_dir, subdataset)
    folder = Path(caravan_dir) / "attributes" / subdataset
    where = f"Caravan attribute tables in {folder}"
    wanted = [current_name(c, RENAMED_ATTRIBUTES) for c in static_inputs]
    for asked, col in zip(static_inputs, wanted):
        if col not in attrs.columns:
            hint = " (a Caravan >= 1.5 name; this copy is older)" if col.endswith("_FAO_PM") else ""
            raise InputDataError(
                f"static attribute {asked!r}: not in any attributes_*_{subdataset}.csv in {folder}{hint}"
            )
    for b in basin_ids:
        if b not in attrs.index:
            raise InputDataError(f"basin {b}: missing from the {where}")
        # an empty field: the basin has no value in the published table (not a computed NaN)
        empty = [asked for asked, col in zip(static_inputs, wanted) if pd.isna(attrs.at[b, col])]
        if empty:
            raise InputDataError(f"basin {b}: static attribute {empty[0]!r} missing in the {where}")
    values = static_arrays(
        attrs.rename(columns=dict(zip(wanted, static_inputs))), basin_ids, static_inputs, where
    )
    return values


def _units(name: str, column: str) -> str | None:
    if name in UNITS and name not in ("discharge_spec",):
        return UNITS[name]
    for prefix, unit in _CARAVAN_UNITS.items():
        if column.startswith(prefix):
            return unit
    return UNITS.get(name)


def log_generation(frames: list[pd.DataFrame], subdataset: str) -> str:
    """Log once which generation of Caravan names the basins' files use; returns it."""
    old = sorted({name for df in frames for name in df.attrs.get("renamed", [])})
    if old:
        log.info(
            "Caravan %s: names of Caravan < 1.5 (%s) read as %s",
            subdataset,
            ", ".join(old),
            ", ".join(RENAMED_COLUMNS[n] for n in old),
        )
        return "<1.5"
    if any(new in df.columns for df in frames for new in RENAMED_COLUMNS.values()):
        log.info("Caravan %s: names of Caravan >= 1.5", subdataset)
        return ">=1.5"
    return "unknown"  # no column whose name changed: nothing to tell the generations apart


def build_caravan_dataset(
    caravan_dir: str | os.PathLike,
    subdataset: str,
    basins: list[str] | None,
    dynamic_inputs: list[str],
    target: str = CARAVAN_TARGET,
    static_inputs: list[str] | None = None,
    forcing: dict[str, str] | None = None,
    layout: str = "csv",
) -> xr.Dataset:
    """The basin dataset (contract §2 ``basin_dataset.zarr``) from a Caravan sub-dataset.

    Same layout as :func:`hydroprobe.basins.dataset.build_basin_dataset`:

    * ``(basin, time)`` float32: the dynamic inputs, ``pet`` (always, when mapped and present,
      as in the CAMELS-GB builder), the target (NaN gaps kept) and the probe targets
      ``swvl1..4`` (m3/m3) and ``sd`` (m w.e. = Caravan SWE mm / 1000);
    * ``(basin,)`` float32 statics (Caravan attribute names, e.g. ``p_mean``, ``aridity``,
      ``frac_snow``, ``area``); must be numeric and complete;
    * ``time`` daily datetime64 (the union of the basins' Caravan dates, local standard time);
    * ``basin`` int32.

    Each name in `dynamic_inputs` and `target` is looked up in ``forcing`` (default
    :data:`CARAVAN_FORCING`) and otherwise used as a Caravan column name directly; the variable
    keeps the requested name.

    **Why ``basin`` is the numeric part of the id:** Caravan ids are strings
    (``camelsch_4001``) but every downstream stage (models, cell states, probe tables) relies
    on an int32 ``basin`` coordinate. Within one sub-dataset the part after ``<src>_`` is the
    source dataset's own gauge number and is unique, so ``basin`` holds it (4001) and the full
    Caravan id is kept in the ``gauge_id`` coordinate along ``basin`` and in the
    ``gauge_ids`` attribute, so the mapping back is lossless (also for ids with leading zeros
    such as US ``camels_01013500``). Ids without a numeric part, or two ids with the same
    number, are refused.

    ``basins`` ``None`` means every basin of the sub-dataset with a file in `layout`; plain
    numbers are accepted and prefixed with ``<subdataset>_``.
    """
    caravan_dir = Path(caravan_dir)
    _check_layout(layout)
    static_inputs = list(static_inputs or [])
    fmap = dict(CARAVAN_FORCING if forcing is None else forcing)

    basin_ids = (
        list_basins(caravan_dir, subdataset, layout)
        if basins is None
        else _normalise_basin_ids(subdataset, basins)
    )
    if not basin_ids:
        raise InputDataError("no basin selected for the basin dataset")
    numbers = [_numeric_part(b) for b in basin_ids]
    if len(set(numbers)) != len(numbers):
        raise InputDataError(f"Caravan ids {basin_ids} do not have distinct numeric parts")

    names = list(dict.fromkeys([*dynamic_inputs, "pet", target]))
    columns = {n: current_name(fmap.get(n, n), RENAMED_COLUMNS) for n in names}
    for name, (col, _) in CARAVAN_PROBE_TARGETS.items():
        if name in columns:
            raise InputDataError(f"{name!r} is a probe target and cannot also be an input or the target")
        columns[name] = col

    frames = []
    required = [c for n, c in columns.items() if n != "pet" or "pet" in dynamic_inputs or target == "pet"]
    for b in basin_ids:
        df = read_timeseries(caravan_dir, b, layout)
        missing = [c for c in required if c not in df.columns]
        if missing:
            path = _timeseries_path(caravan_dir, b, layout)
            hint = (
                " (a Caravan >= 1.5 column; this copy is older)" if any("FAO" in c for c in missing) else ""
            )
            raise InputDataError(f"{path}: missing column(s) {', '.join(missing)}{hint}")
        frames.append(df)
    log_generation(frames, subdataset)
    if columns["pet"] not in frames[0].columns and "pet" not in dynamic_inputs and target != "pet":
        del columns["pet"]  # optional diagnostic series, as in the CAMELS-GB builder

    time = frames[0].index
    for df in frames[1:]:
        time = time.union(df.index)
    if len(time) > 1 and not (np.diff(time.values) == np.timedelta64(1, "D")).all():
        full = pd.date_range(time[0], time[-1], freq="D")
        time = full  # fill calendar gaps with NaN rows: the downstream axis is daily
    time = pd.DatetimeIndex(time, name="time")

    data = {}
    for name, col in columns.items():
        factor = CARAVAN_PROBE_TARGETS[name][1] if name in CARAVAN_PROBE_TARGETS else 1.0
        stack = np.stack([df[col].reindex(time).to_numpy(dtype=np.float64) for df in frames])
        if factor != 1.0:
            stack = stack * factor
        data[name] = (("basin", "time"), stack.astype(np.float32))
    for col, values in _statics(caravan_dir, subdataset, basin_ids, static_inputs).items():
        data[col] = (("basin",), values)

    ds = xr.Dataset(
        data,
        coords={
            "basin": np.asarray(numbers, dtype=np.int32),
            "time": time.values.astype("datetime64[ns]"),
            # variable-length strings: zarr v3 has a spec for those, not for fixed-width UTF-32
            "gauge_id": ("basin", np.asarray(basin_ids, dtype=object)),
        },
    )
    for name, col in columns.items():
        unit = _units(name, col)
        if unit:
            ds[name].attrs["units"] = unit
        ds[name].attrs["caravan_column"] = col
    ds["sd"].attrs["comment"] = "Caravan snow_depth_water_equivalent_mean (mm) / 1000"
    ds.attrs.update(
        dynamic_inputs=list(dynamic_inputs),
        target=target,
        static_inputs=static_inputs,
        probe_targets=list(CARAVAN_PROBE_TARGETS),
        source="caravan",
        subdataset=subdataset,
        layout=layout,
        gauge_ids=list(basin_ids),
    )
    return ds
