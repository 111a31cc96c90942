"""The diff model: two checks compared, as plain JSON-ready values (``diff.json``).

:func:`diff_model` compares the findings, layers and plan targets of two
check outputs and decides the gate: a pipeline fails (exit 1) when the new
check has new or grown findings at or above ``fail_on`` — however many the
old one had — and passes when everything that changed is an improvement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from geoplan.analysis.reports.model import tool_version
from geoplan.analysis.revisions.check_output import CheckOutput
from geoplan.analysis.revisions.findings import (
    CHANGE_TITLES,
    CHANGES,
    DESCRIBED,
    GEOMETRY_TOLERANCE_M2,
    compare_findings,
    land_area_m2,
)
from geoplan.analysis.revisions.layer_changes import compare_layers, read_layers
from geoplan.analysis.revisions.matching import MIN_IOU
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.layers.vocabulary import SEVERITY_RANK, SEVERITY_TITLES, reaches

SCHEMA_VERSION = 1
_ROW_COLUMNS = (
    "change",
    "match",
    "old_conflict_id",
    "new_conflict_id",
    *(c for c in DESCRIBED if c != "citation"),
    "old_area_m2",
    "new_area_m2",
    "area_change_m2",
    "area_change_mu",
    "grown",
)


@dataclass(frozen=True)
class Diff:
    """Two checks compared.

    Attributes
    ----------
    model : dict
        The diff model (``diff.json``).
    findings : geopandas.GeoDataFrame
        Every finding with its ``change`` (:func:`.findings.compare_findings`).
    features : geopandas.GeoDataFrame or None
        The added, removed and changed layer features.
    counties : geopandas.GeoDataFrame or None
        The new check's county boundaries (for the map).
    """

    model: dict[str, Any]
    findings: gpd.GeoDataFrame
    features: gpd.GeoDataFrame | None
    counties: gpd.GeoDataFrame | None = None

    @property
    def exit_status(self) -> int:
        """The gate's exit status: 1 when it fails, else 0."""
        return self.model["gate"]["exit_status"]


def _land(part: gpd.GeoDataFrame) -> dict[str, float]:
    area = land_area_m2(part)
    return {
        "land_area_m2": round(area, 2),
        "land_area_mu": round(float(m2_to_mu(area)), 2),
        "land_area_ha": round(float(m2_to_ha(area)), 4),
    }


def _groups(findings: gpd.GeoDataFrame, keys: list[str]) -> list[dict[str, Any]]:
    rows = []
    for key, part in findings.groupby([*keys, "change"], sort=False, dropna=False):
        rows.append(
            {
                **dict(zip([*keys, "change"], key, strict=True)),
                "change_title": CHANGE_TITLES[key[-1]],
                "findings": len(part),
                "area_change_m2": round(float(part["area_change_m2"].sum()), 2),
                "area_change_mu": round(float(m2_to_mu(part["area_change_m2"].sum())), 2),
                **_land(part),
            }
        )
    rank = {c: i for i, c in enumerate(CHANGES)}
    return sorted(
        rows,
        key=lambda r: (
            -SEVERITY_RANK.get(r.get("severity", ""), -1),
            rank[r["change"]],
            -r["land_area_m2"],
            [str(r[k]) for k in keys],
        ),
    )


