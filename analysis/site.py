"""Site check: one proposed site against every layer and rule of a project.

The site stands in for a layer kind (an industrial park by default): every
rule that has that kind on a side its relation lets a site stand in for
(``site_sides`` of the entry in :mod:`analysis.relations`: the left side,
or either side of an overlap or distance rule) and whose filter on that side
the site meets applies to it, and is evaluated with the site in place of the
layer. The other layers are cut down to the site's neighbourhood first
(their spatial index), so the answer comes in well under a second once the
project is loaded. Whether a layer records a filter field is decided on the
whole layer: a rule whose neighbourhood holds no feature with a value there
is evaluated again with the whole of that layer, not skipped.

A site outside the project's region (its counties, else its townships,
else every layer's features) is refused before anything else is read.
The verdict, the areas taken and the distances are in
:mod:`analysis.site_review` and :mod:`analysis.site_taken`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.analysis.engine import Evaluation, evaluate
from geoplan.analysis.overlay import intersect_pairs
from geoplan.analysis.prepare import prepare_inputs
from geoplan.analysis.relations import registry
from geoplan.analysis.rules import Rule
from geoplan.analysis.selection import RuleSkipped, select
from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.crs import transformer
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.layers.catalog import get_kind
from geoplan.layers.errors import ProjectError
from geoplan.layers.field_mapping import convert_field
from geoplan.layers.loader import LoadedLayer, LoadedProject
from geoplan.layers.project_types import LayerSpec

#: Standard fields a site gets when it stands in for a park and none are given.
PARK_DEFAULTS = {"kind": "工业园区", "chemical": "否"}
#: Layers that make the project's region, in the order they are looked for.
REGION_KINDS = ("counties", "townships")


class OutsideProjectError(ProjectError):
    """The site lies outside the project's region."""


def site_layer(
    site: gpd.GeoDataFrame, kind_name: str, values: dict[str, str], crs: Any
) -> LoadedLayer:
    """The site as a loaded layer of ``kind_name``, with its standard fields set."""
    kind = get_kind(kind_name)
    spec = LayerSpec(kind=kind_name, path=Path("site"))
    data = pd.DataFrame({"id": [f"site-{i + 1}" for i in range(len(site))]})
    data["name"] = site["name"].astype(str).to_numpy()
    data["parcel_no"] = site["parcel_no"].astype(str).to_numpy() if "parcel_no" in site else ""
    fields = {f.name: f for f in kind.all_fields}
    for name, value in values.items():
        if name not in fields:
            raise ProjectError(
                f"--set {name}: {kind_name} has no field {name!r}; its fields are: "
                f"{', '.join(sorted(fields))}"
            )
        data[name] = convert_field(pd.Series([value] * len(site)), fields[name], spec)
    data["area_m2"] = ellipsoidal_area(site.geometry.values, crs)
    data["source_fid"] = np.arange(len(site))
    frame = gpd.GeoDataFrame(data, geometry=site.geometry.values, crs=crs)
    return LoadedLayer(spec=spec, kind=kind, frame=frame, driver="site", source_crs=crs)


def site_rules(rules: list[Rule], kind: str) -> list[Rule]:
    """The rules a site of ``kind`` can break: those with ``kind`` on a side it may stand in for."""
    return [
        rule
        for rule in rules
        if any(s.kind == kind for s in rule.sides_named(registry()[rule.relation].site_sides))
    ]


def site_margin(rules: list[Rule]) -> float:
    """How far (m) around the site the rules look: the largest reach, plus a metre."""
    reaches = [rule.params[reach] for rule in rules if (reach := registry()[rule.relation].reach)]
    return max([0.0, *reaches]) + 1.0


def neighbourhood(loaded: LoadedProject, site: gpd.GeoDataFrame, margin: float) -> LoadedProject:
    """The project cut down to the features within ``margin`` metres of the site's extent."""
    x0, y0, x1, y1 = site.total_bounds
    window = shapely.box(x0 - margin, y0 - margin, x1 + margin, y1 + margin)
    layers = {}
    for kind, layer in loaded.layers.items():
        hits = np.sort(layer.frame.sindex.query(window, predicate="intersects"))
        layers[kind] = replace(layer, frame=layer.frame.iloc[hits].reset_index(drop=True))
    return replace(loaded, layers=layers)


