"""The geometry of each rule relation: which features break it, and where.

Each function takes the selected features of the rule's sides
(:class:`Selection`: a frame in the working CRS with ``layer_kind``, ``id``,
``name`` and ``source_fid``, and its geometries cut and indexed once) and
returns :class:`Breaches`: the offending feature pairs and
the geometry of each breach, before slivers are dropped and before the
split by township.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.analysis.overlay import Indexed, intersect_pairs, near_pairs, outside


@dataclass
class Selection:
    """The features of one rule side.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        ``layer_kind``, ``id``, ``name``, ``source_fid`` and the geometry,
        with a 0-based index.
    geoms : Indexed
        Its geometries, cut and indexed on first use.
    """

    frame: gpd.GeoDataFrame
    geoms: Indexed

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame) -> Selection:
        """Wrap a frame."""
        return cls(frame, Indexed(frame.geometry.values))

    def __len__(self) -> int:
        return len(self.frame)


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


def not_overlap(left: Selection, right: Selection) -> Breaches:
    """``must_not_overlap``: the area each left and right feature share (A ∩ B)."""
    li, ri, shared = intersect_pairs(left.geoms, right.geoms)
    return Breaches.of(left.frame, right.frame, li, ri, shared, "overlap")


def not_self_overlap(layer: Selection) -> Breaches:
    """``must_not_self_overlap``: the area shared by two features of one layer."""
    li, ri, shared = intersect_pairs(layer.geoms, layer.geoms, same=True)
    return Breaches.of(layer.frame, layer.frame, li, ri, shared, "overlap")


def be_within(left: Selection, right: Selection) -> Breaches:
    """``must_be_within``: the part of each left feature outside every right one (A − ∪B)."""
    li, rest = outside(left.geoms, right.geoms)
    return Breaches.of(left.frame, None, li, None, rest, "outside")


def keep_distance(left: Selection, right: Selection, distance: float) -> Breaches:
    """``must_keep_distance``: the part of each left feature within ``distance`` m of a right one.

    A pair exactly ``distance`` apart keeps its distance.
    """
    li, ri, near, gap = near_pairs(left.geoms, right.geoms, distance)
    return Breaches.of(left.frame, right.frame, li, ri, near, "within_distance", gap)


def tile(layers: list[Selection], region: Selection) -> Breaches:
    """``must_tile``: where the layers leave the region uncovered, cover it twice, or spill out.

    Parameters
    ----------
    layers : list of Selection
        The tiling layers (for example the three zones).
    region : Selection
        The territory they must cover exactly once (for example the counties).
    """
    frame = gpd.GeoDataFrame(
        pd.concat([s.frame for s in layers], ignore_index=True), crs=region.frame.crs
    )
    cover = Selection(frame, Indexed.concat([s.geoms for s in layers]))
    li, ri, twice = intersect_pairs(cover.geoms, cover.geoms, same=True)
    double = Breaches.of(frame, frame, li, ri, twice, "double_cover")
    gi, gaps = outside(region.geoms, cover.geoms)
    gap = Breaches.of(region.frame, None, gi, None, gaps, "gap")
    oi, spill = outside(cover.geoms, region.geoms)
    out = Breaches.of(frame, None, oi, None, spill, "outside_region")
    return concat([double, gap, out])


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
