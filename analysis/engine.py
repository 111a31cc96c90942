"""The conflict engine: evaluate rules over loaded layers, one row per conflict.

For each rule the sides' features are selected (:mod:`analysis.selection`), its
relation's entry computes the breaches (:mod:`analysis.relations`), slivers
are dropped and counted (:mod:`analysis.slivers`), and the breaches become
conflict rows split by township (:mod:`analysis.conflict_rows`). What a rule
needs from outside the layers (a raster's threshold zone) is prepared before
the engine starts (:mod:`analysis.prepare`): the engine computes, it does
not read rasters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from geoplan.analysis.attribution import Units
from geoplan.analysis.breaches import Breaches
from geoplan.analysis.conflict_rows import CONFLICT_COLUMNS, conflict_rows
from geoplan.analysis.prepare import Prepared
from geoplan.analysis.relations import Sides, registry
from geoplan.analysis.rules import Rule, RuleError, Side
from geoplan.analysis.selection import RuleSkipped, Selection, select
from geoplan.analysis.slivers import Slivers, drop_cut_slivers, drop_slivers
from geoplan.layers.loader import LoadedProject

logger = logging.getLogger(__name__)


@dataclass
class RuleResult:
    """How one rule went.

    Attributes
    ----------
    rule : Rule
    status : {"evaluated", "skipped"}
    reason : str
        Why it was skipped (English).
    reason_zh : str
        The same in Chinese (the documents and the terminal show this).
    conflicts : int
        Conflict rows (after the split by township).
    area_m2 : float
        Their total ellipsoidal area (m²).
    slivers : Slivers
        What was dropped as slivers.
    seconds : float
        Wall-clock time spent on the rule (s).
    geometry_seconds : float
        Of which computing the relation's geometry (s): the work an overlay
        does, before slivers, the township split, areas and ids.
    """

    rule: Rule
    status: str
    reason: str = ""
    reason_zh: str = ""
    conflicts: int = 0
    area_m2: float = 0.0
    slivers: Slivers = field(default_factory=Slivers)
    seconds: float = 0.0
    geometry_seconds: float = 0.0


@dataclass
class Evaluation:
    """The engine's result: the conflicts and how each rule went.

    ``land_pieces``: the occupation conflicts ∩ the land-class source, when a
    cluster run's partitions computed them (:mod:`analysis.land_classes`).
    """

    conflicts: gpd.GeoDataFrame
    results: list[RuleResult]
    crs: CRS
    land_pieces: pd.DataFrame | None = None


def breaches_of(
    loaded: LoadedProject,
    rule: Rule,
    cache: dict[str, Selection] | None = None,
    prepared: Prepared | None = None,
) -> Breaches:
    """Compute where one rule is broken (before slivers and attribution).

    Parameters
    ----------
    loaded : LoadedProject
    rule : Rule
    cache : dict, optional
        Selections by side, shared between rules so that each layer is cut
        and indexed once.
    prepared : Prepared, optional
        The rule's prepared inputs, if its relation needs them.

    Raises
    ------
    RuleSkipped
        A layer, field or raster the rule needs is missing.
    """
    cache = {} if cache is None else cache

    def get(side: Side | None) -> Selection | None:
        if side is None:
            return None
        key = side.describe()
        if key not in cache:
            cache[key] = select(loaded, side)
        return cache[key]

    relation = registry()[rule.relation]
    sides = Sides(
        left=get(rule.left),
        right=get(rule.right),
        layers=tuple(get(side) for side in rule.layers),
        region=get(rule.region),
        prepared=None if relation.prepare is None else (prepared or Prepared()).of(rule),
    )
    return relation.breaches(rule, sides)


def units_of(loaded: LoadedProject) -> Units | None:
    """The units conflicts are cut by: the loaded townships, else the counties."""
    return Units.from_layers(
        loaded.layers["townships"].frame if "townships" in loaded.layers else None,
        loaded.layers["counties"].frame if "counties" in loaded.layers else None,
    )


def rows_of(
    rule: Rule, breaches: Breaches, units: Units | None, crs: CRS
) -> tuple[gpd.GeoDataFrame, Slivers]:
    """A rule's conflict rows from its breaches, and the slivers left out."""
    kept, slivers = drop_slivers(breaches, rule.min_area_m2, crs)
    rows, cut = drop_cut_slivers(conflict_rows(rule, kept, units, crs), rule.min_area_m2)
    return rows, slivers + cut


def skipped_result(rule: Rule, exc: RuleSkipped) -> RuleResult:
    """The result of a rule that could not be evaluated, with the reason."""
    return RuleResult(rule, "skipped", reason=str(exc), reason_zh=exc.reason_zh)


def evaluated_result(
    rule: Rule, rows: gpd.GeoDataFrame, slivers: Slivers, seconds: float, geometry_seconds: float
) -> RuleResult:
    """The result of an evaluated rule: its rows' count and summed area (m²), slivers, times (s)."""
    return RuleResult(
        rule,
        "evaluated",
        conflicts=len(rows),
        area_m2=float(rows["area_m2"].sum()),
        slivers=slivers,
        seconds=seconds,
        geometry_seconds=geometry_seconds,
    )


def conflicts_frame(frames: list[gpd.GeoDataFrame], crs: CRS) -> gpd.GeoDataFrame:
    """The rules' rows as one conflicts table (empty, with its columns, when there are none)."""
    if frames:
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in CONFLICT_COLUMNS}, geometry=[], crs=crs
    )


def evaluate(
    loaded: LoadedProject,
    rules: list[Rule],
    *,
    strict: bool = False,
    progress: Callable[[int, int, Rule], None] | None = None,
    prepared: Prepared | None = None,
) -> Evaluation:
    """Evaluate rules over a loaded project.

    Parameters
    ----------
    loaded : LoadedProject
    rules : list of Rule
    strict : bool, default False
        A rule that needs a missing layer or field is an error instead of
        being skipped with a warning.
    progress : callable, optional
        Called as ``progress(i, n, rule)`` before each rule.
    prepared : Prepared, optional
        What :func:`analysis.prepare.prepare_inputs` prepared for the rules
        whose relation needs it (raster rules); required for those.

    Returns
    -------
    Evaluation

    Raises
    ------
    RuleError
        In strict mode, a rule that cannot be evaluated.
    ValueError
        A rule whose relation needs prepared inputs was not prepared.
    """
    units = units_of(loaded)
    prepared = prepared or Prepared()
    frames, results, cache = [], [], {}
    for i, rule in enumerate(rules):
        if progress is not None:
            progress(i, len(rules), rule)
        start = time.perf_counter()
        try:
            breaches = breaches_of(loaded, rule, cache, prepared)
            geometry_seconds = time.perf_counter() - start
        except RuleSkipped as exc:
            if strict:
                raise RuleError(f"rule {rule.id}: {exc}") from None
            logger.warning("rule %s skipped: %s", rule.id, exc)
            results.append(skipped_result(rule, exc))
            continue
        rows, slivers = rows_of(rule, breaches, units, loaded.crs)
        frames.append(rows)
        results.append(
            evaluated_result(rule, rows, slivers, time.perf_counter() - start, geometry_seconds)
        )
    return Evaluation(
        conflicts=conflicts_frame(frames, loaded.crs), results=results, crs=loaded.crs
    )
