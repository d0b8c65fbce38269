"""Writer for the synthetic truth: exact basin means of the true stores and the weights used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.io import atomic_output

from .grid import LAYER_DEPTHS_CM


def write_truth(
    path: Path,
    basins: list[int],
    dates: pd.DatetimeIndex,
    stores: dict[str, np.ndarray],
    weights: pd.DataFrame,
) -> Path:
    """`stores[v]` is (time, basin). The weights the means were computed with are stored twice:
    as `weight_*` variables on an `entry` dim in the root group, and with the names of the
    `catchment_weights.nc` contract (basin, latitude, longitude, weight, coverage) in the
    NetCDF group `weights` (`xr.open_dataset(path, group="weights")`)."""
    ds = xr.Dataset(
        {v: (("basin", "time"), np.asarray(a, np.float64).T) for v, a in stores.items()},
        coords={
            "basin": ("basin", np.asarray(basins, np.int32)),
            "time": ("time", dates.values.astype("datetime64[ns]")),
        },
        attrs={
            "layer_depths_cm": LAYER_DEPTHS_CM.astype(np.int32),
            "description": "synthetic truth: exact area-weighted basin means of the cell stores",
            "weights_method": "exact",
        },
    )
    for k in range(1, 5):
        ds[f"swvl{k}"].attrs["units"] = "m**3 m**-3"
    ds["sd"].attrs["units"] = "m of water equivalent"
    ds["weight_basin"] = ("entry", weights["basin"].to_numpy(np.int32))
    ds["weight_latitude"] = ("entry", weights["latitude"].to_numpy(np.float64))
    ds["weight_longitude"] = ("entry", weights["longitude"].to_numpy(np.float64))
    ds["weight_coverage"] = ("entry", weights["coverage"].to_numpy(np.float64))
    ds["weight"] = ("entry", weights["weight"].to_numpy(np.float64))
    # the same table in the layout of results/catchment_weights.nc, in group "weights"
    wds = xr.Dataset(
        {
            "basin": ("entry", weights["basin"].to_numpy(np.int32)),
            "latitude": ("entry", weights["latitude"].to_numpy(np.float64)),
            "longitude": ("entry", weights["longitude"].to_numpy(np.float64)),
            "weight": ("entry", weights["weight"].to_numpy(np.float64)),
            "coverage": ("entry", weights["coverage"].to_numpy(np.float64)),
        },
        attrs={"method": "exact"},
    )
    with atomic_output(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
        wds.to_netcdf(tmp, mode="a", group="weights", engine="netcdf4")
    return Path(path)
