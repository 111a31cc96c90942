"""The site review as a decision: the verdict, each rule's status, and the memo's data model.

Verdict rules (stated in the memo, :data:`VERDICT_RULES`):

- ``fail`` 不可行 — a rule that applies to the site, of severity at or
  above ``fail_on`` (default ``prohibited``), is not met;
- ``conditional`` 需调整 — only rules below ``fail_on`` but at least
  ``restricted`` are not met;
- ``pass`` 可行 — otherwise (rules of 提示 severity not met are listed).

Each rule that applies is ``pass`` 符合 (evaluated, nothing found — also when
the layer simply has no feature that matches its filter), ``fail`` 不符合
(with the area or distance and the features involved) or ``skipped`` 未检查
(with why, in Chinese). :func:`site_model` is the memo's data (``site.json``,
schema ``analysis/schemas/site.schema.json``): plain data only, rendered by
:mod:`analysis.site_memo_html` and :mod:`analysis.site_memo_docx`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import shapely
from pyproj import CRS

from geoplan.analysis.engine import RuleResult
from geoplan.analysis.site import SiteResult
from geoplan.analysis.site_taken import distances, taken_areas, terrain, townships
from geoplan.geo.crs import classify_crs, gk3_epsg, to_crs, transformer, zone_of_longitude
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.layers.vocabulary import SEVERITY_RANK, SEVERITY_TITLES

SCHEMA_VERSION = 1
#: Verdict codes and their Chinese titles.
VERDICT_TITLES = {"fail": "不可行", "conditional": "需调整", "pass": "可行"}
#: Rule status codes and their Chinese titles.
STATUS_TITLES = {"pass": "符合", "fail": "不符合", "skipped": "未检查"}
#: How the verdict is reached, as the memo states it.
VERDICT_RULES = (
    "不可行：适用于选址的规则中，有严重程度达到或高于“{fail_on}”的规则不符合；",
    "需调整：不符合的规则均低于“{fail_on}”，其中有“限制”级规则；",
    "可行：其余情形（“提示”级规则不符合时列出，供参考）。",
    "适用的规则逐条列出：符合、不符合（面积或距离、涉及要素）或未检查（原因）；"
    "图层中没有与规则条件相符的要素时为符合，不作未检查。",
)


def rule_status(result: RuleResult) -> str:
    """``pass``, ``fail`` or ``skipped`` for one evaluated rule."""
    if result.status == "skipped":
        return "skipped"
    return "fail" if result.conflicts else "pass"


def verdict_of(results: list[RuleResult], fail_on: str = "prohibited") -> str:
    """The verdict (``fail``/``conditional``/``pass``) from the rules' results."""
    failed = [r.rule.severity for r in results if rule_status(r) == "fail"]
    if any(SEVERITY_RANK[s] >= SEVERITY_RANK[fail_on] for s in failed):
        return "fail"
    if any(SEVERITY_RANK[s] >= SEVERITY_RANK["restricted"] for s in failed):
        return "conditional"
    return "pass"


def verdict_reason(rules: list[dict[str, Any]]) -> str:
    """One Chinese sentence: which rules are not met, by severity, or that all are met."""
    failed = [r for r in rules if r["status"] == "fail"]
    skipped = sum(r["status"] == "skipped" for r in rules)
    unchecked = f"；{skipped} 条未检查" if skipped else ""
    if not failed:
        return f"适用的 {len(rules)} 条规则中 {len(rules) - skipped} 条符合{unchecked}。"
    parts = []
    for severity in ("prohibited", "restricted", "notice"):
        titles = [r["title"] for r in failed if r["severity"] == severity]
        if titles:
            parts.append(f"{SEVERITY_TITLES[severity]}级 {len(titles)} 条（{'、'.join(titles)}）")
    return f"不符合{'，'.join(parts)}{unchecked}。"


def _findings(conflicts: pd.DataFrame, rule_id: str, site_kind: str) -> dict[str, Any]:
    rows = conflicts[conflicts["rule_id"] == rule_id]
    if len(rows) == 0:
        return {"area_m2": 0.0, "area_mu": 0.0, "area_ha": 0.0, "distance_m": None, "features": []}
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows.itertuples(index=False):
        for side in ("left", "right"):
            kind = getattr(row, f"{side}_kind")
            if kind and kind != site_kind:
                key = (kind, str(getattr(row, f"{side}_id")))
                name = getattr(row, f"{side}_name")
                seen[key] = {"kind": kind, "id": key[1], "name": "" if pd.isna(name) else str(name)}
    gaps = pd.to_numeric(rows["distance_m"], errors="coerce").dropna()
    return {
        "area_m2": round(float(rows["area_m2"].sum()), 2),
        "area_mu": round(float(rows["area_mu"].sum()), 2),
        "area_ha": round(float(rows["area_ha"].sum()), 4),
        "distance_m": round(float(gaps.min()), 1) if len(gaps) else None,
        "features": list(seen.values()),
    }


def rule_rows(result: SiteResult) -> list[dict[str, Any]]:
    """Every rule that applies, with its status and what it found."""
    conflicts = pd.DataFrame(result.evaluation.conflicts.drop(columns="geometry"))
    rows = []
    for r in result.evaluation.results:
        status = rule_status(r)
        rule = r.rule
        rows.append(
            {
                "rule_id": rule.id,
                "title": rule.title,
                "severity": rule.severity,
                "severity_title": SEVERITY_TITLES[rule.severity],
                "relation": rule.relation,
                "params": dict(rule.params),
                "status": status,
                "status_title": STATUS_TITLES[status],
                "skipped_reason": (r.reason_zh or r.reason) if status == "skipped" else None,
                "skipped_reason_en": r.reason if status == "skipped" else None,
                **_findings(conflicts, rule.id, result.kind),
                "citation": rule.citation.as_dict(),
                "remedy": rule.remedy.as_dict() if rule.remedy is not None else None,
            }
        )
    return rows


