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
between the same features) once each.

(Noding all the pieces' boundaries once and summing the faces each group
covers would need no union at all, but the noding of a city's nearly
coincident edges fails to converge and its snapping fallback drops edges.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.units import SQUARE_METRES


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
    """

    def __init__(self, geoms: np.ndarray, area_m2: np.ndarray, crs: CRS) -> None:
        self.geoms, self.crs, self.size = geoms, crs, len(geoms)
        self.area_m2 = np.asarray(area_m2, dtype=float)
        a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        shares = ~shapely.touches(geoms[a], geoms[b])  # interiors meet: they share area
        self.a, self.b = a[shares], b[shares]
        #: the same number for rows of identical geometry
        self.piece = pd.factorize(shapely.to_wkb(geoms))[0] if self.size else np.zeros(0, int)
        self._unions: dict[tuple[int, ...], float] = {}

    def _areas(self, sets: list[np.ndarray]) -> np.ndarray:
        """The area (m²) of the union of each set of rows, each distinct set unioned once."""
        pieces = [np.unique(self.piece[rows], return_index=True) for rows in sets]
        keys = [tuple(piece.tolist()) for piece, _ in pieces]
        new = {}
        for key, rows, (_, at) in zip(keys, sets, pieces, strict=True):
            if len(key) > 1 and key not in self._unions:
                new.setdefault(key, rows[at])
        if new:
            unions = np.empty(len(new), dtype=object)
            pair = np.array([len(key) == 2 for key in new])
            both = [rows for rows in new.values() if rows.size == 2]
            both = np.array(both, dtype=np.int64).reshape(-1, 2)
            unions[pair] = shapely.union(self.geoms[both[:, 0]], self.geoms[both[:, 1]])
            larger = [rows for rows in new.values() if rows.size > 2]
            unions[~pair] = [shapely.union_all(self.geoms[rows]) for rows in larger]
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
        codes = np.asarray(codes)
        same = (codes[self.a] == codes[self.b]) & (codes[self.a] >= 0)
        label = _components(self.size, self.a[same], self.b[same])
        counted = codes >= 0
        alone = counted & (np.bincount(label, minlength=self.size)[label] == 1)
        land = np.bincount(codes[alone], self.area_m2[alone], minlength=groups).astype(float)
        rows = np.flatnonzero(counted & ~alone)
        if rows.size:
            rows = rows[np.argsort(label[rows], kind="stable")]
            sets = np.split(rows, np.flatnonzero(np.diff(label[rows])) + 1)
            first = np.array([s[0] for s in sets])
            land += np.bincount(codes[first], self._areas(sets), minlength=groups)
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
