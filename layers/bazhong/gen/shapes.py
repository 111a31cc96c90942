"""Shape helpers of the Bazhong generator: blobs, wiggly lines, calibration, lookups.

Everything is in EPSG:4545 metres and driven by a ``numpy.random.Generator``
so that the same seed gives the same shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geoplan.geo.area import ellipsoidal_area

CRS = "EPSG:4545"
_TO_GK = Transformer.from_crs(4490, 4545, always_xy=True)


def gk(lon: float, lat: float) -> tuple[float, float]:
    """CGCS2000 longitude/latitude (degrees) → EPSG:4545 easting/northing (m)."""
    x, y = _TO_GK.transform(lon, lat)
    return float(x), float(y)


def area(geom: shapely.Geometry) -> float:
    """Ellipsoidal area (m²) of one geometry in EPSG:4545."""
    return float(ellipsoidal_area(np.array([geom], dtype=object), CRS)[0])


def stored_area(geoms: np.ndarray) -> np.ndarray:
    """Ellipsoidal areas (m², to 0.01 m²) of EPSG:4545 geometries, as the MJ fields store them."""
    return ellipsoidal_area(geoms, CRS).round(2)


def sharing_area(left: np.ndarray, right: np.ndarray) -> list[tuple[int, int, float]]:
    """The pairs ``(i, j, m²)`` of ``left[i]`` and ``right[j]`` that share area, with its size.

    Sorted by ``i``; the area is ellipsoidal (m²), and pairs that only touch are left out.
    """
    i, j = shapely.STRtree(right).query(left, predicate="intersects")
    shared = ellipsoidal_area(shapely.intersection(left[i], right[j]), CRS)
    keep = shared > 0
    return list(zip(i[keep].tolist(), j[keep].tolist(), shared[keep].tolist(), strict=True))


def square(x: float, y: float, half: float) -> shapely.Polygon:
    """The axis-parallel square of half-side ``half`` (m) centred on ``x, y`` (m)."""
    return shapely.box(x - half, y - half, x + half, y + half)


def first_ring(geom: shapely.Geometry) -> shapely.LinearRing:
    """The exterior ring of a polygon, or of the first part of a multipolygon."""
    return geom.exterior if geom.geom_type == "Polygon" else geom.geoms[0].exterior


def named(frame: pd.DataFrame, name: str) -> pd.Series:
    """The first row of ``frame`` whose name field ``MC`` is ``name``."""
    return frame.loc[frame["MC"] == name].iloc[0]


def random_points(rng: np.random.Generator, polygon: shapely.Geometry, n: int) -> np.ndarray:
    """``n`` points drawn uniformly inside ``polygon``, as an (n, 2) array of x, y (m)."""
    x0, y0, x1, y1 = polygon.bounds
    shapely.prepare(polygon)
    out = np.empty((0, 2))
    while len(out) < n:
        xy = rng.uniform([x0, y0], [x1, y1], size=(4 * n, 2))
        out = np.vstack([out, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
    return out[:n]


def blob(
    rng: np.random.Generator,
    x: float,
    y: float,
    radius: float,
    *,
    vertices: int = 180,
    roughness: float = 0.25,
    stretch: float = 1.0,
) -> shapely.Polygon:
    """A wiggly, roughly round polygon (a natural-looking outline).

    Parameters
    ----------
    rng : numpy.random.Generator
    x, y : float
        Centre (m).
    radius : float
        Mean radius (m).
    vertices : int
        Outline vertices.
    roughness : float
        Relative amplitude of the outline's wiggles.
    stretch : float
        East-west over north-south elongation.
    """
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    wiggle = np.zeros(vertices)
    for k in (2, 3, 5, 8, 13, 21):
        wiggle += rng.normal(0, roughness / np.sqrt(k)) * np.sin(k * angles + rng.uniform(0, 6.28))
    r = radius * np.clip(1 + wiggle, 0.35, None)
    ring = np.column_stack([x + stretch * r * np.cos(angles), y + r * np.sin(angles) / stretch])
    return shapely.make_valid(shapely.Polygon(ring))


def wiggly_line(
    rng: np.random.Generator, lonlat: list[tuple[float, float]], *, step: float = 400.0
) -> shapely.LineString:
    """A line through the given CGCS2000 points, densified with smooth meanders.

    Parameters
    ----------
    lonlat : list of (lon, lat)
        The course, in degrees.
    step : float
        Vertex spacing (m).
    """
    xy = np.array([gk(lon, lat) for lon, lat in lonlat])
    line = shapely.segmentize(shapely.LineString(xy), step)
    coords = shapely.get_coordinates(line)
    n = len(coords)
    t = np.linspace(0, 1, n)
    offset = np.zeros(n)
    for k in (3, 7, 15, 31):
        offset += rng.normal(0, 900 / k) * np.sin(np.pi * k * t + rng.uniform(0, 6.28))
    offset[[0, -1]] = 0
    d = np.gradient(coords, axis=0)
    normal = np.column_stack([-d[:, 1], d[:, 0]]) / np.linalg.norm(d, axis=1)[:, None]
    return shapely.LineString(coords + normal * offset[:, None])


def sized_blob(
    rng: np.random.Generator, x: float, y: float, target_m2: float, *, lo: float, **outline: Any
) -> shapely.Geometry:
    """A :func:`blob` centred on ``x, y`` (m), scaled about its centre to ``target_m2``.

    Parameters
    ----------
    target_m2 : float
        Ellipsoidal area wanted (m²).
    lo : float
        Smallest mean radius tried (m); the largest is 20 km.
    **outline
        ``vertices``, ``roughness`` and ``stretch`` of the blob.
    """
    shape = blob(rng, x, y, 1.0, **outline)
    centre = shapely.Point(x, y)
    return calibrate(lambda f: scale_about(shape, f, centre), target_m2, lo, 20_000)


def scale_about(geom: shapely.Geometry, factor: float, origin: shapely.Point) -> shapely.Geometry:
    """``geom`` scaled by ``factor`` about ``origin``."""
    ox, oy = origin.x, origin.y
    return shapely.transform(geom, lambda c: (c - [ox, oy]) * factor + [ox, oy])


def calibrate(
    make: Callable[[float], Any],
    target: float,
    lo: float,
    hi: float,
    *,
    measure: Callable[[Any], float] = area,
    rel: float = 5e-4,
) -> Any:
    """Bisect a size parameter until ``measure(make(p))`` is ``target``.

    Parameters
    ----------
    make : callable
        Parameter → shape (a geometry, or an array of them); ``measure`` of
        it must grow with the parameter.
    target : float
        Wanted measure (by default the ellipsoidal area, m²).
    lo, hi : float
        Bracket of the parameter.
    measure : callable
        Shape → number; the ellipsoidal area by default.
    rel : float
        Relative tolerance.

    Returns
    -------
    The shape within ``rel`` of the target (or the last one tried after 50 steps).
    """
    for _ in range(50):
        mid = (lo + hi) / 2
        shape = make(mid)
        got = measure(shape)
        if abs(got - target) <= rel * target:
            break
        lo, hi = (mid, hi) if got < target else (lo, mid)
    return shape
