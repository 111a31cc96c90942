"""Ellipsoidal areas on the CGCS2000 ellipsoid, as 国土调查 reports them.

Planar Gauss-Krüger area differs from ellipsoidal area by up to 0.17 %
across a 3° zone, so every area geoplan reports is ellipsoidal. The
computation is vectorised: coordinates are densified in their own CRS,
transformed in one call to a cylindrical equal-area projection on the
CGCS2000 ellipsoid (exactly area-preserving, point for point), and measured
with :func:`shapely.area`. Densifying keeps the difference between a
projected straight edge and the edge on the ellipsoid far below 0.01 %.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import ArrayLike
from pyproj import CRS
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import LambertCylindricalEqualAreaConversion

from geoplan.geo.crs import CGCS2000, to_crs, transformer

# Longest edge kept undivided before projecting: metres in a projected CRS,
# degrees in a geographic one (0.01° ≈ 1 km).
_MAX_EDGE_M = 1000.0
_MAX_EDGE_DEG = 0.01


@lru_cache(maxsize=1)
def equal_area_crs() -> CRS:
    """Lambert cylindrical equal-area projection on the CGCS2000 datum."""
    return ProjectedCRS(
        conversion=LambertCylindricalEqualAreaConversion(latitude_first_parallel=0.0),
        geodetic_crs=to_crs(CGCS2000),
        name="CGCS2000 / Lambert cylindrical equal-area",
    )


def to_equal_area(geometries: ArrayLike, crs: CRS | str | int) -> np.ndarray:
    """Densify and transform geometries into :func:`equal_area_crs`.

    Parameters
    ----------
    geometries : array-like of shapely geometries
        In ``crs``.
    crs : pyproj.CRS, str or int
        Their CRS.

    Returns
    -------
    numpy.ndarray of shapely geometries
    """
    crs = to_crs(crs)
    geoms = np.asarray(geometries, dtype=object)
    max_edge = _MAX_EDGE_DEG if crs.is_geographic else _MAX_EDGE_M
    dense = shapely.segmentize(geoms, max_edge)
    project = transformer(crs, equal_area_crs())

    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = project.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(dense, _xy)


def ellipsoidal_area(geometries: ArrayLike, crs: CRS | str | int) -> np.ndarray:
    """Area of each geometry on the CGCS2000 ellipsoid.

    Parameters
    ----------
    geometries : array-like of shapely geometries
        Polygons or multipolygons (other types measure 0; None gives NaN).
    crs : pyproj.CRS, str or int
        CRS of the coordinates, projected or geographic.

    Returns
    -------
    numpy.ndarray of float
        Area in m², ellipsoidal.

    Notes
    -----
    Agrees with ``pyproj.Geod(ellps="GRS80").geometry_area_perimeter`` to
    better than 0.01 % for planning polygons (tested across zones 35 and 36,
    with holes and multiparts).

    Examples
    --------
    >>> from shapely import box
    >>> a = ellipsoidal_area([box(106.0, 32.0, 106.1, 32.1)], 4490)
    >>> round(float(a[0]) / 1e6, 2)  # km²
    104.72
    """
    geoms = np.asarray(geometries, dtype=object)
    if geoms.size == 0:
        return np.zeros(0, dtype="float64")
    return shapely.area(to_equal_area(geoms, crs))
