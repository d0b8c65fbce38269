"""Embedded synthetic world: a small NE-Scotland-like region (or, with `region="great_britain"`,
the paper's Great-Britain box) on the ERA5-Land 0.1° grid with a distributed conceptual
hydrological model, written as CAMELS-GB, ERA5-Land and a truth file.

Entry point: `generate_world(out_dir, seed, era5_years, start=..., end=..., region=..., n_basins=...)`.
Modules: grid (landscape), great_britain (the GB region: coastline, uplands, catchment set),
weather (forcing), hydrology (snow/soil/groundwater model), catchments (polygons, exact
weights), basins (aggregation), indices (CAMELS signatures), attributes (attribute tables),
camels / era5 / truth (writers), world (orchestration), resources (what generating asks of a
scheduler).
"""

__all__ = ["build_world", "generate_world"]


def __getattr__(name: str):
    # The Snakefile reads `resources` at parse time: the generator's imports (shapely, xarray,
    # scipy) wait until a job asks for the world.
    if name in __all__:
        from . import world

        return getattr(world, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
