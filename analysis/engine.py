"""The conflict engine: evaluate rules over loaded layers, one row per conflict.

For each rule the sides' features are selected (layer kind and attribute
filter), the relation's geometry is computed (:mod:`analysis.relations`),
slivers are dropped and counted (:mod:`analysis.slivers`), each breach is
split by township (:mod:`analysis.attribution`), and the rows get their
ellipsoidal areas, both features' ids and names, the citation and a
stable id.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geoplan.analysis import relations
from geoplan.analysis.attribution import Units, split_by_unit
from geoplan.analysis.relations import Breaches, Selection
from geoplan.analysis.rules import Rule, RuleError, Side
from geoplan.analysis.slivers import Slivers, drop_slivers
from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.terrain import DerivedRasters, above_threshold
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.layers.catalog import KINDS
from geoplan.layers.loader import LoadedProject
from geoplan.layers.vocabulary import SEVERITY_RANK

logger = logging.getLogger(__name__)

#: Columns of the conflicts table, in order (``geometry`` last).
CONFLICT_COLUMNS = (
    "conflict_id",
    "rule_id",
    "rule_title",
    "rule_title_en",
    "severity",
    "relation",
    "detail",
    "left_kind",
    "left_id",
    "left_name",
    "right_kind",
    "right_id",
    "right_name",
    "area_m2",
    "area_mu",
    "area_ha",
    "distance_m",
    "county",
    "township",
    "function_type",
    "citation",
    "pack",
)

_SELECTED = ["layer_kind", "id", "name", "source_fid"]


class RuleSkipped(Exception):
    """A rule cannot be evaluated on this project (missing layer or field)."""


@dataclass
class RuleResult:
    """How one rule went.

    Attributes
    ----------
    rule : Rule
    status : {"evaluated", "skipped"}
    reason : str
        Why it was skipped.
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
    conflicts: int = 0
    area_m2: float = 0.0
    slivers: Slivers = field(default_factory=Slivers)
    seconds: float = 0.0
    geometry_seconds: float = 0.0


@dataclass
class Evaluation:
    """The engine's result: the conflicts and how each rule went."""

    conflicts: gpd.GeoDataFrame
    results: list[RuleResult]
    crs: CRS


def select(loaded: LoadedProject, side: Side) -> Selection:
    """The features of one rule side: its layer kind, filtered by its ``where``.

    Parameters
    ----------
    loaded : LoadedProject
    side : Side

    Returns
    -------
    Selection

    Raises
    ------
    RuleSkipped
        The project has no such layer, or the layer lacks a filter field.
    """
    if side.kind not in loaded.layers:
        raise RuleSkipped(f"the project has no {side.kind} layer ({KINDS[side.kind].title})")
    frame = loaded.frame(side.kind)
    mask = np.ones(len(frame), dtype=bool)
    for name, wanted in side.filters.items():
        if name not in frame or frame[name].isna().all():
            raise RuleSkipped(f"{side.kind} has no values for field {name!r}")
        values = wanted if isinstance(wanted, list) else [wanted]
        mask &= frame[name].isin(values).to_numpy()
    chosen = frame.loc[mask]
    out = pd.DataFrame(
        {
            "layer_kind": side.kind,
            "id": chosen["id"].fillna("").astype(str).to_numpy(),
            "name": chosen["name"].fillna("").astype(str).to_numpy() if "name" in chosen else "",
            "source_fid": chosen["source_fid"].to_numpy(),
        }
    )
    return Selection.of(gpd.GeoDataFrame(out, geometry=chosen.geometry.to_numpy(), crs=frame.crs))


def breaches_of(
    loaded: LoadedProject,
    rule: Rule,
    cache: dict[str, Selection] | None = None,
    derived: DerivedRasters | None = None,
) -> Breaches:
    """Compute where one rule is broken (before slivers and attribution).

    Parameters
    ----------
    loaded : LoadedProject
    rule : Rule
    cache : dict, optional
        Selections by side, shared between rules so that each layer is cut
        and indexed once.
    derived : DerivedRasters, optional
        Slope and aspect already computed in this run.

    Raises
    ------
    RuleSkipped
        A layer or field the rule needs is missing.
    """
    cache = {} if cache is None else cache

    def get(side: Side) -> Selection:
        key = side.describe()
        if key not in cache:
            cache[key] = select(loaded, side)
        return cache[key]

    if rule.relation == "must_tile":
        return relations.tile([get(side) for side in rule.layers], get(rule.region))
    left = get(rule.left)
    if rule.relation == "must_not_self_overlap":
        return relations.not_self_overlap(left)
    if rule.relation == "must_not_exceed":
        breaches = relations.not_overlap(left, raster_zone(loaded, rule, left, derived))
        breaches.detail[:] = "exceeds"
        return breaches
    right = get(rule.right)
    if rule.relation == "must_not_overlap":
        return relations.not_overlap(left, right)
    if rule.relation == "must_be_within":
        return relations.be_within(left, right)
    if rule.relation == "must_keep_distance":
        return relations.keep_distance(left, right, rule.distance_m)
    raise RuleError(f"rule {rule.id}: relation {rule.relation!r} is not implemented")


