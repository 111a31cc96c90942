"""Geometries cut into pieces of a few hundred vertices and indexed, once per layer.

Complex polygons are cut into pieces (the ``ST_Subdivide`` idiom) so that
each exact overlay of :mod:`analysis.overlay` is cheap, and the pieces are
put in a :class:`shapely.STRtree`; :class:`Indexed` keeps both, so a layer
used by several rules is cut and indexed once.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import shapely

from geoplan.analysis.polygon_arrays import parallel

#: Pieces are cut until they have at most this many vertices.
MAX_VERTICES = 256


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
