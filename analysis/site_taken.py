"""What a proposed site takes and how near it comes: areas, land classes, distances, terrain.

All areas are ellipsoidal (CGCS2000), from the site check's shared parts
(:func:`analysis.site.touches`); a layer's total is the area of the site
inside the union of its features, so overlapping features are not counted
twice. Distances are measured in the working (Gauss-Krüger) CRS from the
site to the nearest feature of the whole layer, not only the neighbourhood
the check looked at.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.analysis.land_classes import (
    group_pieces,
    land_class_breakdown,
    land_class_source,
    occupation_pieces,
)
from geoplan.analysis.relations import registry
from geoplan.analysis.selection import RuleSkipped, Selection, select
from geoplan.analysis.site import SiteResult
from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.geo.zonal import zonal_stats

#: Layers listed apart from the areas taken (the site's places, not controls).
PLACE_KINDS = ("townships", "counties")
#: Slope (°) over which the terrain share is given (25°: 陡坡 of 国土调查).
STEEP_DEGREES = 25.0


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole > 0 else None


def _areas(area_m2: float) -> dict[str, float]:
    return {
        "area_m2": round(area_m2, 2),
        "area_mu": round(float(m2_to_mu(area_m2)), 2),
        "area_ha": round(float(m2_to_ha(area_m2)), 4),
    }


def taken_areas(result: SiteResult) -> dict[str, list[dict[str, Any]]]:
    """The area the site takes from each layer, feature and land class.

    Returns
    -------
    dict
        ``layers``: per layer kind, the area (m², 亩, 公顷), its share of the
        site and the number of features; ``features``: per feature, the
        area, share of the site and of the feature (with its 地类编码 where
        the layer has one); ``land_classes``: :func:`land_classes`.
    """
    site_area = float(result.site["area_m2"].sum())
    site_union = shapely.union_all(result.site.geometry.values)
    touched = result.touches[~result.touches["kind"].isin(PLACE_KINDS)]
    layers, features = [], []
    for kind, rows in touched.groupby("kind", sort=False):
        frame = result.loaded.frame(kind)
        union = shapely.union_all(frame[frame["id"].isin(rows["id"])].geometry.values)
        area = float(
            ellipsoidal_area([shapely.intersection(site_union, union)], result.loaded.crs)[0]
        )
        layers.append(
            {
                "kind": kind,
                "title": rows["title"].iloc[0],
                "features": len(rows),
                **_areas(area),
                "share_of_site": _share(area, site_area),
            }
        )
        for row in rows.itertuples(index=False):
            features.append(
                {
                    "kind": kind,
                    "title": row.title,
                    "id": row.id,
                    "name": row.name,
                    "land_class": row.land_class,
                    **_areas(float(row.area_m2)),
                    "share_of_site": _share(float(row.area_m2), site_area),
                    "share_of_feature": _share(float(row.area_m2), float(row.feature_area_m2)),
                }
            )
    return {"layers": layers, "features": features, "land_classes": land_classes(result)}


def _class_rows(table: pd.DataFrame, site_area: float) -> list[dict[str, Any]]:
    rows = []
    for row in table.to_dict(orient="records"):
        gross, net = float(row["gross_area_m2"]), float(row["net_area_m2"])
        rows.append(
            {
                **{k: row[k] for k in ("rule_id", "severity") if k in row},
                "land_class": str(row["land_class"]),
                "land_class_name": str(row["land_class_name"]),
                **{f"gross_{k}": v for k, v in _areas(gross).items()},
                **{f"net_{k}": v for k, v in _areas(net).items()},
                "net_method": row["net_method"],
                "share_of_site": _share(gross, site_area),
            }
        )
    return rows


def _by(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows of :func:`analysis.land_classes.group_pieces` summed over townships."""
    if len(table) == 0:
        return table
    grouped = table.groupby(keys, sort=False, as_index=False)
    out = grouped.agg(
        gross_area_m2=("gross_area_m2", "sum"),
        net_area_m2=("net_area_m2", "sum"),
        net_method=("net_method", "first"),
        methods=("net_method", "nunique"),
    )
    out.loc[out["methods"] > 1, "net_method"] = "mixed"
    return out


