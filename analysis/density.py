"""Conflict density: the conflicts' area per 1 km² cell, by severity.

A grid over the region in the working CRS; each conflict is intersected
with the cells it touches (one bulk STRtree query, vectorised
intersections) and its area added to its severity's band. Areas are planar
in the working Gauss-Krüger CRS (within 0.2 % of ellipsoidal across
Bazhong), which is what a density map needs. With the default 1 km cell a
value is m² of conflict per km²; conflicts that overlap (two rules on one
patch) each add their area, so a cell can exceed 1,000,000.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from rasterio.transform import Affine

#: Side of a density cell (metres).
CELL_M = 1000.0


@dataclass(frozen=True)
class Density:
    """Conflict area (m²) per cell, one band per severity.

    Attributes
    ----------
    values : numpy.ndarray
        float32, shape (bands, rows, cols).
    bands : tuple of str
        The severity of each band.
    transform : affine.Affine
    crs : pyproj.CRS
    """

    values: np.ndarray
    bands: tuple[str, ...]
    transform: Affine
    crs: CRS


def conflict_density(
    conflicts: gpd.GeoDataFrame,
    extent: tuple[float, float, float, float],
    severities: Sequence[str],
    cell_m: float = CELL_M,
) -> Density:
    """Rasterise the conflicts' areas onto a ``cell_m`` grid covering ``extent``.

    Parameters
    ----------
    conflicts : geopandas.GeoDataFrame
        With a ``severity`` column, in a projected CRS.
    extent : tuple of float
        (minx, miny, maxx, maxy) in the conflicts' CRS; snapped outwards to
        whole cells.
    severities : sequence of str
        Band order.
    cell_m : float
        Cell side (metres).
    """
    minx, miny, maxx, maxy = extent
    x0, y1 = math.floor(minx / cell_m) * cell_m, math.ceil(maxy / cell_m) * cell_m
    cols = max(1, math.ceil((maxx - x0) / cell_m))
    rows = max(1, math.ceil((y1 - miny) / cell_m))
    values = np.zeros((len(severities), rows, cols), dtype="float64")
    if len(conflicts):
        col, row = np.meshgrid(np.arange(cols), np.arange(rows))
        cells = shapely.box(
            x0 + col.ravel() * cell_m,
            y1 - (row.ravel() + 1) * cell_m,
            x0 + (col.ravel() + 1) * cell_m,
            y1 - row.ravel() * cell_m,
        )
        geoms = conflicts.geometry.values
        which, cell = shapely.STRtree(cells).query(geoms, predicate="intersects")
        area = shapely.area(shapely.intersection(geoms[which], cells[cell]))
        band = np.array([list(severities).index(s) for s in conflicts["severity"]])[which]
        np.add.at(values, (band, cell // cols, cell % cols), area)
    return Density(
        values.astype("float32"),
        tuple(severities),
        Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1),
        conflicts.crs,
    )
