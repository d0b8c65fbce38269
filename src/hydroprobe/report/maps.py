"""Maps of the catchments coloured by a per-basin score: probe r, selectivity Δr, discharge NSE.

CAMELS-GB catchments are drawn as their boundary polygons in British National Grid (EPSG:27700,
axes in km); Caravan gauges, which come without polygons here, as points at the gauge (lon/lat
axes, aspect corrected for latitude). Behind the catchments, the land of the ERA5-Land grid (the
cells where one time step of a field is finite) is filled light grey, its cells projected to the
map's coordinates, so no base map is needed.

Catchments are drawn largest first so that nested and small ones lie on top. A basin without a
score (no row, status not ``ok`` or a non-finite value) is drawn grey and hatched, "no score".
The snow subset (static ``frac_snow`` above the probes' snow threshold) is outlined on the
``sd`` panels. Every panel of one figure shares one colour scale; Δr is centred on 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from hydroprobe.report.style import (
    DIVERGING_CMAP,
    PAGE_WIDTH_IN,
    SEQUENTIAL_CMAP,
    TARGET_LABELS,
    save_figure,
    target_order,
)

BNG = "EPSG:27700"
LONLAT = "EPSG:4326"
LAND_COLOUR = "#e4e4e4"
NO_SCORE_COLOUR = "#bdbdbd"
SNOW_EDGE = dict(edgecolor="black", linewidth=1.4)
EDGE = dict(edgecolor="#333333", linewidth=0.3)


@dataclass
class LandGrid:
    """Land cells of a regular lat/lon grid with their corners projected to map units:
    `x`, `y` (n_lat + 1, n_lon + 1) cell corners, `land` (n_lat, n_lon) boolean."""

    x: np.ndarray
    y: np.ndarray
    land: np.ndarray


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges of a 1-D axis of cell centres (half a step beyond each end)."""
    centres = np.asarray(centres, dtype=float)
    if centres.size == 1:
        return np.array([centres[0] - 0.05, centres[0] + 0.05])
    mid = (centres[:-1] + centres[1:]) / 2
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def land_grid(
    latitude: np.ndarray, longitude: np.ndarray, field: np.ndarray, crs: str = BNG, km: bool = True
) -> LandGrid:
    """The land cells (finite values of the 2-D `field`, dims latitude × longitude) with their
    corners projected from lon/lat to `crs` (km when `km` and the CRS is in metres)."""
    from pyproj import Transformer

    lon_e, lat_e = np.meshgrid(_edges(longitude), _edges(latitude))
    if crs == LONLAT:
        x, y = lon_e, lat_e
    else:
        x, y = Transformer.from_crs(LONLAT, crs, always_xy=True).transform(lon_e, lat_e)
        if km:
            x, y = np.asarray(x) / 1000.0, np.asarray(y) / 1000.0
    return LandGrid(x=np.asarray(x), y=np.asarray(y), land=np.isfinite(np.asarray(field, dtype=float)))


def era5_land_grid(era5_dir: str | Path, variable: str = "swvl1") -> LandGrid | None:
    """The land of the ERA5-Land grid of `era5_dir` from the first time step of `variable`, in
    British National Grid km; None if that step has no finite cell."""
    from hydroprobe.sources.era5_land import open_era5_land

    da = open_era5_land(era5_dir, [variable])[variable].isel(time=0)
    values = da.values
    if not np.isfinite(values).any():
        return None
    return land_grid(da["latitude"].values, da["longitude"].values, values)


# static attributes that colour the map of the study area, in order of preference
CATCHMENT_ATTRIBUTES = {"frac_snow": "fraction of precipitation falling as snow", "area": "area (km²)"}


def catchment_attribute(dataset) -> tuple[str, pd.Series]:
    """(label, per-basin values indexed by basin as str) of the first of `CATCHMENT_ATTRIBUTES`
    the basin dataset holds; all NaN, labelled "catchment", when it holds none."""
    index = [str(b) for b in dataset["basin"].values]
    for name, label in CATCHMENT_ATTRIBUTES.items():
        if name in dataset:
            return label, pd.Series(dataset[name].values.astype(float), index=index)
    return "catchment", pd.Series(np.nan, index=index)


