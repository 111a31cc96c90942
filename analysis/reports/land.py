"""Land counted once: the area of the union of a group's conflict geometries.

The same ground is found by several rules (a protected area overlapping the
red line and farmland) and pieces of one rule can overlap, so the summed
area of a group's rows counts some ground more than once. Every summary
group of the report therefore also carries the area of the union of its
rows' geometries — ellipsoidal, like every other area (:mod:`geo.area`).

Unioning tens of thousands of farmland pieces is slow in GEOS and mostly
useless: pieces that only touch (neighbouring patches) or lie apart add up.
:class:`LandIndex` finds once (one STRtree query) which rows share area;
the land of a group is then the sum of its rows that share area with no
other row of the group, plus the area of the union of each connected set of
rows that do — found for all groups of a grouping at once
(:meth:`LandIndex.land_m2`). A connected set is unioned once whatever
groupings hold it (the whole check, a severity, a rule and a township often
hold the same), and identical geometries in it (a piece two rules find
between the same features) once each. A row that lies inside a larger row of
its group, away from that row's edge (a farmland piece inside the red-line
piece of another rule), adds no land and is left out of the union: on a city
that is more than half of the rows, and halves the time of the unions.

A connected set can hold thousands of farmland pieces (a city's largest
union takes seconds), and the same ground is in the sets of many groupings.
Given partitions of the rows (the report model gives the township, then the
township and severity), a set is unioned as the union of the unions of its
parts in each partition in turn, each kept by its pieces: the pieces are cut
by township, so the ground of a township and severity is unioned once, and
the county, the severity and the whole check union those unions.

(Noding all the pieces' boundaries once and summing the faces each group
covers would need no union at all, but the noding of a city's nearly
coincident edges fails to converge and its snapping fallback drops edges.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.crs import to_crs
from geoplan.geo.units import SQUARE_METRES

# Distance from the edge of a row within which a row inside it is still unioned
# (see LandIndex._inside): metres in a projected CRS, degrees in a geographic one.
_NEAR_M = 1e-3
_NEAR_DEG = 1e-8


def land_areas(area_m2: float) -> dict[str, float]:
    """A land area (m²) as the ``land_area_*`` keys of ``report.json`` (公顷 to 4 decimals)."""
    area = float(area_m2)
    return {
        "land_area_m2": round(area, 2),
        "land_area_mu": round(area / SQUARE_METRES["mu"], 2),
        "land_area_ha": round(area / SQUARE_METRES["ha"], 4),
    }


def _components(size: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A label per node (the smallest node of its connected component) of an edge list."""
    label = np.arange(size)
    while True:
        low = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        label = label[label]  # jump to the root found so far
        if np.array_equal(label, before):
            return label


