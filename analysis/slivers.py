"""Slivers: pieces of a breach too small or too thin to be a planning conflict.

No national threshold exists. Practice drops pieces under 200 m², or under
1,000 m² and narrower than 5 m (digitising seams along shared edges); a rule
sets its own ``min_area_m2`` and ``0`` keeps everything. The township split
can cut a corner under 0.01 亩 off a kept breach: it is a sliver too
(:func:`drop_cut_slivers`), not a 0.00 亩 conflict. Dropped pieces are
counted, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geoplan.analysis.breaches import Breaches
from geoplan.analysis.polygon_arrays import group_union
from geoplan.analysis.rules import NARROW_MAX_AREA_M2, NARROW_WIDTH_M
from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.units import SQUARE_METRES

#: Rows the township split leaves under this (m², 0.01 亩) are slivers, not conflicts.
CUT_SLIVER_M2 = 0.01 * SQUARE_METRES["mu"]


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

    def __add__(self, other: Slivers) -> Slivers:
        return Slivers(self.count + other.count, self.area_m2 + other.area_m2)


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


def drop_cut_slivers(
    rows: gpd.GeoDataFrame, min_area_m2: float
) -> tuple[gpd.GeoDataFrame, Slivers]:
    """Remove the conflict rows the township split left under :data:`CUT_SLIVER_M2`.

    A breach is kept only with every part of at least ``min_area_m2``, so a
    row smaller than both can only be a corner the split cut off; a report
    would show it as 0.00 亩.

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        Conflict rows (:func:`analysis.conflict_rows.conflict_rows`), ``area_m2`` in m².
    min_area_m2 : float
        The rule's tolerance (m²); ``0`` keeps every row.

    Returns
    -------
    kept : geopandas.GeoDataFrame
    slivers : Slivers
        The rows dropped, counted as the rule's slivers.
    """
    small = rows["area_m2"].to_numpy() < min(CUT_SLIVER_M2, min_area_m2)
    if not small.any():
        return rows, Slivers()
    dropped = Slivers(int(small.sum()), float(rows["area_m2"].to_numpy()[small].sum()))
    return rows.loc[~small].reset_index(drop=True), dropped
