"""A Caravan ``camelsgb`` folder and a CAMELS-GB folder for the same gauges, for the tests.

The CAMELS-GB side is the real data of ``tests/data/camels_gb`` (96004, 97002: time series and
the climatic and landcover attribute tables, unmodified) plus boundary squares of each
catchment's area around its gauge (no public boundary file exists to copy). The Caravan side
keeps the published layout and the real attribute rows of ``tests/data/caravan/attributes/camelsgb``
(Caravan's own gauge coordinates and areas); its time series follow the real column layout
(that of ``camelsch_4001.csv``) with synthetic but plausible values: the four ERA5-Land soil
layers as leaky stores of the real CAMELS-GB precipitation minus PET with the layers' time
scales, snow from a degree-day model of the real temperature, streamflow the real CAMELS-GB
discharge (as Caravan's camelsgb streamflow is), NaN after the CAMELS-GB record ends.

``generation`` picks the column names: ``"1.5"`` (``potential_evaporation_sum_ERA5_LAND`` and
``_FAO_PENMAN_MONTEITH``; ``pet_mean_ERA5_LAND``, ``aridity_FAO_PM``, ...) or ``"1.4"`` (the
older ``potential_evaporation_sum``, ``pet_mean``, ``aridity``, ...).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy.signal import lfilter
from shapely.geometry import box

from hydroprobe.sources.camels_gb import read_timeseries as read_camels_gb
from hydroprobe.sources.caravan import RENAMED_ATTRIBUTES, RENAMED_COLUMNS
from hydroprobe.sources.synthetic.camels import write_boundaries
from hydroprobe.sources.synthetic.catchments import Catchment

DATA = Path(__file__).resolve().parent / "data"
CAMELS_GB_DATA = DATA / "camels_gb"
CARAVAN_DATA = DATA / "caravan"
GAUGES = (96004, 97002)  # the real CAMELS-GB files here; both are in Caravan's camelsgb
START, END = "1981-01-01", "2020-12-31"  # Caravan 1.x series
SOIL_TIMESCALES_DAYS = (5.0, 20.0, 90.0, 365.0)  # layers 0-7, 7-28, 28-100, 100-289 cm


def _real_header() -> list[str]:
    """The column layout of a real Caravan 1.x series file (without the Hy2DL copy's ``eobs``)."""
    path = CARAVAN_DATA / "timeseries" / "csv" / "camelsch" / "camelsch_4001.csv"
    with open(path) as f:
        return [c for c in f.readline().strip().split(",") if c != "eobs"]


def columns(generation: str) -> list[str]:
    """The time-series columns of a Caravan file of that generation, in the published order."""
    header = _real_header()
    if generation == "1.4":
        return header
    new = [RENAMED_COLUMNS.get(c, c) for c in header]
    at = new.index("potential_evaporation_sum_ERA5_LAND") + 1
    return [*new[:at], "potential_evaporation_sum_FAO_PENMAN_MONTEITH", *new[at:]]


def _leaky_store(forcing: np.ndarray, timescale: float) -> np.ndarray:
    """Exponential moving average: a linear reservoir of time constant `timescale` days."""
    k = 1.0 / timescale
    return lfilter([k], [1.0, k - 1.0], forcing)


def caravan_series(gauge_id: int, generation: str = "1.5", seed: int = 0, end: str = END) -> pd.DataFrame:
    """One basin's Caravan daily series (``date`` column first), values rounded as Caravan's;
    `end` cuts the record short (small files for the tests of bad input)."""
    rng = np.random.default_rng(seed + gauge_id)
    dates = pd.date_range(START, end, freq="D")
    camels = read_camels_gb(CAMELS_GB_DATA, gauge_id).reindex(dates)
    # after the CAMELS-GB record the weather repeats that of 24 years earlier (only streamflow stays NaN)
    met = camels[["precipitation", "pet", "temperature"]]
    met = met.fillna(met.shift(8766))
    p, pet, t = (met[c].to_numpy() for c in ("precipitation", "pet", "temperature"))
    doy = dates.day_of_year.to_numpy()
    season = np.cos(2 * np.pi * (doy - 200) / 365.25)  # +1 in mid July

    wet = p - pet
    data: dict[str, np.ndarray] = {}
    for layer, tau in enumerate(SOIL_TIMESCALES_DAYS, start=1):
        store = _leaky_store(wet, tau)
        theta = 0.33 + 0.08 * np.tanh((store - np.nanmean(store)) / np.nanstd(store))
        data[f"volumetric_soil_water_layer_{layer}"] = np.clip(theta, 0.05, 0.5)
    swe = np.empty_like(t)
    pack = 0.0
    for i, (pi, ti) in enumerate(zip(p, t)):
        pack += pi if ti < 0.5 else 0.0
        pack = max(pack - max(ti - 0.0, 0.0) * 3.0, 0.0)
        swe[i] = pack
    data["snow_depth_water_equivalent"] = swe
    data["temperature_2m"] = t
    data["dewpoint_temperature_2m"] = t - 2.0 - 1.5 * (season + 1)
    data["surface_net_solar_radiation"] = np.maximum(60 + 80 * season + rng.normal(0, 15, len(dates)), 0)
    data["surface_net_thermal_radiation"] = -45 + rng.normal(0, 10, len(dates))
    data["surface_pressure"] = 99.5 + rng.normal(0, 0.8, len(dates))
    data["u_component_of_wind_10m"] = 2.5 + rng.normal(0, 2.0, len(dates))
    data["v_component_of_wind_10m"] = 1.0 + rng.normal(0, 2.0, len(dates))

    out = {"date": dates.strftime("%Y-%m-%d")}
    for name in columns(generation)[1:]:
        for stat, spread in (("_mean", 0.0), ("_min", -1.0), ("_max", 1.0)):
            if name.endswith(stat):
                base = data[name[: -len(stat)]]
                step = (0.005 if "pressure" in name else 0.1) * np.abs(base) + ("temperature" in name)
                value = base + spread * step
                if name.startswith(("snow_depth", "volumetric")):
                    value = np.maximum(value, 0.0)
                out[name] = value
    out["total_precipitation_sum"] = p
    pet_name = "potential_evaporation_sum" if generation == "1.4" else "potential_evaporation_sum_ERA5_LAND"
    out[pet_name] = pet * 1.6  # ERA5-Land's open-water PET runs well above CHESS-PE
    if generation != "1.4":
        out["potential_evaporation_sum_FAO_PENMAN_MONTEITH"] = pet * 1.05
    out["streamflow"] = camels["discharge_spec"].to_numpy()
    frame = pd.DataFrame(out)[columns(generation)]
    numeric = frame.columns[1:]
    frame[numeric] = frame[numeric].astype("float64").round(2)
    return frame


def _attribute_tables(gauge_ids, generation: str) -> dict[str, pd.DataFrame]:
    """The real Caravan camelsgb attribute rows of `gauge_ids`, under that generation's names."""
    ids = [f"camelsgb_{g}" for g in gauge_ids]
    tables = {}
    for kind in ("other", "caravan"):
        path = CARAVAN_DATA / "attributes" / "camelsgb" / f"attributes_{kind}_camelsgb.csv"
        table = pd.read_csv(path, dtype={"gauge_id": str}).set_index("gauge_id").loc[ids]
        if kind == "caravan" and generation != "1.4":
            table = table.rename(columns=RENAMED_ATTRIBUTES)
            for old in ("pet_mean", "aridity"):
                table[f"{old}_FAO_PM"] = table[RENAMED_ATTRIBUTES[old]] * 0.65
        tables[kind] = table.reset_index()
    return tables


def write_caravan(
    root: Path, gauge_ids=GAUGES, generation: str = "1.5", layouts=("csv",), seed: int = 0, end: str = END
) -> Path:
    """A Caravan folder at `root` holding the camelsgb basins `gauge_ids` (attributes, series)."""
    root = Path(root)
    for kind, table in _attribute_tables(gauge_ids, generation).items():
        path = root / "attributes" / "camelsgb" / f"attributes_{kind}_camelsgb.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False)
    licence = root / "licenses" / "camelsgb" / "license_camelsgb.md"
    licence.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CARAVAN_DATA / "licenses" / "camelsgb" / "license_camelsgb.md", licence)
    for g in gauge_ids:
        frame = caravan_series(g, generation, seed, end)
        for layout in layouts:
            write_series(root, g, frame, layout)
    return root