_MEASURE_TITLES = {"elevation": "高程", "slope": "坡度", "aspect": "坡向"}
_MEASURE_UNITS = {"elevation": "米", "slope": "度", "aspect": "度"}


def raster_zone(
    loaded: LoadedProject, rule: Rule, left: Selection, derived: DerivedRasters | None = None
) -> Selection:
    """Where a raster measure exceeds the rule's threshold, over the left side's extent.

    The cells are vectorised in the raster's CRS and brought into the working
    CRS as one pseudo-feature named after the raster and the threshold.

    Raises
    ------
    RuleSkipped
        The project has no such raster.
    """
    spec = loaded.project.rasters.get(rule.raster)
    if spec is None:
        raise RuleSkipped(f"the project has no raster {rule.raster!r} ([rasters.{rule.raster}])")
    info = spec.info()
    frame = left.frame
    if len(frame):
        bounds = tuple(frame.to_crs(info.crs).total_bounds)
        if derived is not None:
            source = derived.get(info, rule.measure)
            cells = above_threshold(source, "elevation", rule.threshold, bounds)
        else:
            cells = above_threshold(info, rule.measure, rule.threshold, bounds)
    else:
        cells = np.array([], dtype=object)
    zone = gpd.GeoSeries(cells, crs=info.crs).to_crs(frame.crs).union_all() if len(cells) else None
    title = f"{_MEASURE_TITLES[rule.measure]}大于{rule.threshold:g}{_MEASURE_UNITS[rule.measure]}"
    out = pd.DataFrame(
        {
            "layer_kind": [f"raster:{rule.raster}"],
            "id": [f"{rule.measure}>{rule.threshold:g}"],
            "name": [title],
            "source_fid": [-1],
        }
    )
    geoms = [zone] if zone is not None and not zone.is_empty else []
    return Selection.of(gpd.GeoDataFrame(out.iloc[: len(geoms)], geometry=geoms, crs=frame.crs))


def _conflict_id(rule_id: str, key: pd.DataFrame) -> np.ndarray:
    texts = ("|".join(values) for values in key.astype(str).itertuples(index=False))
    return np.array(
        [f"{rule_id}-{hashlib.sha1(f'{rule_id}|{t}'.encode()).hexdigest()[:10]}" for t in texts],
        dtype=object,
    )


def _side_columns(frame: gpd.GeoDataFrame | None, index: np.ndarray, prefix: str) -> pd.DataFrame:
    n = index.size
    if frame is None:
        blank = np.full(n, "", dtype=object)
        return pd.DataFrame(
            {
                f"{prefix}_kind": blank,
                f"{prefix}_id": blank,
                f"{prefix}_name": blank,
                f"{prefix}_fid": blank,
            }
        )
    safe = np.where(index >= 0, index, 0)
    part = frame.iloc[safe]
    none = index < 0
    return pd.DataFrame(
        {
            f"{prefix}_kind": np.where(none, "", part["layer_kind"].to_numpy()),
            f"{prefix}_id": np.where(none, "", part["id"].to_numpy()),
            f"{prefix}_name": np.where(none, "", part["name"].to_numpy()),
            f"{prefix}_fid": np.where(none, "", part["source_fid"].astype(str).to_numpy()),
        }
    )


