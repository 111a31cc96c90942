"""One partition's share of a check, and the shares combined into the engine's result.

:func:`evaluate_part` is what a dask task runs (:mod:`analysis.distributed`):
it reads every layer in the partition's box (:func:`layers.loader.load_part`,
a bounding-box read through GDAL), computes each rule's breaches there with
the engine's own functions, keeps those of the features the partition owns
(:mod:`analysis.partition`) and makes their rows as the engine does.
:func:`combine` puts the parts together in the engine's order, so the
:class:`~analysis.engine.Evaluation` equals the single-process one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoplan.analysis.breaches import Breaches
from geoplan.analysis.conflict_rows import in_row_order
from geoplan.analysis.engine import (
    Evaluation,
    breaches_of,
    conflicts_frame,
    evaluated_result,
    rows_of,
    skipped_result,
    units_of,
)
from geoplan.analysis.land_classes import occupation_pieces, usable
from geoplan.analysis.partition import (
    BOX_MARGIN_M,
    Box,
    Partition,
    grown,
    owned_here,
    rule_sides,
    source_boxes,
)
from geoplan.analysis.prepare import Prepared
from geoplan.analysis.rules import Rule
from geoplan.analysis.selection import RuleSkipped, Selection, select
from geoplan.analysis.slivers import Slivers
from geoplan.layers.loader import LayerDecision, LoadedLayer, LoadedProject, load_part
from geoplan.layers.project_types import Project


@dataclass(frozen=True)
class PartInputs:
    """What every partition is given, the same for all (sent to each worker once).

    Attributes
    ----------
    project : Project
    crs : pyproj.CRS
        The working CRS.
    decisions : dict of str to LayerDecision
        By kind, what the whole layer's load decided.
    rules : list of Rule
        The rules to evaluate (none skipped on the whole project).
    prepared : dict of str to geopandas.GeoDataFrame
        By rule id, the frame of what :func:`analysis.prepare.prepare_inputs`
        prepared on the whole project (a raster's threshold zone).
    surveyed : tuple of str
        The kinds the client did not load (:class:`layers.loader.LayerParts`):
        each task decides which of their features it owns and returns them.
    cells : numpy.ndarray, optional
        Every partition's polygon (:func:`analysis.partition.cells_of`), to
        decide ownership of the surveyed kinds' features.
    needed, halo : dict
        :func:`analysis.partition.needed_by` and :func:`~analysis.partition.halo_m`:
        how far each layer is read around the surveyed kinds' owned features.
    land_source : str, optional
        The land-class source (:mod:`analysis.land_classes`) when it is
        surveyed: each task returns the pieces of its occupation conflicts.
    """

    project: Project
    crs: CRS
    decisions: dict[str, LayerDecision]
    rules: list[Rule]
    prepared: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    surveyed: tuple[str, ...] = ()
    cells: np.ndarray | None = None
    needed: dict[str, set[str]] = field(default_factory=dict)
    halo: dict[str, float] = field(default_factory=dict)
    land_source: str | None = None


@dataclass
class PartResult:
    """What one partition found, by rule id.

    Attributes
    ----------
    index : int
        The partition's index.
    rows : dict of str to geopandas.GeoDataFrame
        Its conflict rows (columns :data:`analysis.conflict_rows.CONFLICT_COLUMNS`).
    slivers : dict of str to Slivers
    seconds, geometry_seconds : dict of str to float
        Wall-clock time on the rule, and of it on the relation's geometry (s).
    features_read : int
        Features read, all layers together.
    stored : dict of str to geopandas.GeoDataFrame
        By surveyed kind, the features it owns, as loaded.
    repairs : dict of str to pandas.DataFrame
        By surveyed kind, the repair log of those features and the features
        dropped in its boxes (several partitions may drop the same one).
    land_pieces : pandas.DataFrame, optional
        Its occupation conflicts ∩ the land-class source
        (:func:`analysis.land_classes.occupation_pieces`).
    """

    index: int
    rows: dict[str, gpd.GeoDataFrame]
    slivers: dict[str, Slivers]
    seconds: dict[str, float]
    geometry_seconds: dict[str, float]
    features_read: int
    stored: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    repairs: dict[str, pd.DataFrame] = field(default_factory=dict)
    land_pieces: pd.DataFrame | None = None


def _empty_selection(crs: CRS) -> Selection:
    columns = {c: pd.Series(dtype=object) for c in ("layer_kind", "id", "name", "source_fid")}
    return Selection.of(gpd.GeoDataFrame(columns, geometry=[], crs=crs))


def _selections(loaded: LoadedProject, rules: list[Rule]) -> dict[str, Selection]:
    """Each side's features in the part; none where the part lacks values of a filter field.

    The rules were not skipped on the whole project, so a filter field
    without values here only means that no feature of the part matches.
    """
    cache = {}
    for rule in rules:
        for side in rule_sides(rule):
            key = side.describe()
            if key not in cache:
                try:
                    cache[key] = select(loaded, side)
                except RuleSkipped:
                    cache[key] = _empty_selection(loaded.crs)
    return cache


def _owned(breaches: Breaches, owned: dict[str, np.ndarray]) -> Breaches:
    """The breaches of the left features a partition owns."""
    kinds = breaches.left["layer_kind"].to_numpy()[breaches.li]
    fids = breaches.left["source_fid"].to_numpy()[breaches.li]
    keep = np.zeros(len(breaches), dtype=bool)
    for kind, mine in owned.items():
        keep |= (kinds == kind) & np.isin(fids, mine)
    return replace(
        breaches,
        li=breaches.li[keep],
        ri=breaches.ri[keep],
        geoms=breaches.geoms[keep],
        detail=breaches.detail[keep],
        distance_m=breaches.distance_m[keep],
    )


def evaluate_part(inputs: PartInputs, part: Partition) -> PartResult:
    """Evaluate every rule on one partition; its rows, slivers and times.

    Parameters
    ----------
    inputs : PartInputs
    part : Partition

    Returns
    -------
    PartResult

    Raises
    ------
    GeoplanError
        A layer cannot be read (the message names the source).
    """
    loaded, owned = _read_part(inputs, part)
    units = units_of(loaded)
    prepared = Prepared({rid: Selection.of(frame) for rid, frame in inputs.prepared.items()})
    cache = _selections(loaded, inputs.rules)
    result = PartResult(part.index, {}, {}, {}, {}, sum(map(len, loaded.frames.values())))
    for rule in inputs.rules:
        start = time.perf_counter()
        breaches = _owned(breaches_of(loaded, rule, cache, prepared), owned)
        result.geometry_seconds[rule.id] = time.perf_counter() - start
        result.rows[rule.id], result.slivers[rule.id] = rows_of(rule, breaches, units, inputs.crs)
        result.seconds[rule.id] = time.perf_counter() - start
    for kind in inputs.surveyed:
        layer = loaded.layers[kind]
        mine = layer.frame["source_fid"].isin(owned[kind]).to_numpy()
        result.stored[kind] = layer.frame[mine]
        log = layer.repair_log
        keep = log["feature"].isin(owned[kind]) | (log["action"] == "dropped")
        result.repairs[kind] = log[keep.to_numpy()]
    if inputs.land_source is not None:
        conflicts = conflicts_frame(list(result.rows.values()), inputs.crs)
        survey = usable(loaded.frame(inputs.land_source))
        result.land_pieces = occupation_pieces(conflicts, survey, inputs.crs)
    return result


def _read_part(inputs: PartInputs, part: Partition) -> tuple[LoadedProject, dict[str, np.ndarray]]:
    """The partition's layers, and the ``source_fid`` it owns by kind.

    The surveyed kinds are read first in their boxes and their owned
    features decided here; every box a layer is needed in around those
    features grows to cover them, and of a layer read already the features
    in the strips its box grew by are read and added.
    """
    owned = dict(part.owned)
    boxes = dict(part.boxes)
    first = {k: boxes[k] for k in inputs.surveyed}
    layers = _load(inputs, first).layers if first else {}
    reach = {}
    for kind in inputs.surveyed:
        frame = layers[kind].frame
        mine = owned_here(frame, inputs.cells, part.cell)
        owned[kind] = frame["source_fid"].to_numpy()[mine]
        if mine.any():
            reach[kind] = shapely.bounds(frame.geometry.to_numpy()[mine])
    for kind, around in inputs.needed.items():
        bounds = [reach[k] for k in around if k in reach]
        if kind in boxes and bounds:
            pad = inputs.halo.get(kind, 0.0) + BOX_MARGIN_M
            boxes[kind] = grown(boxes[kind], np.vstack(bounds), pad)
    rest = {k: b for k, b in boxes.items() if k not in layers}
    layers.update(_load(inputs, rest).layers if rest else {})
    for kind, box in first.items():
        if boxes[kind] != box:
            strips = [_load(inputs, {kind: b}).layers[kind] for b in _strips(box, boxes[kind])]
            layers[kind] = _joined(layers[kind], strips)
    return LoadedProject(inputs.project, inputs.crs, layers), owned


def _strips(inner: Box, outer: Box) -> list[Box]:
    """Boxes that cover ``outer`` outside ``inner`` (which it contains): up to four."""
    (x0, y0, x1, y1), (X0, Y0, X1, Y1) = inner, outer
    strips = [(X0, Y0, x0, Y1), (x1, Y0, X1, Y1), (x0, Y0, x1, y0), (x0, y1, x1, Y1)]
    return [(a, b, c, d) for a, b, c, d in strips if c > a and d > b]


def _joined(layer: LoadedLayer, more: list[LoadedLayer]) -> LoadedLayer:
    """A layer read in a box, with the features read in boxes around it (each once, by fid)."""
    frame = pd.concat([layer.frame, *(m.frame for m in more)], ignore_index=True)
    frame = frame.drop_duplicates("source_fid").sort_values("source_fid", kind="stable")
    log = pd.concat([layer.repair_log, *(m.repair_log for m in more)], ignore_index=True)
    return replace(
        layer,
        frame=gpd.GeoDataFrame(frame.reset_index(drop=True), crs=layer.frame.crs),
        repair_log=log.drop_duplicates(ignore_index=True),
    )


def _load(inputs: PartInputs, boxes: dict) -> LoadedProject:
    read = source_boxes(boxes, inputs.crs, inputs.decisions)
    return load_part(inputs.project, inputs.crs, inputs.decisions, read)


def _in_order(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """One rule's rows of all partitions, ordered as the engine orders them."""
    filled = [f for f in frames if len(f)] or frames[:1]
    rows = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
    return gpd.GeoDataFrame(in_row_order(rows), crs=frames[0].crs)


def combine(
    rules: list[Rule], parts: list[PartResult], skipped: dict[str, RuleSkipped], crs: CRS
) -> Evaluation:
    """The partitions' results as the engine's :class:`~analysis.engine.Evaluation`.

    Parameters
    ----------
    rules : list of Rule
        Every rule of the run, in its order.
    parts : list of PartResult
        One per partition (any order).
    skipped : dict of str to RuleSkipped
        The rules skipped on the whole project, by id.
    crs : pyproj.CRS
        The working CRS.
    """
    parts = sorted(parts, key=lambda p: p.index)
    frames, results = [], []
    for rule in rules:
        if rule.id in skipped:
            results.append(skipped_result(rule, skipped[rule.id]))
            continue
        rows = _in_order([p.rows[rule.id] for p in parts])
        slivers = sum((p.slivers[rule.id] for p in parts), Slivers())
        frames.append(rows)
        seconds = sum(p.seconds[rule.id] for p in parts)
        geometry_seconds = sum(p.geometry_seconds[rule.id] for p in parts)
        results.append(evaluated_result(rule, rows, slivers, seconds, geometry_seconds))
    return Evaluation(conflicts=conflicts_frame(frames, crs), results=results, crs=crs)
