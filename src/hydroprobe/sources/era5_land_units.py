"""The unit each ERA5-Land variable must be in, and the few other units converted to it.

ERA5-Land writes soil water ``swvl1..4`` in m³ m⁻³, snow ``sd`` in m of water equivalent,
accumulated water fluxes (``tp``, ``e``, ``pev``, ...) in m, temperatures in K (see the CDS
variable table). A file that says otherwise is either an unambiguous rescaling (``%`` for a
volume fraction, ``mm`` or ``kg m-2`` for water depth, ``degC`` for K), converted here, or
something else (a soil water *content* in kg m⁻², a physical snow depth), refused: read as
the probe target it would be wrong by a factor no test downstream could notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from hydroprobe.errors import InputDataError


@dataclass(frozen=True)
class Unit:
    """A variable's unit as ERA5-Land spells it, its other spellings, and convertible units."""

    name: str  # ERA5-Land's spelling, written on the data read
    spellings: frozenset[str]  # normalised spellings of the same unit
    # normalised unit -> (scale, offset): value in `name` = value · scale + offset
    conversions: dict[str, tuple[float, float]] = field(default_factory=dict)


def normalise(unit: str) -> str:
    """A unit string in one spelling: lower case, no ``**``/``^``, single spaces."""
    unit = str(unit).strip().lower().replace("**", "").replace("^", "").replace("·", " ")
    return re.sub(r"\s+", " ", unit)


_VOLUME_FRACTION = Unit(
    "m**3 m**-3",
    frozenset({"m3 m-3", "m3/m3", "m3.m-3", "m3 m3-1", "1"}),
    {"%": (0.01, 0.0), "percent": (0.01, 0.0)},
)
_MILLIMETRES = {
    spelling: (0.001, 0.0)
    for spelling in ("mm", "mm of water equivalent", "mm w.e.", "mm we", "kg m-2", "kg/m2", "kg m2-1")
}
_WATER_DEPTH = Unit(
    "m of water equivalent", frozenset({"m of water equivalent", "m", "m w.e.", "m we"}), _MILLIMETRES
)
_ACCUMULATED_WATER = Unit("m", frozenset({"m", "m of water equivalent", "m w.e.", "m we"}), _MILLIMETRES)
_KELVIN = Unit(
    "K",
    frozenset({"k", "kelvin"}),
    {c: (1.0, 273.15) for c in ("degc", "deg c", "deg_c", "°c", "c", "celsius", "degrees_celsius")},
)
_PERCENT = Unit("%", frozenset({"%", "percent"}))
_DENSITY = Unit("kg m**-3", frozenset({"kg m-3", "kg/m3"}))
_ENERGY = Unit("J m**-2", frozenset({"j m-2", "j/m2"}))
_SPEED = Unit("m s**-1", frozenset({"m s-1", "m/s"}))
_PRESSURE = Unit("Pa", frozenset({"pa"}), {"hpa": (100.0, 0.0), "kpa": (1000.0, 0.0)})

UNITS: dict[str, Unit] = {
    **{f"swvl{k}": _VOLUME_FRACTION for k in range(1, 5)},
    "sd": _WATER_DEPTH,
    "sde": Unit("m", frozenset({"m"}), {"mm": (0.001, 0.0), "cm": (0.01, 0.0)}),
    "snowc": _PERCENT,
    "rsn": _DENSITY,
    **{v: _ACCUMULATED_WATER for v in ("tp", "e", "pev", "ro", "sro", "ssro", "sf", "smlt", "es")},
    **{v: _ACCUMULATED_WATER for v in ("evabs", "evaow", "evatc", "evavt")},
    **{v: _ENERGY for v in ("ssr", "str", "ssrd", "strd", "slhf", "sshf")},
    **{v: _KELVIN for v in ("t2m", "d2m", "skt", "stl1", "stl2", "stl3", "stl4")},
    **{v: _SPEED for v in ("u10", "v10")},
    "sp": _PRESSURE,
}


def to_era5_land_unit(da: xr.DataArray, variable: str, where) -> tuple[xr.DataArray, str | None]:
    """`da` in its variable's ERA5-Land unit, and what was done: None (already in it, or a
    variable without a known unit), ``"no units"`` (no ``units`` attribute: taken as it is), or
    the unit converted from. Another unit is an error naming `where`, the variable and the unit.
    """
    unit = UNITS.get(variable)
    if unit is None:
        return da, None
    given = da.attrs.get("units")
    if given is None:
        return da, "no units"
    key = normalise(given)
    if key in unit.spellings or key == normalise(unit.name):
        return da, None
    if key not in unit.conversions:
        raise InputDataError(
            f"{where}: {variable} is in {given!r}, expected {unit.name!r}"
            + (f" (or {', '.join(sorted(unit.conversions))}, converted)" if unit.conversions else "")
        )
    scale, offset = unit.conversions[key]
    if not np.issubdtype(da.dtype, np.floating):
        da = da.astype(np.float32)
    converted = (da * da.dtype.type(scale) + da.dtype.type(offset)).astype(da.dtype)
    converted.attrs = {**da.attrs, "units": unit.name}
    converted.name = da.name
    return converted, str(given)


def conversion_text(variable: str, given: str) -> str:
    """How a value in `given` becomes one in the variable's ERA5-Land unit, e.g. ``x 0.01``."""
    unit = UNITS[variable]
    scale, offset = unit.conversions[normalise(given)]
    steps = ([f"x {scale:g}"] if scale != 1 else []) + ([f"+ {offset:g}"] if offset else [])
    return f"{given!r} to {unit.name!r} ({' '.join(steps)})"
