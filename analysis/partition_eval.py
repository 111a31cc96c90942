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
from geoplan.analysis.partition import Partition, rule_sides, source_boxes
from geoplan.analysis.prepare import Prepared
from geoplan.analysis.rules import Rule
from geoplan.analysis.selection import RuleSkipped, Selection, select
from geoplan.analysis.slivers import Slivers
from geoplan.layers.loader import LayerDecision, LoadedProject, load_part
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
    """

    project: Project
    crs: CRS
    decisions: dict[str, LayerDecision]
    rules: list[Rule]
    prepared: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)


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
    """

    index: int
    rows: dict[str, gpd.GeoDataFrame]
    slivers: dict[str, Slivers]
    seconds: dict[str, float]
    geometry_seconds: dict[str, float]
    features_read: int


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
    boxes = source_boxes(part.boxes, inputs.crs, inputs.decisions)
    loaded = load_part(inputs.project, inputs.crs, inputs.decisions, boxes)
    units = units_of(loaded)
    prepared = Prepared({rid: Selection.of(frame) for rid, frame in inputs.prepared.items()})
    cache = _selections(loaded, inputs.rules)
    result = PartResult(part.index, {}, {}, {}, {}, sum(map(len, loaded.frames.values())))
    for rule in inputs.rules:
        start = time.perf_counter()
        breaches = _owned(breaches_of(loaded, rule, cache, prepared), part.owned)
        result.geometry_seconds[rule.id] = time.perf_counter() - start
        result.rows[rule.id], result.slivers[rule.id] = rows_of(rule, breaches, units, inputs.crs)
        result.seconds[rule.id] = time.perf_counter() - start
    return result


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