def _records(findings: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    table = pd.DataFrame(findings.drop(columns="geometry"))[list(_ROW_COLUMNS)]
    table = table.round(
        {"old_area_m2": 2, "new_area_m2": 2, "area_change_m2": 2, "area_change_mu": 2}
    )
    table["change_title"] = table["change"].map(CHANGE_TITLES)
    table["grown"] = table["grown"].astype(bool)
    return table.astype(object).where(table.notna(), None).to_dict(orient="records")


def _targets(old: dict, new: dict) -> list[dict[str, Any]]:
    before = {t["indicator"]: t for t in old.get("summary", {}).get("targets", [])}
    rows = []
    for t in new.get("summary", {}).get("targets", []):
        o = before.get(t["indicator"], {})
        measured_old, measured_new = o.get("measured"), t.get("measured")
        rows.append(
            {
                "indicator": t["indicator"],
                "unit": t.get("unit"),
                "constraint": t.get("constraint"),
                "target": t.get("target"),
                "old_measured": measured_old,
                "new_measured": measured_new,
                "change": None
                if measured_old is None or measured_new is None
                else round(measured_new - measured_old, 4),
                "old_status": o.get("status"),
                "new_status": t.get("status"),
            }
        )
    return rows


def _gate(findings: gpd.GeoDataFrame, fail_on: str) -> dict[str, Any]:
    worse = findings[(findings["change"] == "new") | findings["grown"]]
    failing = worse[worse["severity"].map(lambda s: reaches([s], fail_on)).astype(bool)]
    new = int((failing["change"] == "new").sum())
    grown = int(failing["grown"].sum())
    if len(failing):
        title = SEVERITY_TITLES.get(fail_on, fail_on)
        reason = f"新版本有{title}类及以上的新增冲突 {new} 处、扩大的冲突 {grown} 处"
        status = "fail"
    else:
        resolved = int((findings["change"] == "resolved").sum())
        reason = f"没有达到门槛的新增或扩大的冲突；已解决 {resolved} 处"
        status = "pass"
    return {
        "status": status,
        "title": "不通过" if status == "fail" else "通过",
        "reason": reason,
        "fail_on": fail_on,
        "new_failing": new,
        "grown_failing": grown,
        "exit_status": 1 if status == "fail" else 0,
    }


def _side(output: CheckOutput) -> dict[str, Any]:
    report = output.report
    return {
        "folder": str(output.folder),
        "project": report.get("project", {}).get("name"),
        "started": report.get("run", {}).get("started"),
        "tool_version": report.get("tool", {}).get("version"),
        "conflicts": len(output.conflicts),
        "verdict": report.get("verdict"),
    }


def diff_model(old: CheckOutput, new: CheckOutput, *, fail_on: str = "prohibited") -> Diff:
    """Compare two check outputs.

    Parameters
    ----------
    old, new : CheckOutput
        The accepted check and the check of the new delivery (same working CRS).
    fail_on : {"prohibited", "restricted", "notice", "never"}, default "prohibited"
        The gate's threshold.

    Returns
    -------
    Diff
    """
    findings = compare_findings(old.conflicts, new.conflicts.to_crs(old.crs), old.crs)
    new_layers = read_layers(new.layers_path, old.crs)
    layers, features = compare_layers(read_layers(old.layers_path, old.crs), new_layers)
    counts = {c: int((findings["change"] == c).sum()) for c in CHANGES}
    model = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "geoplan", "version": tool_version()},
        "old": _side(old),
        "new": _side(new),
        "tolerance": {
            "min_iou": MIN_IOU,
            "geometry_m2": GEOMETRY_TOLERANCE_M2,
            "text": (
                f"先按冲突编号匹配；编号变化的按同一规则、交并比不小于 {MIN_IOU} 的几何匹配；"
                f"匹配后对称差面积超过 {GEOMETRY_TOLERANCE_M2:g} 平方米记为变化"
            ),
        },
        "counts": counts,
        "gate": _gate(findings, fail_on),
        "summary": {
            "by_change": [
                {
                    "change": c,
                    "change_title": CHANGE_TITLES[c],
                    "findings": counts[c],
                    **_land(findings[findings["change"] == c]),
                }
                for c in CHANGES
            ],
            "by_severity": _groups(findings, ["severity"]),
            "by_rule": _groups(findings, ["rule_id", "rule_title", "severity"]),
            "by_county": _groups(findings, ["county"]),
            "by_township": _groups(findings, ["county", "township"]),
        },
        "targets": _targets(old.report, new.report),
        "layers": layers,
        "findings": _records(findings),
    }
    return Diff(
        model=model, findings=findings, features=features, counties=new_layers.get("counties")
    )
