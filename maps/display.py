"""Geometry for display: simplified, dissolved, in longitude/latitude, rounded.

A city's 永久基本农田 has hundreds of thousands of patches; drawn one by one
they make a file of hundreds of megabytes and a browser that stops
responding. For display only (the analysis never sees these geometries):

- layers of thousands of polygons or lines are dense layers
  (:mod:`maps.dense`: an overview, and every feature in chunks the page
  decodes per view); other layers with more than ``dissolve_above``
  features (points) are dissolved by grid cell, the features a conflict
  refers to keeping their full detail; in layers that are not dissolved
  those stay separate features, rounded finer;
- outlines are simplified to half a screen pixel at ``detail_zoom`` — the
  closest zoom the layer is meant to be read at; coverages (townships,
  counties, zones) with :func:`shapely.coverage_simplify` so neighbours keep
  their shared edges; Leaflet simplifies further at coarser zooms as it draws;
- coordinates are rounded to the decimals that resolution needs;
- with a GCJ-02 basemap everything is shifted into GCJ-02 (:mod:`maps.gcj02`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.maps.gcj02 import geometries_to_gcj02

logger = logging.getLogger(__name__)

_EARTH_CIRCUMFERENCE_M = 40_075_016.686  # Web Mercator equator, for ground resolution
_TILE_PX = 256
_WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class DisplayOptions:
    """How far geometry is reduced for display.

    Attributes
    ----------
    detail_zoom : int
        Web-map zoom at which the layers must still be exact to half a pixel
        (15: half a pixel ≈ 2 m at Bazhong's latitude).
    conflict_zoom : int
        The same for conflicts and the features they involve (18: ≈ 0.25 m;
        they are never simplified, only rounded).
    dissolve_above : int
        Layers with more polygons or lines than this are dense layers
        (:mod:`maps.dense`): an overview, and chunks per grid cell.
    dissolve_cell_m : float
        Side of the grid of a dense layer's chunks (metres, working CRS).
    detail_from_zoom : int
        Zoom from which a dense layer's features replace its overview.
    gcj02 : bool
        Shift into GCJ-02 for a 高德/AMap-style basemap.
    """

    detail_zoom: int = 15
    conflict_zoom: int = 18
    dissolve_above: int = 2000
    dissolve_cell_m: float = 10_000.0
    detail_from_zoom: int = 13
    gcj02: bool = False


def pixel_size_m(zoom: int, latitude: float) -> float:
    """Ground size of one Web Mercator pixel (metres) at ``zoom`` and ``latitude`` (degrees)."""
    return _EARTH_CIRCUMFERENCE_M * math.cos(math.radians(latitude)) / (_TILE_PX * 2**zoom)


def decimals_for(resolution_m: float) -> int:
    """Decimal places of a degree that resolve ``resolution_m`` metres (at most 7)."""
    return min(7, max(0, math.ceil(-math.log10(resolution_m / 111_320.0))))


def display_decimals(options: DisplayOptions, latitude: float, *, detailed: bool) -> int:
    """Decimals of a degree kept for display: for ``conflict_zoom`` or ``detail_zoom``."""
    zoom = options.conflict_zoom if detailed else options.detail_zoom
    return decimals_for(pixel_size_m(zoom, latitude) / 2)


def display_scale(options: DisplayOptions, latitude: float, *, detailed: bool) -> int:
    """Integers per degree that resolve half a pixel at ``conflict_zoom`` or ``detail_zoom``.

    The coarsest step of 1, 2 or 5 times a power of ten (degrees) not
    longer than half a pixel (a degree of latitude taken as 111,320 m).
    """
    zoom = options.conflict_zoom if detailed else options.detail_zoom
    half_px_deg = pixel_size_m(zoom, latitude) / 2 / 111_320.0
    power = 10.0 ** math.floor(math.log10(half_px_deg))
    step = max(f * power for f in (1, 2, 5) if f * power <= half_px_deg)
    return round(1 / step)


def _round(geoms: np.ndarray, decimals: int) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _simplify(geoms: np.ndarray, tolerance: float, coverage: bool) -> np.ndarray:
    if coverage and len(geoms) > 1 and bool(shapely.coverage_is_valid(geoms)):
        return np.asarray(shapely.coverage_simplify(geoms, tolerance))
    return shapely.simplify(geoms, tolerance, preserve_topology=True)


def _overlapping(geoms: np.ndarray) -> np.ndarray:
    """Which geometries share interior with another one."""
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = i != j
    i, j = i[pairs], j[pairs]
    shared = shapely.relate_pattern(geoms[i], geoms[j], "T********")
    out = np.zeros(len(geoms), bool)
    out[i[shared]] = True
    return out


def _merge(geoms: np.ndarray, overlapping: np.ndarray) -> shapely.Geometry:
    # Only features that overlap others need a union; the rest are collected
    # as they are (an SVG path fills overlapping rings even-odd, as holes).
    parts = [shapely.get_parts(geoms[~overlapping])]
    if overlapping.any():
        parts.append(shapely.get_parts(shapely.union_all(geoms[overlapping])))
    polygons = np.concatenate(parts)
    return shapely.multipolygons(polygons[shapely.get_type_id(polygons) == 3])


def _dissolve_by_cell(
    frame: gpd.GeoDataFrame, cell_m: float, by: str | None, kept: np.ndarray
) -> gpd.GeoDataFrame:
    geoms = frame.geometry.values
    points = shapely.point_on_surface(geoms)
    keys = pd.DataFrame(
        {
            "x": np.floor(shapely.get_x(points) / cell_m).astype(np.int64),
            "y": np.floor(shapely.get_y(points) / cell_m).astype(np.int64),
        }
    )
    if by is not None:
        keys[by] = frame[by].astype(str).to_numpy()
    overlapping = _overlapping(geoms)
    rows = []
    for key, index in keys.groupby(list(keys.columns), sort=True).indices.items():
        row = {
            "features": len(index),
            "detailed": bool(kept[index].any()),
            "geometry": _merge(geoms[index], overlapping[index]),
        }
        if by is not None:
            row[by] = key[-1]
        if "area_m2" in frame:
            row["area_m2"] = float(frame["area_m2"].to_numpy()[index].sum())
        rows.append(row)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=frame.crs)


def display_frame(
    frame: gpd.GeoDataFrame,
    *,
    fields: Sequence[str],
    options: DisplayOptions,
    coverage: bool = False,
    dissolve_by: str | None = None,
    keep_ids: Collection[str] = (),
    latitude: float,
) -> gpd.GeoDataFrame:
    """One layer's features as they are drawn.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Loaded features in the working (projected, metric) CRS.
    fields : sequence of str
        Attribute columns the popups and styles need; others are left out.
    options : DisplayOptions
    coverage : bool
        The layer is a coverage (features share edges); simplify it as one.
    dissolve_by : str, optional
        Column whose classes stay apart when a dense layer is dissolved.
    keep_ids : collection of str
        ``id`` values of features a conflict refers to: never simplified;
        separate features (``detailed``) unless the layer is dissolved.
    latitude : float
        Latitude (degrees) the pixel size is computed at.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326 (shifted into GCJ-02 if ``options.gcj02``), with
        ``fields`` (empty strings for features dissolved together), a
        ``features`` count (1 unless dissolved), ``area_m2`` (of the source
        features, summed over a dissolved cell) where the frame has it, and
        ``detailed``: holds features a conflict refers to, and is rounded
        for ``options.conflict_zoom``.
    """
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    columns = [c for c in fields if c in frame.columns]
    extra = ["area_m2"] if "area_m2" in frame else []
    ids = frame["id"].astype(str) if "id" in frame else pd.Series("", index=frame.index)
    kept = ids.isin(set(keep_ids)).to_numpy()
    tolerance = pixel_size_m(options.detail_zoom, latitude) / 2

    if len(frame) > options.dissolve_above:
        # Features a conflict refers to go into their cell unsimplified.
        geoms = frame.geometry.values.copy()
        geoms[~kept] = _simplify(geoms[~kept], tolerance, coverage=False)
        body = _dissolve_by_cell(
            frame.set_geometry(geoms), options.dissolve_cell_m, dissolve_by, kept
        )
        logger.info("display: %d features dissolved into %d cells", len(frame), len(body))
        detailed = frame.iloc[0:0][[*columns, *extra, "geometry"]]
    else:
        body = frame[~kept][[*columns, *extra, "geometry"]].assign(features=1, detailed=False)
        # A subset of a coverage is still a coverage.
        body.geometry = _simplify(body.geometry.values, tolerance, coverage)
        detailed = frame[kept][[*columns, *extra, "geometry"]]

    out = gpd.GeoDataFrame(
        pd.concat([body, detailed.assign(features=1, detailed=True)], ignore_index=True),
        geometry="geometry",
        crs=frame.crs,
    )
    for column in columns:
        out[column] = out[column].where(out[column].notna(), "") if column in out else ""
    return to_display_crs(out, options, detailed=out["detailed"].to_numpy(), latitude=latitude)


def display_geometries(frame: gpd.GeoDataFrame, options: DisplayOptions) -> np.ndarray:
    """A frame's geometries in longitude/latitude (shifted into GCJ-02 if asked), not rounded."""
    geoms = frame.geometry.to_crs(_WGS84).values
    return geometries_to_gcj02(geoms) if options.gcj02 else np.asarray(geoms)


def to_display_crs(
    frame: gpd.GeoDataFrame,
    options: DisplayOptions,
    *,
    detailed: np.ndarray | None = None,
    latitude: float,
) -> gpd.GeoDataFrame:
    """Reproject to longitude/latitude, shift into GCJ-02 if asked, and round.

    ``detailed`` rows are rounded for ``options.conflict_zoom``, the others for
    ``options.detail_zoom``.
    """
    out = frame.to_crs(_WGS84)
    geoms = out.geometry.values
    if options.gcj02:
        geoms = geometries_to_gcj02(geoms)
    fine = np.ones(len(out), bool) if detailed is None else np.asarray(detailed, bool)
    rounded = np.empty(len(out), dtype=object)
    rounded[fine] = _round(geoms[fine], display_decimals(options, latitude, detailed=True))
    rounded[~fine] = _round(geoms[~fine], display_decimals(options, latitude, detailed=False))
    out.geometry = rounded
    return out