def scale_geometries(geometries: Mapping, factor: float) -> dict:
    """Geometries with their coordinates multiplied by `factor` (metres -> km: 1e-3)."""
    from shapely import affinity

    return {k: affinity.scale(g, xfact=factor, yfact=factor, origin=(0, 0)) for k, g in geometries.items()}


def gauge_points(attributes: pd.DataFrame, gauge_ids: Mapping) -> dict:
    """Points at the gauges (lon, lat) keyed like `gauge_ids` (basin -> attribute index), from
    the ``gauge_lon``/``gauge_lat`` columns of a Caravan attribute table."""
    from shapely.geometry import Point

    missing = [g for g in gauge_ids.values() if g not in attributes.index]
    if missing:
        raise KeyError(f"no gauge_lat/gauge_lon for {', '.join(map(str, missing))}")
    return {
        basin: Point(float(attributes.at[g, "gauge_lon"]), float(attributes.at[g, "gauge_lat"]))
        for basin, g in gauge_ids.items()
    }


# ----- the values of each panel ---------------------------------------------------------------


def _ok_values(frame: pd.DataFrame, column: str) -> pd.Series:
    """Per-basin `column`, NaN where the status is not ok; the index is the basin as str."""
    values = frame[column].astype(float).where(frame["status"] == "ok")
    return pd.Series(values.to_numpy(), index=frame["basin"].astype(str).to_numpy())


def probe_r_values(
    scores: pd.DataFrame, *, model: str, probe: str, features: str, seed, control: str = "none"
) -> dict[str, pd.Series]:
    """Per target: per-basin probe r (subset all) of one model/probe/features/seed; NaN where not
    scored ok. Index: basin as str."""
    sel = scores[
        (scores["model"] == model)
        & (scores["probe"] == probe)
        & (scores["features"] == features)
        & (scores["control"] == control)
        & (scores["subset"] == "all")
        & (scores["seed"].astype(str) == str(seed))
    ]
    return {t: _ok_values(sel[sel["target"] == t], "r") for t in target_order(sel["target"])}


def selectivity_values(
    scores: pd.DataFrame, *, probe: str, features: str, seed, reference: str = "untrained"
) -> dict[str, pd.Series]:
    """Per target: Δr = r(trained) − r(`reference`) per basin, NaN unless both are scored ok."""
    trained = probe_r_values(scores, model="trained", probe=probe, features=features, seed=seed)
    other = probe_r_values(scores, model=reference, probe=probe, features=features, seed=seed)
    return {t: (trained[t] - other[t].reindex(trained[t].index)) for t in trained if t in other}


def discharge_values(
    discharge: pd.DataFrame, *, seed, period: str = "test", metric: str = "nse"
) -> pd.Series:
    """Per-basin discharge `metric` of one seed and period; index: basin as str."""
    sel = discharge[(discharge["seed"].astype(str) == str(seed)) & (discharge["period"] == period)]
    return pd.Series(sel[metric].astype(float).to_numpy(), index=sel["basin"].astype(str).to_numpy())


# ----- drawing ----------------------------------------------------------------------------------


def _polygon_path(geometry) -> MplPath:
    """A matplotlib path of a (multi)polygon, holes included."""
    vertices, codes = [], []
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            vertices.append(xy)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
    return MplPath(np.concatenate(vertices), np.concatenate(codes))


def _is_point(geometry) -> bool:
    return geometry.geom_type == "Point"


def _extent(geometries: Iterable, pad_fraction: float = 0.08, min_pad: float = 0.0) -> tuple:
    bounds = np.array([g.bounds for g in geometries])
    x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
    x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
    pad = max(pad_fraction * max(x1 - x0, y1 - y0), min_pad)
    return x0 - pad, x1 + pad, y0 - pad, y1 + pad