def land_classes(result: SiteResult) -> dict[str, Any]:
    """The site and each rule's finding broken down by 地类, gross and net of 田坎.

    The classes come from the project's land-survey layer (``land_survey``,
    else ``cultivated_land`` or ``permanent_farmland`` with 地类编码), as the
    check's 压占分析 reads them (:mod:`analysis.land_classes`).

    Returns
    -------
    dict
        ``source`` (the layer kind, None without one), ``source_title``,
        ``site``: per land class of the whole site, and ``by_rule``: per
        rule not met and land class; areas in m², 亩 and 公顷, ``gross_*``
        and ``net_*`` (``net_method`` says how the 田坎 was deducted).
    """
    source = land_class_source(result.loaded)
    if source is None:
        return {"source": None, "source_title": None, "site": [], "by_rule": []}
    site_area = float(result.site["area_m2"].sum())
    survey = result.loaded.frame(source)
    site = shapely.union_all(result.site.geometry.values)
    survey = survey.iloc[np.sort(survey.sindex.query(site, predicate="intersects"))]
    pieces = gpd.GeoDataFrame(
        {
            "rule_id": "site",
            "severity": "notice",
            "county": "",
            "township": "",
            "detail": "overlap",
        },
        index=range(len(result.site)),
        geometry=result.site.geometry.values,
        crs=result.loaded.crs,
    )
    whole = group_pieces(occupation_pieces(pieces, survey, result.loaded.crs))
    whole = _by(whole, ["land_class", "land_class_name"])
    by_rule = land_class_breakdown(result.loaded, result.evaluation.conflicts).rows
    by_rule = _by(by_rule, ["rule_id", "severity", "land_class", "land_class_name"])
    return {
        "source": source,
        "source_title": result.loaded.layers[source].kind.title,
        "site": _class_rows(whole.sort_values("gross_area_m2", ascending=False), site_area),
        "by_rule": _class_rows(by_rule, site_area),
    }


def townships(result: SiteResult) -> list[dict[str, Any]]:
    """The townships the site lies in, with their 乡镇级主体功能区 type and share of the site."""
    site_area = float(result.site["area_m2"].sum())
    rows = result.touches[result.touches["kind"] == "townships"]
    return [
        {
            "id": row.id,
            "name": row.name,
            "county": row.county,
            "function_type": row.function_type,
            **_areas(float(row.area_m2)),
            "share_of_site": _share(float(row.area_m2), site_area),
        }
        for row in rows.sort_values("area_m2", ascending=False).itertuples(index=False)
    ]


def _nearest(selection: Selection, site: shapely.Geometry) -> tuple[float, int] | None:
    """Distance (m) from the site to the nearest selected feature, and its row."""
    if len(selection) == 0:
        return None
    geoms = selection.frame.geometry.values
    index = selection.frame.sindex.nearest(site, return_all=False)[1]
    row = int(index[0])
    return float(shapely.distance(site, geoms[row])), row


def distances(result: SiteResult) -> list[dict[str, Any]]:
    """The distance from the site to each layer a distance rule measures, and to the nearest river.

    Returns
    -------
    list of dict
        ``kind``, ``title``, ``id``, ``name`` of the nearest feature,
        ``distance_m``, and for a rule ``rule_id``, ``required_m`` and
        ``kept`` (whether the distance is at least the requirement).
    """
    site = shapely.union_all(result.site.geometry.values)
    measured: list[dict[str, Any]] = []
    wanted = []
    for rule_result in result.evaluation.results:
        rule = rule_result.rule
        reach = registry()[rule.relation].reach
        if reach is None:
            continue
        other = rule.right if rule.left is not None and rule.left.kind == result.kind else rule.left
        wanted.append((other, rule.id, float(rule.params[reach])))
    if "rivers" in result.loaded.layers and not any(s.kind == "rivers" for s, _, _ in wanted):
        wanted.append((None, None, None))
    for side, rule_id, required in wanted:
        try:
            chosen = (
                select(result.loaded, side)
                if side is not None
                else Selection.of(result.loaded.frame("rivers"))
            )
        except RuleSkipped:
            continue
        found = _nearest(chosen, site)
        if found is None:
            continue
        distance, row = found
        kind = side.kind if side is not None else "rivers"
        measured.append(
            {
                "kind": kind,
                "title": result.loaded.layers[kind].kind.title,
                "id": str(chosen.frame["id"].iloc[row]),
                "name": str(chosen.frame["name"].iloc[row]) if "name" in chosen.frame else "",
                "distance_m": round(distance, 1),
                "rule_id": rule_id,
                "required_m": required,
                "kept": None if required is None else bool(distance >= required),
            }
        )
    return measured


def terrain(result: SiteResult) -> dict[str, Any] | None:
    """Elevation and slope over the site from the project's DEM (None without one).

    Returns
    -------
    dict or None
        ``elevation_mean``/``_min``/``_max`` (m), ``slope_mean`` (°) and
        ``slope_share_above_25`` (0–1) over the whole site.
    """
    dem = result.loaded.project.rasters.get("dem")
    if dem is None:
        return None
    info = dem.info()
    whole = result.site.dissolve()[["geometry"]]
    elevation = zonal_stats(info, whole, measure="elevation", stats=("mean", "min", "max"))
    slope = zonal_stats(info, whole, measure="slope", stats=("mean",), threshold=STEEP_DEGREES)

    def value(frame: pd.DataFrame, column: str, digits: int) -> float | None:
        number = float(frame[column].iloc[0])
        return round(number, digits) if np.isfinite(number) else None

    return {
        "elevation_mean": value(elevation, "mean", 1),
        "elevation_min": value(elevation, "min", 1),
        "elevation_max": value(elevation, "max", 1),
        "slope_mean": value(slope, "mean", 2),
        "slope_share_above_25": value(slope, "share_above", 4),
        "raster": "dem",
    }
