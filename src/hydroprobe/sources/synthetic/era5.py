"""Writer for ERA5-Land daily-mean NetCDF files in the new-CDS layout (one variable, one year)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.io import write_netcdf_atomic

ATTRS = {
    **{
        f"swvl{k}": {
            "units": "m**3 m**-3",
            "long_name": f"Volumetric soil water layer {k}",
            "standard_name": "unknown",
            "GRIB_shortName": f"swvl{k}",
        }
        for k in range(1, 5)
    },
    "sd": {
        "units": "m of water equivalent",
        "long_name": "Snow depth",
        "standard_name": "lwe_thickness_of_surface_snow_amount",
        "GRIB_shortName": "sd",
    },
}


def era5_path(era5_dir: Path, var: str, year: int) -> Path:
    return era5_dir / var / f"era5_land_{var}_{year}.nc"


def write_era5_year(
    era5_dir: Path,
    var: str,
    year: int,
    dates: pd.DatetimeIndex,
    data: np.ndarray,
    lat_asc: np.ndarray,
    lon: np.ndarray,
) -> Path:
    """`data` (time, lat ascending, lon) with NaN over sea → file with latitude descending."""
    ds = xr.Dataset(
        {var: (("valid_time", "latitude", "longitude"), data[:, ::-1, :].astype(np.float32), ATTRS[var])},
        coords={
            "number": np.int64(0),
            "valid_time": ("valid_time", dates.values.astype("datetime64[ns]")),
            "latitude": (
                "latitude",
                lat_asc[::-1].astype(np.float64),
                {"units": "degrees_north", "standard_name": "latitude", "long_name": "latitude"},
            ),
            "longitude": (
                "longitude",
                lon.astype(np.float64),
                {"units": "degrees_east", "standard_name": "longitude", "long_name": "longitude"},
            ),
            "expver": ("valid_time", np.array(["0001"] * len(dates), dtype=object)),
        },
        attrs={
            "GRIB_centre": "ecmf",
            "Conventions": "CF-1.7",
            "institution": "European Centre for Medium-Range Weather Forecasts",
            "history": "synthetic ERA5-Land daily means (hydroprobe.sources.synthetic)",
        },
    )
    ds["valid_time"].attrs.update({"standard_name": "time", "long_name": "time"})
    ds["number"].attrs.update(
        {"long_name": "ensemble member numerical id", "units": "1", "standard_name": "realization"}
    )
    enc = {
        var: {"zlib": True, "complevel": 4, "dtype": "float32", "_FillValue": np.float32(np.nan)},
        "valid_time": {
            "units": "seconds since 1970-01-01",
            "calendar": "proleptic_gregorian",
            "dtype": "int64",
            "_FillValue": None,
        },
        "latitude": {"_FillValue": None},
        "longitude": {"_FillValue": None},
        "number": {"_FillValue": None},
    }
    return write_netcdf_atomic(ds, era5_path(era5_dir, var, year), engine="netcdf4", encoding=enc)