def _draw_catchments(
    ax,
    geometries: Mapping,
    values: pd.Series,
    cmap,
    norm: Normalize,
    outlined: frozenset = frozenset(),
    marker_size: float = 30.0,
) -> dict[str, int]:
    """Draw each catchment filled with its value's colour (grey and hatched when NaN or absent),
    largest first; `outlined` basins get a thick black edge. Returns counts scored/no_score."""
    keys = sorted(geometries, key=lambda k: -geometries[k].area)
    scored = no_score = 0
    for key in keys:
        geometry = geometries[key]
        value = values.get(str(key), np.nan)
        ok = bool(np.isfinite(value))
        face = cmap(norm(value)) if ok else NO_SCORE_COLOUR
        edge = SNOW_EDGE if str(key) in outlined else EDGE
        hatch = None if ok else "////"
        if _is_point(geometry):
            ax.scatter(
                [geometry.x],
                [geometry.y],
                s=marker_size,
                c=[face],
                marker="o" if ok else "X",
                edgecolors=edge["edgecolor"],
                linewidths=max(edge["linewidth"], 0.5),
                zorder=3,
            )
        else:
            ax.add_patch(PathPatch(_polygon_path(geometry), facecolor=face, hatch=hatch, zorder=2, **edge))
        scored += ok
        no_score += not ok
    return {"scored": scored, "no_score": no_score}


def _draw_land(ax, land: LandGrid | None) -> None:
    if land is None or not land.land.any():
        return
    mask = np.ma.masked_where(~land.land, np.ones(land.land.shape))
    ax.pcolormesh(land.x, land.y, mask, cmap=ListedColormap([LAND_COLOUR]), shading="flat", zorder=0)


def _setup_axes(ax, extent: tuple, crs: str) -> None:
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    if crs == LONLAT:
        mid_lat = (extent[2] + extent[3]) / 2
        ax.set_aspect(1.0 / max(math.cos(math.radians(mid_lat)), 0.1))
        ax.set_xlabel("longitude (°E)", fontsize=7)
        ax.set_ylabel("latitude (°N)", fontsize=7)
        ax.set_facecolor("#f4f8fb")
    else:
        ax.set_aspect("equal")
        ax.set_xlabel("easting (km)", fontsize=7)
        ax.set_ylabel("northing (km)", fontsize=7)
        ax.set_facecolor("#eaf2f8")  # the sea behind the ERA5-Land land cells
    ax.tick_params(labelsize=6)
    ax.locator_params(nbins=4)


def _legend_handles(points: bool, snow: bool, land: bool) -> list:
    handles = []
    if points:
        handles.append(
            Line2D(
                [],
                [],
                marker="X",
                linestyle="",
                color=NO_SCORE_COLOUR,
                markeredgecolor="#333333",
                label="no score",
            )
        )
    else:
        handles.append(Patch(facecolor=NO_SCORE_COLOUR, hatch="////", edgecolor="#333333", label="no score"))
    if snow:
        handles.append(Patch(facecolor="none", label="snow subset (sd probes)", **SNOW_EDGE))
    if land:
        handles.append(Patch(facecolor=LAND_COLOUR, edgecolor="none", label="land (ERA5-Land cells)"))
    return handles


def _limits(panels: Mapping[str, pd.Series], diverging: bool, upper: float | None) -> tuple[float, float]:
    values = np.concatenate([np.asarray(v, dtype=float) for v in panels.values()] or [np.array([])])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (-1.0, 1.0) if diverging else (0.0, 1.0)
    if diverging:
        lim = max(math.ceil(float(np.abs(values).max()) * 20) / 20, 0.05)
        return -lim, lim
    lo = math.floor(float(values.min()) * 20) / 20
    hi = math.ceil(float(values.max()) * 20) / 20 if upper is None else upper
    return (lo, hi) if hi > lo else (lo - 0.05, hi + 0.05)