def series_path(root: Path, gauge_id: int, layout: str = "csv") -> Path:
    suffix = ".csv" if layout == "csv" else ".nc"
    return Path(root) / "timeseries" / layout / "camelsgb" / f"camelsgb_{gauge_id}{suffix}"


def write_series(root: Path, gauge_id: int, frame: pd.DataFrame, layout: str = "csv") -> Path:
    """One basin's file as Caravan publishes it: csv (empty field = missing) or netCDF (dimension
    ``date``, one variable per column). Object columns stay text, so tests can write bad values."""
    path = series_path(root, gauge_id, layout)
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout == "csv":
        frame.to_csv(path, index=False, na_rep="", float_format="%.2f", lineterminator="\n")
    else:
        ds = frame.assign(date=pd.to_datetime(frame["date"])).set_index("date").to_xarray()
        ds.attrs["timezone"] = "Europe/London"
        ds.to_netcdf(path)
    return path


def write_camels_gb(root: Path, gauge_ids=GAUGES) -> Path:
    """The real CAMELS-GB sample files at `root`, with boundary squares of each catchment's area
    (Caravan's) around its gauge (Caravan's coordinates)."""
    root = Path(root)
    shutil.copytree(CAMELS_GB_DATA, root)
    other = pd.read_csv(
        CARAVAN_DATA / "attributes" / "camelsgb" / "attributes_other_camelsgb.csv", dtype={"gauge_id": str}
    ).set_index("gauge_id")
    catchments = []
    for g in gauge_ids:
        row = other.loc[f"camelsgb_{g}"]
        lat, lon = float(row["gauge_lat"]), float(row["gauge_lon"])
        half_km = np.sqrt(float(row["area"])) / 2
        dlat, dlon = half_km / 111.0, half_km / (111.0 * np.cos(np.radians(lat)))
        square = box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        catchments.append(Catchment(g, str(row["gauge_name"]), square, (lon, lat), "real"))
    write_boundaries(root, catchments)
    return root


def caravan_values(caravan_dir: Path, gauge_id: int, column: str, layout: str = "csv") -> pd.Series:
    """One column of a written Caravan file, straight from the file (for comparisons)."""
    path = series_path(caravan_dir, gauge_id, layout)
    if layout == "csv":
        return pd.read_csv(path, parse_dates=["date"], index_col="date")[column]
    with xr.open_dataset(path) as ds:
        return ds[column].to_series()
