"""Breaches: the offending feature pairs of one rule, with the geometry of each breach.

A relation's breach function (:mod:`analysis.relations`) returns them before
slivers are dropped (:mod:`analysis.slivers`) and before the split by
township (:mod:`analysis.attribution`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.analysis.overlay import intersect_pairs
from geoplan.analysis.selection import Selection


@dataclass
class Breaches:
    """Offending feature pairs of one rule, with the breach geometry.

    Attributes
    ----------
    left, right : geopandas.GeoDataFrame or None
        The frames ``li`` and ``ri`` index (by position); ``right`` is None
        where no right feature is involved.
    li, ri : numpy.ndarray of int
        Positions in ``left`` and ``right`` (``-1``: none).
    geoms : numpy.ndarray of polygons
        Where the rule is broken.
    detail : numpy.ndarray of str
        A key of :data:`geoplan.layers.vocabulary.BREACH_DETAILS` per row.
    distance_m : numpy.ndarray of float
        Distance between the features for distance rules, else NaN (m).
    """

    left: gpd.GeoDataFrame
    right: gpd.GeoDataFrame | None
    li: np.ndarray
    ri: np.ndarray
    geoms: np.ndarray
    detail: np.ndarray
    distance_m: np.ndarray

    @classmethod
    def of(
        cls,
        left: gpd.GeoDataFrame,
        right: gpd.GeoDataFrame | None,
        li: np.ndarray,
        ri: np.ndarray | None,
        geoms: np.ndarray,
        detail: str,
        distance_m: np.ndarray | None = None,
    ) -> Breaches:
        """Rows of one detail; ``ri=None`` means no right feature."""
        n = len(li)
        return cls(
            left=left,
            right=right,
            li=np.asarray(li, dtype=np.int64),
            ri=np.full(n, -1, dtype=np.int64) if ri is None else np.asarray(ri, dtype=np.int64),
            geoms=np.asarray(geoms, dtype=object),
            detail=np.full(n, detail, dtype=object),
            distance_m=np.full(n, np.nan) if distance_m is None else np.asarray(distance_m),
        )

    def __len__(self) -> int:
        return int(self.li.size)


def shared_area(left: Selection, right: Selection, detail: str, *, same: bool = False) -> Breaches:
    """Each pair of a left and a right feature that share area, with the shared part.

    Parameters
    ----------
    left, right : Selection
    detail : str
        The rows' key of :data:`geoplan.layers.vocabulary.BREACH_DETAILS`.
    same : bool
        ``left`` and ``right`` are one layer: each pair once, no feature with itself.
    """
    li, ri, shared = intersect_pairs(left.geoms, right.geoms, same=same)
    return Breaches.of(left.frame, right.frame, li, ri, shared, detail)


def concat(parts: list[Breaches]) -> Breaches:
    """Join breaches whose rows may index different frames.

    Rows are re-pointed into one left and one right frame made by stacking
    the parts' frames.
    """
    parts = [p for p in parts if len(p)] or parts[:1]
    if len(parts) == 1:
        return parts[0]
    lefts, rights, li, ri = [], [], [], []
    left_offset = right_offset = 0
    for part in parts:
        lefts.append(part.left)
        li.append(part.li + left_offset)
        left_offset += len(part.left)
        if part.right is None:
            ri.append(part.ri)
        else:
            rights.append(part.right)
            ri.append(np.where(part.ri >= 0, part.ri + right_offset, -1))
            right_offset += len(part.right)
    crs = parts[0].left.crs
    return Breaches(
        left=gpd.GeoDataFrame(pd.concat(lefts, ignore_index=True), crs=crs),
        right=gpd.GeoDataFrame(pd.concat(rights, ignore_index=True), crs=crs) if rights else None,
        li=np.concatenate(li),
        ri=np.concatenate(ri),
        geoms=np.concatenate([p.geoms for p in parts]),
        detail=np.concatenate([p.detail for p in parts]),
        distance_m=np.concatenate([p.distance_m for p in parts]),
    )