def plot_score_maps(
    panels: Mapping[str, pd.Series],
    geometries: Mapping,
    path: str | Path,
    *,
    quantity: str,
    title: str,
    land: LandGrid | None = None,
    crs: str = BNG,
    diverging: bool = False,
    upper: float | None = None,
    lower: float | None = None,
    outlined: Mapping[str, Iterable] | None = None,
    ncols: int = 3,
    extra_paths: Iterable[str | Path] = (),
) -> dict[str, dict[str, int]]:
    """One map per panel (title -> per-basin values indexed by basin as str), catchments from
    `geometries` (basin -> shapely polygon in map units, or point), one shared colour scale with a
    colour bar labelled `quantity`.

    The scale spans the values of all panels (rounded to 0.05; `upper`/`lower` fix an end, a
    value beyond `lower` shows as the bar's extension), centred on 0 when `diverging`.
    `outlined[panel]` lists basins drawn with a thick black edge (the snow subset). Returns per
    panel the number of catchments drawn with a score and without one ("no score").
    """
    outlined = {k: frozenset(map(str, v)) for k, v in (outlined or {}).items()}
    names = list(panels)
    if not names:
        raise ValueError("no panel to draw")
    if not geometries:
        raise ValueError("no catchment geometry to draw")
    vmin, vmax = _limits(panels, diverging, upper)
    extend = "neither"
    if lower is not None and vmin < lower:
        vmin, extend = lower, "min"
    norm = Normalize(vmin=vmin, vmax=vmax)
    cmap = plt.get_cmap(DIVERGING_CMAP if diverging else SEQUENTIAL_CMAP)
    points = all(_is_point(g) for g in geometries.values())
    extent = _extent(geometries.values(), min_pad=0.3 if crs == LONLAT else 5.0)

    ncols = max(1, min(ncols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    spare = nrows * ncols - len(names)
    aspect = (extent[3] - extent[2]) / (extent[1] - extent[0])
    if crs == LONLAT:
        aspect /= max(math.cos(math.radians((extent[2] + extent[3]) / 2)), 0.1)
    width = PAGE_WIDTH_IN if ncols > 1 else PAGE_WIDTH_IN * 0.55
    panel_w = 0.8 * (width - 1.2) / ncols  # the axes' width once labels and colour bar are placed
    height = min(nrows * (panel_w * min(max(aspect, 0.5), 2.0) + 0.6) + 0.5, 9.5)
    any_missing = any(not np.isfinite(panels[n].get(str(k), np.nan)) for n in names for k in geometries)
    snow = any(outlined.get(n) for n in names)
    handles = _legend_handles(points, snow, land is not None and land.land.any())
    if not any_missing:
        handles = handles[1:]
    legend_row = bool(handles) and not spare  # no free panel: the legend gets a row below the maps
    fig = plt.figure(figsize=(width, height + 0.35 * legend_row))
    grid = fig.add_gridspec(
        nrows + legend_row,
        ncols + 1,
        width_ratios=[1.0] * ncols + [0.05],
        height_ratios=[1.0] * nrows + [0.12 * legend_row / max(nrows, 1)] * legend_row,
    )
    counts = {}
    for i, name in enumerate(names):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        _draw_land(ax, land)
        counts[name] = _draw_catchments(
            ax, geometries, panels[name], cmap, norm, outlined.get(name, frozenset())
        )
        _setup_axes(ax, extent, crs)
        ax.set_title(name, fontsize=8)
        if i % ncols:
            ax.set_ylabel("")
        if i // ncols < nrows - 1 and (i + ncols) < len(names):
            ax.set_xlabel("")
    if handles:
        if spare:
            legend_ax = fig.add_subplot(grid[nrows - 1, ncols - spare : ncols])
            legend_kw = dict(loc="center", ncols=1)
        else:
            legend_ax = fig.add_subplot(grid[nrows, :ncols])
            legend_kw = dict(loc="center", ncols=len(handles))
        legend_ax.axis("off")
        legend_ax.legend(handles=handles, fontsize=7, frameon=False, **legend_kw)
    cax = fig.add_subplot(grid[:nrows, ncols])
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax, extend=extend)
    bar.set_label(quantity, fontsize=8)
    bar.ax.tick_params(labelsize=6)
    fig.suptitle(title, fontsize=9)
    save_figure(fig, path, extra_paths)
    return counts


def probe_panel_titles(targets: Iterable[str]) -> dict[str, str]:
    """target -> panel title (the target's label)."""
    return {t: TARGET_LABELS.get(t, t) for t in targets}