def coordinates_crs(crs: Any) -> CRS:
    """The CRS of the coordinates table: the zone-prefixed CGCS2000 3° zone of the working CRS.

    A working CRS that is no CGCS2000 3° zone gets the zone of its centre longitude.
    """
    kind = classify_crs(crs)
    if kind is not None and kind.zone is not None:
        return CRS.from_epsg(gk3_epsg(kind.zone, prefixed=True))
    area = to_crs(crs).area_of_use
    lon = (area.west + area.east) / 2 if area is not None else 105.0
    return CRS.from_epsg(gk3_epsg(zone_of_longitude(lon), prefixed=True))


def coordinates(result: SiteResult) -> dict[str, Any]:
    """The site's corner points: 点号, 圈号, X (northing), Y (easting with the zone), per parcel."""
    target = coordinates_crs(result.loaded.crs)
    to_zone = transformer(result.loaded.crs, target)
    parcels = []
    for row in result.site.itertuples(index=False):
        points, number = [], 0
        parts = getattr(row.geometry, "geoms", [row.geometry])
        rings = [r for part in parts for r in (part.exterior, *part.interiors)]
        for ring_no, ring in enumerate(rings, start=1):
            xy = shapely.get_coordinates(ring)[:-1]
            east, north = to_zone.transform(xy[:, 0], xy[:, 1])
            for e, n in zip(east, north, strict=True):
                number += 1
                points.append(
                    {
                        "point": f"J{number}",
                        "ring": ring_no,
                        "x": round(float(n), 3),
                        "y": round(float(e), 3),
                    }
                )
        parcels.append(
            {"id": row.id, "name": row.name, "parcel_no": row.parcel_no, "points": points}
        )
    return {"crs": f"EPSG:{target.to_epsg()} {target.name}", "parcels": parcels}


def site_model(
    result: SiteResult,
    *,
    fail_on: str = "prohibited",
    project: str = "",
    values: dict[str, str] | None = None,
    parcels: list[tuple[str, str, SiteResult]] | None = None,
) -> dict[str, Any]:
    """The site review's data: verdict, rules, areas, townships, distances, terrain, points.

    Parameters
    ----------
    result : SiteResult
        The check of the whole site (all parcels together).
    fail_on : str
        Severity at or above which a rule not met makes the site 不可行.
    project : str
        The project's name.
    values : dict, optional
        The site's standard fields as given (``--set``).
    parcels : list of (id, name, SiteResult), optional
        Each parcel checked alone, for a site of several parcels.

    Returns
    -------
    dict
        Plain data (``site.json``, and what ``geoplan site --json`` prints):
        ``verdict``, ``rules``, ``taken``, ``townships``, ``distances``,
        ``terrain``, ``parcel_verdicts``, ``coordinates``, ``citations``, and
        ``touches`` and ``conflicts`` as :meth:`SiteResult.as_dict` gives them.
    """
    code = verdict_of(result.evaluation.results, fail_on)
    rules = rule_rows(result)
    found = result.as_dict()
    area = float(result.site["area_m2"].sum())
    failed = [r for r in rules if r["status"] == "fail"]
    return {
        "schema_version": SCHEMA_VERSION,
        "project": project,
        "site": {
            "as_kind": result.kind,
            "as_kind_title": result.loaded.layers[result.kind].kind.title,
            "values": dict(values or {}),
            "parcels": len(result.site),
            "features": len(result.site),
            "area_m2": round(area, 2),
            "area_mu": round(float(m2_to_mu(area)), 2),
            "area_ha": round(float(m2_to_ha(area)), 4),
        },
        "verdict": {
            "status": code,
            "title": VERDICT_TITLES[code],
            "reason": verdict_reason(rules),
            "fail_on": fail_on,
            "fail_on_title": SEVERITY_TITLES[fail_on],
            "failed_rules": [r["rule_id"] for r in failed],
            "rules_text": [line.format(fail_on=SEVERITY_TITLES[fail_on]) for line in VERDICT_RULES],
        },
        "rules": rules,
        "not_applicable": [
            {"rule_id": rule.id, "title": rule.title, "severity": rule.severity}
            for rule in result.not_applicable
        ],
        "taken": taken_areas(result),
        "townships": townships(result),
        "distances": distances(result),
        "terrain": terrain(result),
        "parcel_verdicts": [
            {
                "id": pid,
                "name": name,
                "area_m2": round(float(alone.site["area_m2"].sum()), 2),
                "area_mu": round(float(m2_to_mu(alone.site["area_m2"].sum())), 2),
                "verdict": (v := verdict_of(alone.evaluation.results, fail_on)),
                "verdict_title": VERDICT_TITLES[v],
                "failed_rules": [
                    r.rule.id for r in alone.evaluation.results if rule_status(r) == "fail"
                ],
            }
            for pid, name, alone in (parcels or [])
        ],
        "coordinates": coordinates(result),
        "citations": _citations(rules),
        "touches": found["touches"],
        "conflicts": found["conflicts"],
    }


def _citations(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each cited text once, with the rules citing it."""
    found: dict[str, dict[str, Any]] = {}
    for rule in rules:
        citation = rule["citation"]
        entry = found.setdefault(citation["text"], {**citation, "rules": []})
        entry["rules"].append(rule["rule_id"])
    return list(found.values())