def _relate(geoms: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The DE-9IM matrix of each pair ``geoms[a], geoms[b]``, a byte per cell.

    Cells in the order II IB IE BI BB BE EI EB EE. The side with more
    vertices is prepared (a copy: the conflicts' geometries are read by
    other output threads), which halves the time on a city.
    """
    size = shapely.get_num_coordinates(geoms)
    swap = size[a] < size[b]
    one, other = np.where(swap, b, a), np.where(swap, a, b)
    used, at = np.unique(one, return_inverse=True)
    prepared = shapely.from_wkb(shapely.to_wkb(geoms[used]))
    shapely.prepare(prepared)
    cells = np.asarray(shapely.relate(prepared[at], geoms[other]), dtype="S9")
    cells = cells.view(np.uint8).reshape(-1, 9)
    cells[swap] = cells[swap][:, [0, 3, 6, 1, 4, 7, 2, 5, 8]]  # transposed
    return cells


class LandIndex:
    """Which conflict rows share area, to measure the land of any grouping of them.

    Parameters
    ----------
    geoms : numpy.ndarray of polygons
        The conflict rows' geometries in the working CRS.
    area_m2 : numpy.ndarray of float
        Each row's ellipsoidal area (m²), as the conflicts table holds it.
    crs : pyproj.CRS
        The working CRS.
    parts : sequence of numpy.ndarray of int, optional
        Partitions of the rows, each finer than the one before (such as the
        township, then the township and severity): a connected set of rows
        is unioned as the union of the unions of its pieces in each
        partition, which other groupings reuse (see :meth:`land_m2`).
    """

    def __init__(
        self, geoms: np.ndarray, area_m2: np.ndarray, crs: CRS, parts: Sequence[np.ndarray] = ()
    ) -> None:
        # Rows are taken in the order of their geometries' WKB, not as given, so that
        # the same rows in another order (a check combined from partitions) are
        # unioned and summed in the same order and give the same areas to the bit.
        wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
        self._order = np.array(sorted(range(len(wkb)), key=wkb.__getitem__), dtype=np.intp)
        geoms = np.asarray(geoms, dtype=object)[self._order]
        self.geoms, self.crs, self.size = geoms, crs, len(geoms)
        self.area_m2 = np.asarray(area_m2, dtype=float)[self._order]
        self.parts = [np.asarray(p)[self._order] for p in parts]
        a, b = shapely.STRtree(geoms).query(geoms)  # pairs whose boxes meet
        keep = a < b
        a, b = a[keep], b[keep]
        cells = _relate(geoms, a, b)
        empty = ord("F")
        shares = cells[:, 0] != empty  # interiors meet: they share area
        self.a, self.b = a[shares], b[shares]
        self._cover, self._covered = self._inside(a, b, cells)
        #: the same number for rows of identical geometry
        self.piece = pd.factorize(wkb[self._order])[0] if self.size else np.zeros(0, int)
        self._unions: dict[tuple[int, ...], float] = {}
        self._shapes: dict[tuple[int, ...], Any] = {}

    @property
    def cover(self) -> np.ndarray:
        """Rows (positions as given) that another row lies inside (see :meth:`_inside`)."""
        return self._order[self._cover]

    @property
    def covered(self) -> np.ndarray:
        """The rows lying inside :attr:`cover`'s, pair by pair."""
        return self._order[self._covered]

    def _inside(
        self, a: np.ndarray, b: np.ndarray, cells: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs of rows where the second lies inside the first, away from its edge.

        Such a row adds no land to a group holding the first: it is left out
        of the group's union (a chain of them ends at a row left in, as the
        first is never the smaller). A row within a millimetre of the edge of
        the row it lies in stays in the union, as do equal rows (:meth:`_key`
        takes them once): GEOS nodes the vertices of a row that close onto
        that edge, and :mod:`geo.area`, which densifies edge by edge,
        measures the union with them a few m² per 10⁸ m² differently.
        """
        empty = ord("F")
        a_in_b = (cells[:, 2] == empty) & (cells[:, 5] == empty)  # IE, BE
        b_in_a = (cells[:, 6] == empty) & (cells[:, 7] == empty)  # EI, EB
        larger = self.area_m2[a] >= self.area_m2[b]
        a_over_b, b_over_a = b_in_a & larger, a_in_b & ~larger
        cover = np.concatenate([a[a_over_b], b[b_over_a]])
        covered = np.concatenate([b[a_over_b], a[b_over_a]])
        if cover.size == 0:
            return cover, covered
        covers, at = np.unique(cover, return_inverse=True)
        edges = shapely.boundary(self.geoms[covers])
        shapely.prepare(edges)
        near = _NEAR_DEG if to_crs(self.crs).is_geographic else _NEAR_M
        away = ~shapely.dwithin(edges[at], self.geoms[covered], near)
        return cover[away], covered[away]

    def _key(self, rows: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
        """A set of rows' key (its distinct pieces, sorted) and one row of each piece."""
        if len(rows) == 2:  # most sets: without np.unique's cost
            a, b = self.piece[rows].tolist()
            if a == b:
                return (a,), rows[:1]
            return ((a, b), rows) if a < b else ((b, a), rows[::-1])
        piece, at = np.unique(self.piece[rows], return_index=True)
        return tuple(piece.tolist()), rows[at]

    def _union(self, rows: np.ndarray, labels: list[np.ndarray], level: int) -> Any:
        """The union of ``rows`` (distinct pieces), as the union of its sets in ``labels[level]``.

        A set cut into several by the next partition is the union of their
        unions; each union is kept by its pieces, so a set found again in
        another grouping is not unioned again.
        """
        key, distinct = self._key(rows)
        if key in self._shapes:
            return self._shapes[key]
        if len(distinct) == 1:
            return self.geoms[distinct[0]]
        if level == len(labels):
            union = shapely.union if len(distinct) == 2 else lambda *g: shapely.union_all(g)
            shape = union(*self.geoms[distinct])
        else:
            sets = labels[level][rows]
            if (sets == sets[0]).all():
                shape = self._union(rows, labels, level + 1)
            else:
                order = np.argsort(sets, kind="stable")
                bounds = np.flatnonzero(np.diff(sets[order])) + 1
                pieces = [self._union(r, labels, level + 1) for r in np.split(rows[order], bounds)]
                shape = shapely.union_all(np.array(pieces, dtype=object))
        self._shapes[key] = shape
        return shape

    def _areas(self, sets: list[np.ndarray], labels: list[np.ndarray]) -> np.ndarray:
        """The area (m²) of the union of each set of rows, each distinct set unioned once."""
        keys = [self._key(rows)[0] for rows in sets]
        new = {}
        for key, rows in zip(keys, sets, strict=True):
            if len(key) > 1 and key not in self._unions:
                new.setdefault(key, rows)
        if new:
            unions = [self._union(rows, labels, 0) for rows in new.values()]
            self._unions.update(zip(new, ellipsoidal_area(unions, self.crs).tolist(), strict=True))
        return np.array(
            [
                self._unions[key] if len(key) > 1 else self.area_m2[rows[0]]
                for key, rows in zip(keys, sets, strict=True)
            ]
        )

    def land_m2(self, codes: np.ndarray, groups: int) -> np.ndarray:
        """The land (m²) of each group of rows: the area of the union of its geometries.

        Parameters
        ----------
        codes : numpy.ndarray of int
            Each row's group, 0 to ``groups - 1``; -1 for a row in no group.
        groups : int
            The number of groups.

        Returns
        -------
        numpy.ndarray of float
            One land area per group.
        """
        codes = np.asarray(codes)[self._order]
        counted = codes >= 0
        inside = codes[self._cover] == codes[self._covered]
        counted[self._covered[inside & counted[self._covered]]] = False
        same = counted[self.a] & counted[self.b] & (codes[self.a] == codes[self.b])
        label = _components(self.size, self.a[same], self.b[same])
        # the same sets cut by each partition in turn: the pieces each union is made of
        labels = []
        for part in self.parts:
            same &= part[self.a] == part[self.b]
            labels.append(_components(self.size, self.a[same], self.b[same]))
        alone = counted & (np.bincount(label, minlength=self.size)[label] == 1)
        land = np.bincount(codes[alone], self.area_m2[alone], minlength=groups).astype(float)
        rows = np.flatnonzero(counted & ~alone)
        if rows.size:
            rows = rows[np.argsort(label[rows], kind="stable")]
            sets = np.split(rows, np.flatnonzero(np.diff(label[rows])) + 1)
            first = np.array([s[0] for s in sets])
            land += np.bincount(codes[first], self._areas(sets, labels), minlength=groups)
        return land

    def land_of(self, mask: np.ndarray) -> float:
        """The land (m²) of the rows where ``mask`` is true."""
        return float(self.land_m2(np.where(mask, 0, -1), 1)[0])


def grouped_land(
    conflicts: pd.DataFrame, index: LandIndex, keys: list[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Groups of conflict rows by ``keys``, with the land area of each.

    Parameters
    ----------
    conflicts : pandas.DataFrame
        Conflict rows (without geometry), all or some; their index is their
        position in ``index``.
    index : LandIndex
    keys : list of str
        Columns to group by (empty values are a group too).

    Returns
    -------
    groups : pandas.DataFrame
        One row per group, sorted by ``keys``: the key columns, ``conflicts``
        and ``area_m2`` (the sum of the rows, m²).
    codes : numpy.ndarray of int
        The group (a row of ``groups``) of each row of ``conflicts``.
    land_m2 : numpy.ndarray of float
        The land area of each group (m²).
    """
    grouped = conflicts.groupby(keys, sort=True, dropna=False)
    groups = grouped.agg(conflicts=("conflict_id", "size"), area_m2=("area_m2", "sum"))
    codes = grouped.ngroup().to_numpy()
    every = np.full(index.size, -1)
    every[conflicts.index.to_numpy()] = codes
    return groups.reset_index(), codes, index.land_m2(every, len(groups))
