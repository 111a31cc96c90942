"""Slivers: pieces of a breach too small or too thin to be a planning conflict.

No national threshold exists. Practice drops pieces under 200 m², or under
1,000 m² and narrower than 5 m (digitising seams along shared edges); a rule
sets its own ``min_area_m2`` and ``0`` keeps everything. Dropped pieces are
counted, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import shapely
from pyproj import CRS

from geoplan.analysis.breaches import Breaches
from geoplan.analysis.polygon_arrays import group_union
from geoplan.analysis.rules import NARROW_MAX_AREA_M2, NARROW_WIDTH_M
from geoplan.geo.area import ellipsoidal_area


@dataclass(frozen=True)
class Slivers:
    """What a rule dropped as slivers.

    Attributes
    ----------
    count : int
        Pieces dropped.
    area_m2 : float
        Their total ellipsoidal area (m²).
    """

    count: int = 0
    area_m2: float = 0.0


def is_sliver(area_m2: np.ndarray, perimeter_m: np.ndarray, min_area_m2: float) -> np.ndarray:
    """Which pieces are slivers.

    Parameters
    ----------
    area_m2 : numpy.ndarray
        Area of each single-part piece (m²).
    perimeter_m : numpy.ndarray
        Its perimeter (m).
    min_area_m2 : float
        Pieces smaller than this are slivers; ``0`` disables the test,
        including the narrowness test.

    Returns
    -------
    numpy.ndarray of bool
        True for a piece under ``min_area_m2``, or under
        :data:`~analysis.rules.NARROW_MAX_AREA_M2` with a mean width
        (2·area/perimeter) under :data:`~analysis.rules.NARROW_WIDTH_M`.
    """
    if min_area_m2 <= 0:
        return np.zeros(np.shape(area_m2), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(perimeter_m > 0, 2 * area_m2 / perimeter_m, 0.0)
    return (area_m2 < min_area_m2) | ((area_m2 < NARROW_MAX_AREA_M2) & (width < NARROW_WIDTH_M))


def drop_slivers(breaches: Breaches, min_area_m2: float, crs: CRS) -> tuple[Breaches, Slivers]:
    """Remove sliver pieces from each breach; drop breaches with nothing left.

    Parameters
    ----------
    breaches : Breaches
    min_area_m2 : float
        The rule's tolerance (m²).
    crs : pyproj.CRS
        The working CRS of the geometries.

    Returns
    -------
    kept : Breaches
    slivers : Slivers
    """
    if len(breaches) == 0 or min_area_m2 <= 0:
        return breaches, Slivers()
    parts, row = shapely.get_parts(breaches.geoms, return_index=True)
    area = ellipsoidal_area(parts, crs)
    sliver = is_sliver(area, shapely.length(parts), min_area_m2)
    if not sliver.any():
        return breaches, Slivers()
    rows = np.unique(row[~sliver])
    geoms = group_union(parts[~sliver], np.searchsorted(rows, row[~sliver]), rows.size)
    kept = replace(
        breaches,
        li=breaches.li[rows],
        ri=breaches.ri[rows],
        geoms=geoms,
        detail=breaches.detail[rows],
        distance_m=breaches.distance_m[rows],
    )
    return kept, Slivers(int(sliver.sum()), float(area[sliver].sum()))
