"""Partitions of a check: one per county (else a grid cell), each owning the breaches it computes.

A breach always belongs to one feature of its rule's first side (the left
feature; for ``must_tile`` a cover or region feature), and everything a
breach is made of lies within that feature's bounding box: the features it
meets (within the box widened by the rule's distance, for a distance rule),
the townships it is cut by. So a partition *owns* the features whose
representative point (:func:`shapely.point_on_surface`) lies in its county
(the nearest county for a point outside all; the lowest index where
several hold it), and reads each layer in the box of its county and of the
features it owns of the rules the layer is a side of, widened by that
distance where the layer is a distance rule's right side. Each breach is then computed whole,
from whole features, by exactly one partition, and cut by township as the
single-process run cuts it: rows, ids and areas are that run's, and no
conflict has pieces in two partitions to join again.

A project without counties is partitioned by a grid over the extent of its
layers, its cells owning points the same way (a point on a cell line goes to
the lower-numbered cell).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geoplan.analysis.relations import registry
from geoplan.analysis.rules import Rule, Side
from geoplan.layers.loader import LayerDecision, LoadedProject

#: Cells of the grid a project without counties is partitioned by, per side.
GRID_SIDE = 4

#: Added to each side of a read box (m), so that rounding in reprojecting
#: the box never leaves out a feature that touches it.
BOX_MARGIN_M = 1.0

#: The layers conflicts are cut by (:class:`analysis.attribution.Units`).
UNIT_KINDS = ("townships", "counties")

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Partition:
    """One part of a partitioned check.

    Attributes
    ----------
    index : int
        Position among the partitions (0-based).
    label : str
        How progress and messages name it: ``县 巴州区`` or ``分区 2行3列``.
    boxes : dict of str to tuple of float
        By layer kind, ``(xmin, ymin, xmax, ymax)`` in the working CRS (m):
        the layer is read where it intersects this box (its county's box, and
        those of the features owned by the rules it is a side of, widened by
        :func:`halo_m`). Kinds no rule reads are not in it.
    owned : dict of str to numpy.ndarray
        By layer kind, the ``source_fid`` of the features whose breaches
        this partition computes. A surveyed layer's (:class:`LayerParts`)
        are decided by the task itself (:func:`owned_here`).
    cell : int
        Index of its county (or grid cell) among all (:func:`cells_of`).
    """

    index: int
    label: str
    boxes: dict[str, Box]
    owned: dict[str, np.ndarray]
    cell: int = 0

    @property
    def features(self) -> int:
        """Features it owns, all kinds together."""
        return int(sum(fids.size for fids in self.owned.values()))


def rule_sides(rule: Rule) -> list[Side]:
    """Every side of a rule: left, right, ``layers``, ``region``."""
    return [s for s in (rule.left, rule.right, *rule.layers, rule.region) if s is not None]


def _owner_sides(rule: Rule) -> list[Side]:
    return [s for s in (rule.left, *rule.layers, rule.region) if s is not None]


def owning_kinds(rules: list[Rule]) -> list[str]:
    """The kinds whose features own breaches: every rule's left, ``layers`` and ``region`` sides."""
    return list(dict.fromkeys(s.kind for rule in rules for s in _owner_sides(rule)))


def needed_by(rules: list[Rule], everywhere: tuple[str, ...] = UNIT_KINDS) -> dict[str, set[str]]:
    """For each kind a partition reads, the owning kinds whose owned features it must cover.

    A layer is needed around the owned features of each rule it is a side
    of, but not as its own owning side (an owned feature is read where it is
    owned); the kinds in ``everywhere`` (the township or county layer a
    breach is cut by, the land-class source), around all of them.
    """
    needed: dict[str, set[str]] = {}
    for rule in rules:
        owner_sides = _owner_sides(rule)
        for side in rule_sides(rule):
            others = (s.kind for s in owner_sides if s is not side)
            needed.setdefault(side.kind, set()).update(others)
    every = set(owning_kinds(rules))
    for kind in everywhere:
        needed.setdefault(kind, set()).update(every)
    return needed


def halo_m(rules: list[Rule]) -> dict[str, float]:
    """By kind, the largest distance (m) a rule looks from its owned features into it.

    The right side of a relation with a ``reach`` (``must_keep_distance``'s
    ``distance_m``); other kinds are not in it (0 m).
    """
    halo: dict[str, float] = {}
    for rule in rules:
        entry = registry()[rule.relation]
        if entry.reach is not None and rule.right is not None:
            reach = float(rule.params[entry.reach])
            halo[rule.right.kind] = max(halo.get(rule.right.kind, 0.0), reach)
    return halo


def _cells(loaded: LoadedProject, grid_side: int) -> tuple[list[str], np.ndarray]:
    counties = loaded.layers.get("counties")
    if counties is not None and len(counties.frame):
        frame = counties.frame
        names = frame["name"].fillna("").astype(str).where(lambda n: n != "", frame["id"])
        return [f"县 {name}" for name in names], frame.geometry.to_numpy()
    bounds = np.array([layer.extent_in(loaded.crs) for layer in loaded.layers.values()])
    bounds = bounds[np.isfinite(bounds).all(axis=1)]
    if bounds.size == 0:
        return [], np.array([], dtype=object)
    x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
    x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
    xs, ys = np.linspace(x0, x1, grid_side + 1), np.linspace(y0, y1, grid_side + 1)
    labels, boxes = [], []
    for row in range(grid_side):  # row 1 is the northernmost
        for col in range(grid_side):
            top = grid_side - 1 - row
            labels.append(f"分区 {row + 1}行{col + 1}列")
            boxes.append(shapely.box(xs[col], ys[top], xs[col + 1], ys[top + 1]))
    return labels, np.array(boxes, dtype=object)