def require_inside(loaded: LoadedProject, site: gpd.GeoDataFrame) -> None:
    """Refuse a site that shares no ground with the project's region.

    The region is the counties layer, else the townships, else the features
    of every layer. Checked before any raster is read.

    Raises
    ------
    OutsideProjectError
        ``选址不在项目范围内 …`` with the site's and the region's extent in
        longitude/latitude.
    """
    filled = [k for k, layer in loaded.layers.items() if len(layer.frame)]
    kinds = [k for k in REGION_KINDS if k in filled] or filled
    if not kinds:
        return
    geoms = site.geometry.values
    for kind in kinds[:1] if kinds[0] in REGION_KINDS else kinds:
        frame = loaded.frame(kind)
        if frame.sindex.query(geoms, predicate="intersects").size:
            return
    to_lonlat = transformer(loaded.crs, "EPSG:4490")
    boxes = np.array([loaded.frame(k).total_bounds for k in kinds])
    region = (*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0))

    def lonlat(bounds) -> str:
        (x0, x1), (y0, y1) = to_lonlat.transform([bounds[0], bounds[2]], [bounds[1], bounds[3]])
        return f"东经 {x0:.4f}°–{x1:.4f}°、北纬 {y0:.4f}°–{y1:.4f}°"

    what = "、".join(loaded.layers[k].kind.title for k in kinds[:1] if k in REGION_KINDS)
    raise OutsideProjectError(
        f"选址不在项目范围内：选址（{lonlat(site.total_bounds)}）与{what or '项目各图层'}"
        f"（{lonlat(region)}）没有共同范围；请核对坐标与坐标系（--src-crs、带号）"
    )


def applies(rule: Rule, site_layer_project: LoadedProject, kind: str) -> bool:
    """Whether the site meets the rule's filter on a side it stands in for."""
    sides = rule.sides_named(registry()[rule.relation].site_sides)
    for side in sides:
        if side.kind != kind:
            continue
        try:
            if len(select(site_layer_project, side)):
                return True
        except RuleSkipped:
            continue
    return False