def conflict_rows(
    rule: Rule, breaches: Breaches, units: Units | None, crs: CRS
) -> gpd.GeoDataFrame:
    """Turn a rule's breaches into conflict rows, split by township.

    Parameters
    ----------
    rule : Rule
    breaches : Breaches
        After slivers were dropped.
    units : Units or None
        Townships or counties to split by; None leaves the names empty.
    crs : pyproj.CRS
        Working CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CONFLICT_COLUMNS` and the geometry, sorted by the
        features' ids and the township.
    """
    if units is not None and len(breaches):
        row, unit, geoms = split_by_unit(breaches.geoms, units)
        place = units.table.iloc[np.where(unit >= 0, unit, 0)].reset_index(drop=True)
        place.loc[unit < 0, :] = ""
    else:
        row, geoms = np.arange(len(breaches)), breaches.geoms
        place = pd.DataFrame(
            {
                f: np.full(row.size, "", dtype=object)
                for f in ("county", "township", "function_type")
            }
        )
    left = _side_columns(breaches.left, breaches.li[row], "left")
    if rule.relation == "must_be_within":
        right = _side_columns(None, breaches.ri[row], "right")
        right["right_kind"] = rule.right.kind
        right["right_name"] = KINDS[rule.right.kind].title
    else:
        right = _side_columns(breaches.right, breaches.ri[row], "right")
    area = ellipsoidal_area(geoms, crs)
    table = pd.concat([left, right, place[["county", "township", "function_type"]]], axis=1)
    table["detail"] = breaches.detail[row]
    table["distance_m"] = breaches.distance_m[row]
    table["area_m2"] = area
    table["area_mu"] = m2_to_mu(area)
    table["area_ha"] = m2_to_ha(area)
    key_columns = [
        "detail",
        "left_kind",
        "left_id",
        "left_fid",
        "right_kind",
        "right_id",
        "right_fid",
        "county",
        "township",
    ]
    table["conflict_id"] = _conflict_id(rule.id, table[key_columns])
    table["rule_id"] = rule.id
    table["rule_title"] = rule.title
    table["rule_title_en"] = rule.title_en
    table["severity"] = rule.severity
    table["relation"] = rule.relation
    table["citation"] = rule.citation.short()
    table["pack"] = rule.pack
    frame = gpd.GeoDataFrame(table[list(CONFLICT_COLUMNS)], geometry=geoms, crs=crs)
    order = np.lexsort([table[c].astype(str).to_numpy() for c in reversed(key_columns)])
    return frame.iloc[order].reset_index(drop=True)


def evaluate(
    loaded: LoadedProject,
    rules: list[Rule],
    *,
    strict: bool = False,
    progress: Callable[[int, int, Rule], None] | None = None,
    derived: DerivedRasters | None = None,
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
    derived : DerivedRasters, optional
        Where raster rules keep the slope they derive, for the rest of the run.

    Returns
    -------
    Evaluation

    Raises
    ------
    RuleError
        In strict mode, a rule that cannot be evaluated.
    """
    units = Units.from_layers(
        loaded.layers["townships"].frame if "townships" in loaded.layers else None,
        loaded.layers["counties"].frame if "counties" in loaded.layers else None,
    )
    frames, results, cache = [], [], {}
    for i, rule in enumerate(rules):
        if progress is not None:
            progress(i, len(rules), rule)
        start = time.perf_counter()
        try:
            breaches = breaches_of(loaded, rule, cache, derived)
            geometry_seconds = time.perf_counter() - start
        except RuleSkipped as exc:
            if strict:
                raise RuleError(f"rule {rule.id}: {exc}") from None
            logger.warning("rule %s skipped: %s", rule.id, exc)
            results.append(RuleResult(rule, "skipped", reason=str(exc)))
            continue
        kept, slivers = drop_slivers(breaches, rule.min_area_m2, loaded.crs)
        rows = conflict_rows(rule, kept, units, loaded.crs)
        frames.append(rows)
        results.append(
            RuleResult(
                rule,
                "evaluated",
                conflicts=len(rows),
                area_m2=float(rows["area_m2"].sum()),
                slivers=slivers,
                seconds=time.perf_counter() - start,
                geometry_seconds=geometry_seconds,
            )
        )
    if frames:
        conflicts = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=loaded.crs)
    else:
        conflicts = gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in CONFLICT_COLUMNS}, geometry=[], crs=loaded.crs
        )
    return Evaluation(conflicts=conflicts, results=results, crs=loaded.crs)


def worst_severity(conflicts: gpd.GeoDataFrame) -> str | None:
    """The most severe severity among the conflicts, or None when there are none."""
    if len(conflicts) == 0:
        return None
    return max(conflicts["severity"], key=SEVERITY_RANK.__getitem__)
