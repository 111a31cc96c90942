"""Vectorised operations on arrays of polygons: in threads by chunk, dissolve by group.

Array operations run in threads over chunks — shapely 2 releases the GIL in
them — so both cores work. Geometries are deliberately not prepared: GEOS
builds a prepared geometry's index lazily on first use, which is not safe
when two threads reach the same geometry (it crashed the process), and
pieces of a few hundred vertices gain little from it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import shapely

_CHUNK = 5_000
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def parallel(func: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """Apply a vectorised shapely function over aligned arrays, in threads by chunk.

    Parameters
    ----------
    func : callable
        A shapely ufunc-like function taking the arrays element by element.
    *arrays : numpy.ndarray
        Arrays of equal length.

    Returns
    -------
    numpy.ndarray
        ``func(*arrays)``.
    """
    n = len(arrays[0])
    if n <= _CHUNK or _workers() == 1:
        return func(*arrays)
    cuts = [*range(0, n, _CHUNK), n]
    with ThreadPoolExecutor(_workers()) as pool:
        parts = pool.map(lambda se: func(*(a[se[0] : se[1]] for a in arrays)), pairwise(cuts))
        return np.concatenate(list(parts))


def group_union(geoms: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
    """Dissolve polygons by group, without a Python loop over groups.

    The parts of each group are gathered into one (possibly invalid)
    multipolygon and made valid with GEOS's ``structure`` method, which
    unions overlapping and edge-sharing shells.

    Parameters
    ----------
    geoms : numpy.ndarray of polygons
    groups : numpy.ndarray of int
        The group of each piece, ``0 <= group < size``.
    size : int
        Number of groups.

    Returns
    -------
    numpy.ndarray
        One geometry per group; an empty polygon for a group without pieces.
    """
    out = np.full(size, shapely.Polygon(), dtype=object)
    if geoms.size == 0:
        return out
    parts, index = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    parts, index = parts[poly], groups[index[poly]]
    order = np.argsort(index, kind="stable")
    filled = np.zeros(size, dtype=bool)
    filled[index] = True
    multi = np.empty(size, dtype=object)
    shapely.multipolygons(parts[order], indices=index[order], out=multi)
    single = np.bincount(index, minlength=size) == 1
    out[filled & ~single] = shapely.make_valid(multi[filled & ~single], method="structure")
    out[filled & single] = shapely.get_geometry(multi[filled & single], 0)
    return out


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (touching edges give lines).

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries

    Returns
    -------
    numpy.ndarray
        Polygons or multipolygons, empty where nothing polygonal is left.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    mixed = ~np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    if mixed.any():
        out[mixed] = group_union(geoms[mixed], np.arange(mixed.sum()), int(mixed.sum()))
    return out