@dataclass
class SiteResult:
    """What a site check found.

    Attributes
    ----------
    site : geopandas.GeoDataFrame
        The site, in the working CRS, with ``area_m2``.
    kind : str
        The layer kind it stood in for.
    touches : pandas.DataFrame
        Every feature of every layer the site shares area with: ``kind``,
        ``id``, ``name``, ``area_m2`` of the shared part, and for townships
        ``county`` and ``function_type``.
    evaluation : Evaluation
        The rules that apply to the site, evaluated with the site in place of its kind.
    not_applicable : list of Rule
        Rules with the kind on a side but a filter the site does not meet
        (``chemical = true`` for a site that is no chemical park).
    loaded : LoadedProject
        The whole project with the site in place of its kind (distances and
        the terrain are measured on it).
    """

    site: gpd.GeoDataFrame
    kind: str
    touches: pd.DataFrame
    evaluation: Evaluation
    not_applicable: list[Rule]
    loaded: LoadedProject

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready result: the site, what it touches, each rule, each conflict."""
        area = float(self.site["area_m2"].sum())
        conflicts = pd.DataFrame(self.evaluation.conflicts.drop(columns="geometry"))
        return {
            "site": {
                "as_kind": self.kind,
                "features": len(self.site),
                "area_m2": round(area, 2),
                "area_mu": round(float(m2_to_mu(area)), 2),
                "area_ha": round(float(m2_to_ha(area)), 4),
            },
            "touches": self.touches.round({"area_m2": 2, "area_mu": 2}).to_dict(orient="records"),
            "rules": [
                {
                    "rule_id": r.rule.id,
                    "title": r.rule.title,
                    "severity": r.rule.severity,
                    "status": r.status,
                    "reason": r.reason or None,
                    "conflicts": r.conflicts,
                    "area_m2": round(r.area_m2, 2),
                }
                for r in self.evaluation.results
            ],
            "conflicts": conflicts.round({"area_m2": 2, "area_mu": 2, "area_ha": 4})
            .astype(object)
            .where(conflicts.notna(), None)
            .to_dict(orient="records"),
        }


def touches(loaded: LoadedProject, site: gpd.GeoDataFrame, skip: str) -> pd.DataFrame:
    """Every polygon feature of every layer (but ``skip``) that shares area with the site.

    Returns
    -------
    pandas.DataFrame
        ``kind``, ``title``, ``id``, ``name``, ``county``, ``function_type``,
        ``land_class`` (地类编码, empty where the layer has none), ``area_m2``
        and ``area_mu`` of the shared part, and ``feature_area_m2`` (the
        whole feature's ellipsoidal area).
    """
    rows = []
    site_geoms = site.geometry.values
    for kind, layer in loaded.layers.items():
        if kind == skip or layer.kind.family != "polygon" or len(layer.frame) == 0:
            continue
        frame = layer.frame
        _, fi, shared = intersect_pairs(site_geoms, frame.geometry.values)
        if fi.size == 0:
            continue
        part = frame.iloc[fi]
        area = ellipsoidal_area(shared, loaded.crs)
        rows.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "title": layer.kind.title,
                    "id": part["id"].astype(str).to_numpy(),
                    "name": part["name"].astype(str).to_numpy() if "name" in part else "",
                    "county": part["county"].fillna("").to_numpy() if "county" in part else "",
                    "function_type": part["function_type"].fillna("").to_numpy()
                    if "function_type" in part
                    else "",
                    "land_class": part["land_class"].fillna("").astype(str).to_numpy()
                    if "land_class" in part
                    else "",
                    "area_m2": area,
                    "area_mu": m2_to_mu(area),
                    "feature_area_m2": part["area_m2"].to_numpy(),
                }
            )
        )
    keys = ["kind", "title", "id", "name", "county", "function_type", "land_class"]
    columns = [*keys, "area_m2", "area_mu", "feature_area_m2"]
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.concat(rows, ignore_index=True).groupby(keys, sort=False)
    summed = out[["area_m2", "area_mu"]].sum()
    return summed.join(out[["feature_area_m2"]].first()).reset_index()[columns]


def _cut_fields(near: LoadedProject, whole: LoadedProject, rule: Rule) -> list[str]:
    """The kinds whose filter fields have values in the whole layer but none near the site.

    Near the site such a layer only has no feature that matches; the rule
    is evaluated with the whole of it rather than skipped.
    """
    kinds = []
    for side in (rule.left, rule.right, *rule.layers, rule.region):
        if side is None or not side.filters or side.kind not in near.layers:
            continue
        try:
            select(near, side)
        except RuleSkipped:
            try:
                select(whole, side)
            except RuleSkipped:
                continue
            kinds.append(side.kind)
    return kinds


def _evaluate(near: LoadedProject, whole: LoadedProject, rules: list[Rule]) -> Evaluation:
    """Evaluate on the neighbourhood, a rule with :func:`_cut_fields` on its whole layers."""
    prepared = prepare_inputs(near, rules)
    widened = {rule.id: kinds for rule in rules if (kinds := _cut_fields(near, whole, rule))}
    evaluation = evaluate(near, [r for r in rules if r.id not in widened], prepared=prepared)
    results = {r.rule.id: r for r in evaluation.results}
    frames = [evaluation.conflicts]
    for rule in rules:
        if rule.id in widened:
            layers = {**near.layers, **{k: whole.layers[k] for k in widened[rule.id]}}
            again = evaluate(replace(near, layers=layers), [rule], prepared=prepared)
            results[rule.id] = again.results[0]
            frames.append(again.conflicts)
    found = [f for f in frames if len(f)]
    if len(found) > 1:
        evaluation.conflicts = gpd.GeoDataFrame(pd.concat(found, ignore_index=True), crs=near.crs)
    elif found:
        evaluation.conflicts = found[0]
    evaluation.results = [results[rule.id] for rule in rules]
    return evaluation


def check_site(
    loaded: LoadedProject,
    site: gpd.GeoDataFrame,
    rules: list[Rule],
    *,
    kind: str = "parks",
    values: dict[str, str] | None = None,
) -> SiteResult:
    """Check a proposed site against a loaded project.

    Parameters
    ----------
    loaded : LoadedProject
    site : geopandas.GeoDataFrame
        From :func:`analysis.site_input.read_site`, in the working CRS.
    rules : list of Rule
    kind : str, default "parks"
        The layer kind the site stands in for.
    values : dict of str to str, optional
        Standard fields of the site (for ``parks`` the defaults are
        :data:`PARK_DEFAULTS`).

    Returns
    -------
    SiteResult

    Raises
    ------
    OutsideProjectError
        The site lies outside the project's region (before any raster is read).
    ProjectError
        A ``values`` field the kind lacks.
    """
    require_inside(loaded, site)
    values = {**(PARK_DEFAULTS if kind == "parks" else {}), **(values or {})}
    layer = site_layer(site, kind, values, loaded.crs)
    whole = replace(loaded, layers={**loaded.layers, kind: layer})
    candidates = site_rules(rules, kind)
    chosen = [rule for rule in candidates if applies(rule, whole, kind)]
    near = neighbourhood(loaded, site, site_margin(chosen))
    near.layers[kind] = layer
    return SiteResult(
        site=layer.frame,
        kind=kind,
        touches=touches(near, layer.frame, kind),
        evaluation=_evaluate(near, whole, chosen),
        not_applicable=[rule for rule in candidates if rule not in chosen],
        loaded=whole,
    )
