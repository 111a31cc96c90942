"""Match the rows of two versions of a table: by id first, then by geometry.

A row keeps its id when the delivery keeps its features' ids. A renumbered
delivery changes ids without changing the ground, so rows left unmatched
by id are matched by geometry within the same group (the rule, for
findings): two geometries match when their intersection over union is at
least :data:`MIN_IOU`. Pairs are taken in descending intersection over
union, each row at most once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

#: Least intersection over union (planar, working CRS) of a geometry match.
MIN_IOU = 0.5


@dataclass(frozen=True)
class Matches:
    """Which old row each new row matched, and how.

    Attributes
    ----------
    old : numpy.ndarray of int
        Positions in the old table.
    new : numpy.ndarray of int
        Positions in the new table, pairwise with ``old``.
    method : numpy.ndarray of str
        ``"id"`` or ``"geometry"`` per pair.
    """

    old: np.ndarray
    new: np.ndarray
    method: np.ndarray

    def unmatched(self, n_old: int, n_new: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the old rows and of the new rows no pair holds."""
        return (
            np.setdiff1d(np.arange(n_old), self.old),
            np.setdiff1d(np.arange(n_new), self.new),
        )


def _keyed(ids: np.ndarray) -> pd.Series:
    """Positions by (id, how many times the id came before): repeated ids pair in order."""
    ids = pd.Series(ids, dtype=object)
    key = pd.MultiIndex.from_arrays([ids, ids.groupby(ids, dropna=False).cumcount()])
    return pd.Series(np.arange(len(ids)), index=key)


def _by_id(old_ids: np.ndarray, new_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    old, new = _keyed(old_ids), _keyed(new_ids)
    common = old.index.intersection(new.index)
    return old[common].to_numpy(), new[common].to_numpy()


def _by_geometry(
    old_geoms: np.ndarray, new_geoms: np.ndarray, old_groups: np.ndarray, new_groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if len(old_geoms) == 0 or len(new_geoms) == 0:
        return np.array([], int), np.array([], int)
    new_i, old_i = shapely.STRtree(old_geoms).query(new_geoms, predicate="intersects")
    same = old_groups[old_i] == new_groups[new_i]
    new_i, old_i = new_i[same], old_i[same]
    a, b = old_geoms[old_i], new_geoms[new_i]
    inter = shapely.area(shapely.intersection(a, b))
    union = shapely.area(a) + shapely.area(b) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    pairs = pd.DataFrame({"old": old_i, "new": new_i, "iou": iou})
    pairs = pairs[pairs["iou"] >= MIN_IOU].sort_values("iou", ascending=False, kind="stable")
    pairs = pairs.drop_duplicates("new").drop_duplicates("old")
    return pairs["old"].to_numpy(), pairs["new"].to_numpy()


def match_rows(
    old_ids: np.ndarray,
    new_ids: np.ndarray,
    old_geoms: np.ndarray,
    new_geoms: np.ndarray,
    old_groups: np.ndarray | None = None,
    new_groups: np.ndarray | None = None,
) -> Matches:
    """Match old and new rows by id, then the rest by geometry within their group.

    Parameters
    ----------
    old_ids, new_ids : numpy.ndarray
        Row ids; the k-th row of a repeated id matches the k-th row of that id.
    old_geoms, new_geoms : numpy.ndarray of shapely geometries
        In one projected CRS.
    old_groups, new_groups : numpy.ndarray, optional
        Rows match by geometry only within equal groups; one group if None.

    Returns
    -------
    Matches

    Examples
    --------
    >>> import shapely
    >>> sq = shapely.box(0, 0, 10, 10)
    >>> m = match_rows(np.array(["a", "b"]), np.array(["b", "c"]),
    ...                np.array([sq, shapely.box(50, 0, 60, 10)]),
    ...                np.array([shapely.box(50, 0, 60, 10), shapely.box(1, 0, 11, 10)]))
    >>> list(zip(m.old.tolist(), m.new.tolist(), m.method.tolist()))
    [(1, 0, 'id'), (0, 1, 'geometry')]
    """
    old_groups = np.zeros(len(old_ids), int) if old_groups is None else np.asarray(old_groups)
    new_groups = np.zeros(len(new_ids), int) if new_groups is None else np.asarray(new_groups)
    id_old, id_new = _by_id(np.asarray(old_ids, dtype=object), np.asarray(new_ids, dtype=object))
    rest_old = np.setdiff1d(np.arange(len(old_ids)), id_old)
    rest_new = np.setdiff1d(np.arange(len(new_ids)), id_new)
    g_old, g_new = _by_geometry(
        np.asarray(old_geoms, dtype=object)[rest_old],
        np.asarray(new_geoms, dtype=object)[rest_new],
        old_groups[rest_old],
        new_groups[rest_new],
    )
    return Matches(
        old=np.concatenate([id_old, rest_old[g_old]]).astype(int),
        new=np.concatenate([id_new, rest_new[g_new]]).astype(int),
        method=np.array(["id"] * len(id_old) + ["geometry"] * len(g_old), dtype=object),
    )


def geometry_changed(a: np.ndarray, b: np.ndarray, tolerance_m2: float) -> np.ndarray:
    """Whether each pair of geometries differs by more than ``tolerance_m2`` (symmetric difference).

    Examples
    --------
    >>> geometry_changed(np.array([shapely.box(0, 0, 10, 10)]),
    ...                  np.array([shapely.box(0, 0, 10, 10.05)]), 1.0).tolist()
    [False]
    """
    return shapely.area(shapely.symmetric_difference(a, b)) > tolerance_m2
