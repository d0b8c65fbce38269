"""Embedded synthetic world: a small NE-Scotland-like region on the ERA5-Land 0.1° grid with a
distributed conceptual hydrological model, written as CAMELS-GB, ERA5-Land and a truth file.

Entry point: `generate_world(out_dir, seed, era5_years, start=..., end=...)`.
Modules: grid (landscape), weather (forcing), hydrology (snow/soil/groundwater model),
catchments (polygons, exact weights), basins (aggregation), indices (CAMELS signatures),
attributes (attribute tables), camels / era5 / truth (writers), world (orchestration).
"""

from .world import build_world, generate_world

__all__ = ["build_world", "generate_world"]