def cells_of(loaded: LoadedProject, grid_side: int = GRID_SIDE) -> tuple[list[str], np.ndarray]:
    """The partitions' names and polygons (working CRS): the counties, else a grid."""
    return _cells(loaded, grid_side)


def owned_here(frame, cells: np.ndarray, index: int) -> np.ndarray:
    """Which features of a frame partition ``index`` owns (:func:`owners` of their points)."""
    if len(frame) == 0:
        return np.zeros(0, dtype=bool)
    return owners(shapely.point_on_surface(frame.geometry.to_numpy()), cells) == index


def grown(box: Box, bounds: np.ndarray, pad: float) -> Box:
    """A box grown to cover ``bounds`` (rows ``xmin, ymin, xmax, ymax``) widened by ``pad`` m."""
    b = np.vstack([np.asarray(box)[None, :], np.asarray(bounds).reshape(-1, 4)])
    x0, y0 = b[:, :2].min(axis=0)
    x1, y1 = b[:, 2:].max(axis=0)
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def owners(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """The cell owning each point: the lowest-index cell holding it, else the nearest.

    Parameters
    ----------
    points : numpy.ndarray of shapely Points
    cells : numpy.ndarray of polygons

    Returns
    -------
    numpy.ndarray of int
        Index into ``cells`` per point.
    """
    tree = shapely.STRtree(cells)
    owner = np.full(points.size, np.iinfo(np.int64).max, dtype=np.int64)
    point, cell = tree.query(points, predicate="intersects")
    np.minimum.at(owner, point, cell)
    rest = np.flatnonzero(owner == np.iinfo(np.int64).max)
    if rest.size:
        point, cell = tree.query_nearest(points[rest], all_matches=True)
        nearest = np.full(rest.size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(nearest, point, cell)
        owner[rest] = nearest
    return owner


def plan_partitions(
    loaded: LoadedProject,
    rules: list[Rule],
    grid_side: int = GRID_SIDE,
    everywhere: tuple[str, ...] = UNIT_KINDS,
) -> list[Partition]:
    """Cut a loaded project into partitions that own its breaches (module docstring).

    Parameters
    ----------
    loaded : LoadedProject
        The whole project, as :func:`layers.loader.load_project` loads it.
    rules : list of Rule
        The rules the partitions evaluate (not those skipped on the whole).
    grid_side : int
        Cells per side of the grid used when there are no counties.
    everywhere : tuple of str
        Kinds read around every owned feature (:func:`needed_by`).

    Returns
    -------
    list of Partition
        Those that own at least one feature, in county (or cell) order. A
        layer no rule reads (nor the split by township) is not read.
    """
    labels, cells = _cells(loaded, grid_side)
    if not labels:
        return []
    halo = halo_m(rules)
    owned: list[dict[str, np.ndarray]] = [{} for _ in labels]
    reach: list[dict[str, np.ndarray]] = [{} for _ in labels]  # bounds of what each owns
    surveyed = [k for k, layer in loaded.layers.items() if layer.parts is not None]
    for kind in owning_kinds(rules):
        if kind in surveyed or kind not in loaded.layers or not len(loaded.frame(kind)):
            continue
        frame = loaded.frame(kind)
        geoms = frame.geometry.to_numpy()
        owner = owners(shapely.point_on_surface(geoms), cells)
        bounds = shapely.bounds(geoms)
        for i in np.unique(owner):
            mine = owner == i
            owned[i][kind] = frame["source_fid"].to_numpy()[mine]
            box = bounds[mine]
            reach[i][kind] = np.r_[box[:, :2].min(axis=0), box[:, 2:].max(axis=0)]
    needed = {k: v for k, v in needed_by(rules, everywhere).items() if k in loaded.layers}
    for kind in owning_kinds(rules):  # its owned features may lie outside every cell
        if kind in needed and kind not in surveyed:
            needed[kind] = needed[kind] | {kind}
    for kind in surveyed:  # read for its owned features even where no rule reads it
        needed.setdefault(kind, set())
    parts = []
    for i, label in enumerate(labels):
        if not owned[i] and not surveyed:
            continue
        cell = np.asarray(shapely.bounds(cells[i]))
        boxes = {
            kind: grown(
                cell,
                np.array([reach[i][k] for k in around if k in reach[i]]),
                halo.get(kind, 0.0) + BOX_MARGIN_M,
            )
            for kind, around in needed.items()
        }
        parts.append(Partition(len(parts), label, boxes, owned[i], i))
    return parts


def source_boxes(
    boxes: dict[str, Box], crs: CRS, decisions: dict[str, LayerDecision]
) -> dict[str, Box]:
    """Working-CRS boxes as boxes in each layer's source CRS that cover them.

    Parameters
    ----------
    boxes : dict of str to tuple of float
        By kind, ``(xmin, ymin, xmax, ymax)`` in ``crs``.
    crs : pyproj.CRS
        The working CRS.
    decisions : dict of str to LayerDecision
        By kind; their ``source_crs``.

    Returns
    -------
    dict of str to tuple of float
        By kind, in the layer's source CRS (densified edges, so the curved
        image of the box lies inside).
    """
    out = {}
    for kind, box in boxes.items():
        decided = decisions[kind]
        if decided.source_crs == crs:
            out[kind] = box
            continue
        to_source = Transformer.from_crs(crs, decided.source_crs, always_xy=True)
        x0, y0, x1, y1 = to_source.transform_bounds(*box, densify_pts=64)
        pad = 1e-7 * max(abs(x1 - x0), abs(y1 - y0), 1.0)
        out[kind] = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    return out
