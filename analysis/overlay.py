"""Fast exact overlays on arrays of geometries (the engine behind the rules).

Complex polygons are first cut into pieces of a few hundred vertices (the
``ST_Subdivide`` idiom), so that each exact intersection is cheap; pairs are
found in bulk with :meth:`shapely.STRtree.query`; a piece that wholly
contains another short-cuts the overlay (the result is the smaller piece
itself); the pieces' results are merged back per feature pair. Array
operations run in threads over chunks — shapely 2 releases the GIL in them —
so both cores work. Geometries are deliberately not prepared: GEOS builds a
prepared geometry's index lazily on first use, which is not safe when two
threads reach the same geometry (it crashed the process), and pieces of a
few hundred vertices gain little from it.

Every function takes and returns arrays in one projected CRS; nothing here
reads files or knows about planning.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from itertools import pairwise

import numpy as np
import shapely

#: Pieces are cut until they have at most this many vertices.
MAX_VERTICES = 256
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


def subdivide(geoms: np.ndarray, max_vertices: int = MAX_VERTICES) -> tuple[np.ndarray, np.ndarray]:
    """Cut geometries into pieces of at most ``max_vertices`` vertices.

    Multiparts are split into their parts; a part with too many vertices is
    cut in half across the longer side of its bounding box, recursively, all
    parts of one level at once.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Polygons or lines, all of one family.
    max_vertices : int
        Largest piece, in vertices.

    Returns
    -------
    pieces : numpy.ndarray
        The pieces (single-part geometries of the input's family).
    owner : numpy.ndarray of int
        For each piece, the index of the geometry it came from.
    """
    parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    if parts.size == 0:
        return parts, owner
    family = shapely.get_type_id(parts[0])
    done, done_owner = [], []
    while parts.size:
        small = shapely.get_num_coordinates(parts) <= max_vertices
        done.append(parts[small])
        done_owner.append(owner[small])
        big, big_owner = parts[~small], owner[~small]
        if big.size == 0:
            break
        x0, y0, x1, y1 = shapely.bounds(big).T
        wide = (x1 - x0) >= (y1 - y0)
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        first = shapely.box(x0, y0, np.where(wide, xm, x1), np.where(wide, y1, ym))
        second = shapely.box(np.where(wide, xm, x0), np.where(wide, y0, ym), x1, y1)
        halves = _clip(np.concatenate([big, big]), np.concatenate([first, second]))
        parts, index = shapely.get_parts(halves, return_index=True)
        owner = np.concatenate([big_owner, big_owner])[index]
        keep = (shapely.get_type_id(parts) == family) & ~shapely.is_empty(parts)
        parts, owner = parts[keep], owner[keep]
    return np.concatenate(done), np.concatenate(done_owner)


def _clip_each(geoms: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    bounds = shapely.bounds(boxes)
    return np.array(
        [shapely.clip_by_rect(g, *b) for g, b in zip(geoms, bounds, strict=True)], dtype=object
    )


def _clip(geoms: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``geoms[i] ∩ boxes[i]``, by GEOS's rectangle clipping where its result is valid.

    Rectangle clipping is about 3× faster than a general intersection but
    does not promise a valid result; the rare invalid piece is redone with
    :func:`shapely.intersection`. ``clip_by_rect`` takes scalar bounds, hence
    one call per piece (pieces, not features: a few per 256 vertices).
    """
    out = parallel(_clip_each, geoms, boxes)
    bad = ~shapely.is_valid(out)
    if bad.any():
        out[bad] = shapely.intersection(geoms[bad], boxes[bad])
    return out


class Indexed:
    """Geometries with their pieces and an STRtree of the pieces, computed once.

    A layer used by several rules is cut and indexed once; the overlay
    functions accept either an :class:`Indexed` or a plain array.

    Parameters
    ----------
    geoms : array-like of shapely geometries
    """

    def __init__(self, geoms: np.ndarray, parts: list[Indexed] | None = None) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        self._parts = parts

    @classmethod
    def concat(cls, parts: list[Indexed]) -> Indexed:
        """Several indexed arrays as one, reusing (not redoing) their cuts."""
        return cls(np.concatenate([p.geoms for p in parts]), parts)

    @cached_property
    def _cut(self) -> tuple[np.ndarray, np.ndarray]:
        if self._parts is None:
            return subdivide(self.geoms)
        offsets = np.cumsum([0] + [len(p) for p in self._parts[:-1]])
        return (
            np.concatenate([p.pieces for p in self._parts]),
            np.concatenate([p.owner + o for p, o in zip(self._parts, offsets, strict=True)]),
        )

    @property
    def pieces(self) -> np.ndarray:
        """Pieces of at most :data:`MAX_VERTICES` vertices."""
        return self._cut[0]

    @property
    def owner(self) -> np.ndarray:
        """Index into ``geoms`` of each piece."""
        return self._cut[1]

    @cached_property
    def tree(self) -> shapely.STRtree:
        """STRtree over :attr:`pieces`."""
        return shapely.STRtree(self.pieces)

    def __len__(self) -> int:
        return int(self.geoms.size)


def indexed(geoms: Indexed | np.ndarray) -> Indexed:
    """``geoms`` as an :class:`Indexed` (wrapping a plain array)."""
    return geoms if isinstance(geoms, Indexed) else Indexed(geoms)


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
