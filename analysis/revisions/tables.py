"""The tables of a diff, read from the diff model, for ``diff.md`` and ``diff.html``.

Built as :class:`analysis.reports.tables.Table` objects, like the report's,
so both renderings show the same rows and columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoplan.analysis.reports.tables import Column, Table, feature_label, place
from geoplan.geo.units import m2_to_mu
from geoplan.layers.vocabulary import SEVERITY_TITLES, kind_title

Diff = Mapping[str, Any]
#: Findings listed per class at most in the documents (diff.json has all).
LISTED = 200


def _mu(area_m2: float | None) -> float | None:
    return None if area_m2 is None else float(m2_to_mu(area_m2))


def _place(row: Mapping[str, Any]) -> str:
    return place("".join(v for v in (row.get("county"), row.get("township")) if v))


def counts_table(diff: Diff) -> Table:
    """Findings and land area (counted once) by class of change."""
    rows = [
        {"change": r["change_title"], "findings": r["findings"], "land_area_mu": r["land_area_mu"]}
        for r in diff["summary"]["by_change"]
    ]
    columns = (
        Column("change", "变化"),
        Column("findings", "冲突数", "int"),
        Column("land_area_mu", "涉及土地（亩）", "area"),
    )
    return Table("counts", "冲突变化", columns, rows)


def findings_table(diff: Diff, change: str, title: str) -> Table:
    """The findings of one class of change, most serious first (at most :data:`LISTED`)."""
    rows = []
    for f in diff["findings"]:
        if f["change"] != change or len(rows) >= LISTED:
            continue
        rows.append(
            {
                "conflict_id": f["new_conflict_id"] or f["old_conflict_id"],
                "old_conflict_id": f["old_conflict_id"] or "",
                "severity": SEVERITY_TITLES.get(f["severity"], f["severity"]),
                "rule": f["rule_title"],
                "place": _place(f),
                "features": "；".join(
                    s
                    for s in (
                        feature_label(f["left_kind"], f["left_id"], f["left_name"]),
                        feature_label(f["right_kind"], f["right_id"], f["right_name"]),
                    )
                    if s
                ),
                "old_area_mu": _mu(f["old_area_m2"]),
                "new_area_mu": _mu(f["new_area_m2"]),
                "area_change_mu": f["area_change_mu"],
                "match": {"id": "编号", "geometry": "几何"}.get(f["match"], ""),
            }
        )
    keys = {
        "new": ("conflict_id", "severity", "rule", "place", "features", "new_area_mu"),
        "resolved": ("conflict_id", "severity", "rule", "place", "features", "old_area_mu"),
        "changed": (
            "conflict_id",
            "old_conflict_id",
            "severity",
            "rule",
            "place",
            "old_area_mu",
            "new_area_mu",
            "area_change_mu",
            "match",
        ),
    }[change]
    columns = {
        "conflict_id": Column("conflict_id", "冲突编号"),
        "old_conflict_id": Column("old_conflict_id", "原冲突编号"),
        "severity": Column("severity", "严重程度"),
        "rule": Column("rule", "规则"),
        "place": Column("place", "位置"),
        "features": Column("features", "涉及要素"),
        "old_area_mu": Column("old_area_mu", "原面积（亩）", "area"),
        "new_area_mu": Column("new_area_mu", "现面积（亩）", "area"),
        "area_change_mu": Column("area_change_mu", "变化（亩）", "area"),
        "match": Column("match", "匹配方式"),
    }
    return Table(f"findings-{change}", title, tuple(columns[k] for k in keys), rows)


def rule_table(diff: Diff) -> Table:
    """Per rule and class of change: findings and land area."""
    rows = [
        {
            "rule": r["rule_title"],
            "severity": SEVERITY_TITLES.get(r["severity"], r["severity"]),
            "change": r["change_title"],
            "findings": r["findings"],
            "land_area_mu": r["land_area_mu"],
        }
        for r in diff["summary"]["by_rule"]
        if r["change"] != "unchanged"
    ]
    columns = (
        Column("rule", "规则"),
        Column("severity", "严重程度"),
        Column("change", "变化"),
        Column("findings", "冲突数", "int"),
        Column("land_area_mu", "涉及土地（亩）", "area"),
    )
    return Table("by-rule", "按规则", columns, rows)


def target_table(diff: Diff) -> Table:
    """The plan targets whose measured value moved."""
    rows = [
        {**t, "status": f"{t['old_status'] or '-'} → {t['new_status'] or '-'}"}
        for t in diff["targets"]
        if t["change"] not in (None, 0)
    ]
    columns = (
        Column("indicator", "指标"),
        Column("unit", "单位"),
        Column("old_measured", "原实测值", "number"),
        Column("new_measured", "现实测值", "number"),
        Column("change", "变化", "number"),
        Column("status", "结果"),
    )
    return Table("targets", "规划指标变化", columns, rows)


def layer_table(diff: Diff) -> Table:
    """Per layer: features added, removed, changed, and the area change."""
    rows = [
        {**layer, "title": kind_title(layer["layer"])}
        for layer in diff["layers"]
        if layer["added"] or layer["removed"] or layer["changed"]
    ]
    columns = (
        Column("title", "图层"),
        Column("added", "新增要素", "int"),
        Column("removed", "删除要素", "int"),
        Column("changed", "变化要素", "int"),
        Column("matched_by_geometry", "按几何匹配", "int"),
        Column("area_change_ha", "面积变化（公顷）", "number"),
    )
    return Table("layers", "图层变化", columns, rows)


def county_change_table(diff: Diff) -> Table:
    """Per layer and county: the area the changed features added or took away."""
    rows = [
        {"title": kind_title(layer["layer"]), **county}
        for layer in diff["layers"]
        for county in layer["by_county"]
        if abs(county["area_change_m2"]) > 0.005
    ]
    columns = (
        Column("title", "图层"),
        Column("county", "县（区）"),
        Column("area_change_ha", "面积变化（公顷）", "number"),
        Column("area_change_mu", "面积变化（亩）", "area"),
    )
    return Table("layer-counties", "图层面积变化（按县）", columns, rows)


def headline(diff: Diff) -> str:
    """One sentence: the gate, and how many findings are new, resolved and changed."""
    c = diff["counts"]
    gate = diff["gate"]
    return (
        f"门禁结果：{gate['title']}（{gate['reason']}）。"
        f"新增 {c['new']} 处，已解决 {c['resolved']} 处，变化 {c['changed']} 处，"
        f"未变 {c['unchanged']} 处。"
    )
