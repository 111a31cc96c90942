"""Fast exact overlays on arrays of geometries (the engine behind the rules).

Both sides are cut into pieces (:mod:`analysis.pieces`); pairs are found in
bulk with :meth:`shapely.STRtree.query`; a piece that wholly contains
another short-cuts the overlay (the result is the smaller piece itself); the
pieces' results are merged back per feature pair. The exact operations run
in threads (:func:`analysis.polygon_arrays.parallel`).

Every function takes and returns arrays in one projected CRS; nothing here
reads files or knows about planning.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoplan.analysis.pieces import Indexed, indexed
from geoplan.analysis.polygon_arrays import group_union, parallel, polygonal


def _pair_groups(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct (left, right) pairs in sorted order; also the first row of each."""
    order = np.lexsort((right, left))
    ls, rs = left[order], right[order]
    new = np.r_[True, (ls[1:] != ls[:-1]) | (rs[1:] != rs[:-1])]
    groups = np.empty(left.size, dtype=np.int64)
    groups[order] = np.cumsum(new) - 1
    return groups, order[new]


def merge_pairs(
    left: np.ndarray, right: np.ndarray, geoms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge per-piece results into one geometry per (left, right) feature pair.

    Parameters
    ----------
    left, right : numpy.ndarray of int
        Feature indices of each piece result.
    geoms : numpy.ndarray of polygons
        The piece results; those of one pair do not overlap each other.

    Returns
    -------
    left, right, geoms : numpy.ndarray
        One row per distinct pair, sorted by (left, right).
    """
    if left.size == 0:
        return left, right, geoms
    groups, first = _pair_groups(left, right)
    return left[first], right[first], group_union(geoms, groups, first.size)


def intersect_pairs(
    a: Indexed | np.ndarray, b: Indexed | np.ndarray, *, same: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of an ``a`` and a ``b`` feature that share area, with the shared part.

    Parameters
    ----------
    a, b : Indexed or numpy.ndarray of polygons
    same : bool
        ``a`` and ``b`` are the same layer: only pairs ``i < j`` are returned.

    Returns
    -------
    ia, ib : numpy.ndarray of int
        Feature indices, sorted by (ia, ib).
    shared : numpy.ndarray of polygons
        ``a[ia] ∩ b[ib]``, polygonal part only; pairs that only touch are left out.
    """
    a = indexed(a)
    b = a if same else indexed(b)
    pa, pb = b.tree.query(a.pieces, predicate="intersects")
    oa, ob = a.owner[pa], b.owner[pb]
    if same:
        keep = oa < ob
        pa, pb, oa, ob = pa[keep], pb[keep], oa[keep], ob[keep]
    ga, gb = a.pieces[pa], b.pieces[pb]
    a_in_b = parallel(shapely.contains_properly, gb, ga)
    b_in_a = ~a_in_b & parallel(shapely.contains_properly, ga, gb)
    shared = np.where(a_in_b, ga, np.where(b_in_a, gb, None))
    partial = ~a_in_b & ~b_in_a
    shared[partial] = polygonal(parallel(shapely.intersection, ga[partial], gb[partial]))
    nonempty = shapely.area(shared) > 0
    return merge_pairs(oa[nonempty], ob[nonempty], shared[nonempty])


#: A geometry met by more cutters than this has them unioned first.
_MAX_ROUNDS = 8


def _subtract_pairs(geoms: np.ndarray, index: np.ndarray, cutters: np.ndarray) -> np.ndarray:
    """Subtract every ``cutters[k]`` from ``geoms[index[k]]``.

    A geometry met by a few cutters has them subtracted in rounds — round
    ``r`` subtracts the ``r``-th cutter of every such geometry, one
    vectorised difference — which avoids building unions; one met by many
    (a county under hundreds of zone pieces) has its cutters unioned first
    and is differenced once.
    """
    out = geoms.copy()
    order = np.argsort(index, kind="stable")
    index, cutters = index[order], cutters[order]
    start = np.searchsorted(index, index, side="left")
    rank = np.arange(index.size) - start
    count = np.bincount(index, minlength=geoms.size)[index]
    many = count > _MAX_ROUNDS
    if many.any():
        targets, slot = np.unique(index[many], return_inverse=True)
        cover = group_union(cutters[many], slot, targets.size)
        out[targets] = polygonal(parallel(shapely.difference, out[targets], cover))
    for r in range(min(_MAX_ROUNDS, int(rank.max()) + 1)):
        k = np.flatnonzero((rank == r) & ~many)
        target = index[k]
        out[target] = polygonal(parallel(shapely.difference, out[target], cutters[k]))
    return out


def outside(a: Indexed | np.ndarray, b: Indexed | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The part of each ``a`` feature outside every ``b`` feature (``a − ∪b``).

    ``a`` and ``b`` are cut into pieces; an ``a`` piece wholly inside one ``b``
    piece is recognised without an overlay, the rest are differenced against
    the union of the few ``b`` pieces they meet, and the remainders are
    merged back per feature.

    Parameters
    ----------
    a, b : Indexed or numpy.ndarray of polygons

    Returns
    -------
    ia : numpy.ndarray of int
        Indices (ascending) of the ``a`` features with a part outside.
    rest : numpy.ndarray of polygons
        That part.
    """
    a, b = indexed(a), indexed(b)
    pa, pb = b.tree.query(a.pieces, predicate="intersects")
    inside = parallel(shapely.contains_properly, b.pieces[pb], a.pieces[pa])
    covered = np.zeros(a.pieces.size, dtype=bool)
    covered[pa[inside]] = True
    pending = ~covered[pa]
    pa, pb = pa[pending], pb[pending]

    rest = a.pieces.copy()
    rest[covered] = shapely.Polygon()
    if pa.size:
        rest = _subtract_pairs(rest, pa, b.pieces[pb])
    nonempty = shapely.area(rest) > 0
    owners = a.owner[nonempty]
    ia = np.unique(owners)
    return ia, group_union(rest[nonempty], np.searchsorted(ia, owners), ia.size)


def _buffer(geoms: np.ndarray, distance: np.ndarray) -> np.ndarray:
    # 16 segments a quarter circle: the arc strays at most 0.2 % of the distance.
    return shapely.buffer(geoms, distance, quad_segs=16)


def near_pairs(
    a: Indexed | np.ndarray, b: Indexed | np.ndarray, distance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of an ``a`` and a ``b`` feature closer than ``distance``.

    Parameters
    ----------
    a : Indexed or numpy.ndarray of polygons
    b : Indexed or numpy.ndarray of geometries (lines or polygons)
    distance : float
        Metres (the CRS's unit); a pair exactly ``distance`` apart is not near.

    Returns
    -------
    ia, ib : numpy.ndarray of int
        Feature indices, sorted by (ia, ib).
    within : numpy.ndarray of polygons
        ``a[ia] ∩ buffer(b[ib], distance)``.
    gap : numpy.ndarray of float
        The pair's distance (metres).
    """
    a, b = indexed(a).geoms, indexed(b)
    ia, pb = b.tree.query(a, predicate="dwithin", distance=distance)
    gap = shapely.distance(a[ia], b.pieces[pb])
    close = gap < distance
    ia, pb, gap = ia[close], pb[close], gap[close]
    ob = b.owner[pb]
    if ia.size == 0:
        return ia, ob, np.empty(0, dtype=object), gap
    used, slot = np.unique(pb, return_inverse=True)
    zones = parallel(_buffer, b.pieces[used], np.full(used.size, distance))[slot]
    whole = parallel(shapely.contains_properly, zones, a[ia])
    within = np.where(whole, a[ia], None)
    within[~whole] = polygonal(parallel(shapely.intersection, a[ia[~whole]], zones[~whole]))
    groups, first = _pair_groups(ia, ob)
    within = group_union(within, groups, first.size)
    min_gap = np.full(first.size, np.inf)
    np.minimum.at(min_gap, groups, gap)
    return ia[first], ob[first], within, min_gap
