"""The tables every report shows, read from the report model (``report.json``).

Each rendering (Markdown, HTML, XLSX, DOCX) asks for the same
:class:`Table` objects, so the documents agree with each other and with
``report.json``: nothing is computed here but labels, the order of columns
and which rows a table holds. Columns and the values of a row are addressed
by key (``table.only("title", "area_mu")``), never by position, so a column
can be added without touching the renderings that leave it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoplan.analysis.citations import shown_quote
from geoplan.analysis.reports.conflict_records import MappedRows, records_of
from geoplan.analysis.reports.format import number
from geoplan.analysis.reports.review_tables import (
    control_line_table,
    issue_citation,
    issue_remedy,
    issue_table,
    issue_tally,
    rule_status_table,
    rules_by_id,
    serious_table,
    verdict_lines,
)
from geoplan.analysis.reports.table_types import (
    OUTSIDE_TOWNSHIPS,
    STATUS_NAMES,
    UNNAMED,
    Column,
    Row,
    Table,
    feature_label,
    place,
)
from geoplan.analysis.reports.table_types import severity_title as _severity
from geoplan.layers.vocabulary import UNIT_LABELS, kind_title

__all__ = [
    "OUTSIDE_TOWNSHIPS",
    "STATUS_NAMES",
    "UNNAMED",
    "Column",
    "Row",
    "Table",
    "control_line_table",
    "feature_label",
    "issue_citation",
    "issue_remedy",
    "issue_table",
    "issue_tally",
    "place",
    "rule_status_table",
    "rules_by_id",
    "serious_table",
    "verdict_lines",
]


#: Land areas (the union of a group's conflicts, ground counted once) lead;
#: the sums of the rows follow, labelled as sums.
_AREA_COLUMNS = (
    Column("conflicts", "冲突数", "int"),
    Column("land_area_mu", "涉及土地（亩）", "area"),
    Column("land_area_ha", "涉及土地（公顷）", "area"),
    Column("area_mu", "面积合计（亩）", "area"),
    Column("area_ha", "面积合计（公顷）", "area"),
)
_AREA_KEYS = tuple(c.key for c in _AREA_COLUMNS)


def _areas(row: Mapping[str, Any]) -> Row:
    return {k: row[k] for k in _AREA_KEYS}


def severity_table(report: Mapping[str, Any]) -> Table:
    """Conflicts and areas by severity, with the total."""
    summary = report["summary"]
    rows = [{"severity": s["title"], **_areas(s)} for s in summary["by_severity"]]
    rows.append({"severity": "合计", **_areas(summary)})
    return Table("severity", "按严重程度", (Column("severity", "严重程度"), *_AREA_COLUMNS), rows)


def rule_table(report: Mapping[str, Any]) -> Table:
    """Every rule: severity, conclusion, conflicts, areas, slivers, citation, quote, remedy.

    In severity order, then land area. An unconfirmed quote is shown as
    「原文待核」, never as wording; a skipped rule's numbers are missing, its
    status 未检查 with the reason.
    """
    rows = []
    for r in report["summary"]["by_rule"]:
        evaluated = r["status"] != "skipped"
        counted = {**_areas(r), "slivers": r["slivers"]}
        rows.append(
            {
                "rule_id": r["rule_id"],
                "title": r["title"],
                "severity": _severity(r["severity"]),
                **{k: v if evaluated else None for k, v in counted.items()},
                "citation": r["citation"]["text"],
                "quote": shown_quote(r["citation"]["quote"], r["citation"]["quote_confirmed"]),
                "remedy": r["remedy"]["text"] if r["remedy"] else "",
                "status": r["status_title"] if evaluated else r["skipped_reason"],
            }
        )
    columns = (
        Column("rule_id", "规则编号"),
        Column("title", "规则"),
        Column("severity", "严重程度"),
        *_AREA_COLUMNS,
        Column("slivers", "碎片数", "int"),
        Column("citation", "依据"),
        Column("quote", "原文"),
        Column("remedy", "处置建议"),
        Column("status", "结论"),
    )
    return Table("rules", "按规则", columns, rows)


def county_table(report: Mapping[str, Any]) -> Table:
    """Conflicts by county and severity."""
    rows = [
        {"county": place(r["county"]), "severity": _severity(r["severity"]), **_areas(r)}
        for r in report["summary"]["by_county"]
    ]
    columns = (Column("county", "县区"), Column("severity", "严重程度"), *_AREA_COLUMNS)
    return Table("counties", "按县区", columns, rows)


def township_table(report: Mapping[str, Any]) -> Table:
    """Conflicts by township (with its function type) and severity."""
    rows = [
        {
            "county": place(r["county"]),
            "township": place(r["township"]),
            "function_type": r["function_type"],
            "severity": _severity(r["severity"]),
            **_areas(r),
        }
        for r in report["summary"]["by_township"]
    ]
    columns = (
        Column("county", "县区"),
        Column("township", "乡镇"),
        Column("function_type", "主体功能区"),
        Column("severity", "严重程度"),
        *_AREA_COLUMNS,
    )
    return Table("townships", "按乡镇", columns, rows)


def target_table(report: Mapping[str, Any]) -> Table:
    """The plan targets: target, measured, difference, pass or fail (failures marked)."""
    rows = [
        {
            "indicator": t["indicator"],
            "layer": kind_title(t["layer"]),
            "unit": UNIT_LABELS.get(t["unit"], t["unit"]),
            "constraint": t["constraint"],
            "target": t["target"],
            "measured": t["measured"],
            "difference": t["difference"],
            "difference_pct": t["difference_pct"],
            "status": STATUS_NAMES.get(t["status"], t["status"]),
            "year": t.get("year") or "",
            "source": t.get("source") or "",
        }
        for t in report["summary"]["targets"]
    ]
    columns = (
        Column("indicator", "指标"),
        Column("layer", "图层"),
        Column("unit", "单位"),
        Column("constraint", "约束"),
        Column("target", "目标值", "number"),
        Column("measured", "实测值", "number"),
        Column("difference", "差值", "number"),
        Column("difference_pct", "差值（%）", "pct"),
        Column("status", "结果"),
        Column("year", "年份"),
        Column("source", "来源"),
    )
    return Table("targets", "规划指标对照", columns, rows, fail_key="status")


def terrain_table(report: Mapping[str, Any]) -> Table:
    """Elevation and slope per township (from the DEM); empty without one."""
    rows = [
        {
            **r,
            "slope_share_above_25": None
            if r["slope_share_above_25"] is None
            else 100 * r["slope_share_above_25"],
        }
        for r in report["summary"].get("terrain_by_township", [])
    ]
    columns = (
        Column("county", "县区"),
        Column("township", "乡镇"),
        Column("function_type", "主体功能区"),
        Column("elevation_mean", "平均高程（米）", "area"),
        Column("elevation_min", "最低高程（米）", "area"),
        Column("elevation_max", "最高高程（米）", "area"),
        Column("slope_mean", "平均坡度（度）", "area"),
        Column("slope_p50", "坡度中位数（度）", "area"),
        Column("slope_share_above_25", "坡度>25°占比（%）", "area"),
    )
    return Table("terrain", "乡镇地形（按覆盖比例加权）", columns, rows)


_CONFLICT_COLUMNS = (
    Column("conflict_id", "冲突编号"),
    Column("rule_title", "规则"),
    Column("severity", "严重程度"),
    Column("county", "县区"),
    Column("township", "乡镇"),
    Column("function_type", "主体功能区"),
    Column("left", "要素一"),
    Column("right", "要素二"),
    Column("area_m2", "面积（m²）", "area"),
    Column("area_mu", "面积（亩）", "area"),
    Column("area_ha", "面积（公顷）", "area"),
    Column("distance_m", "距离（米）", "area"),
    Column("citation", "依据"),
)


def _conflict_row(c: Mapping[str, Any]) -> Row:
    return {
        **{k: c[k] for k in ("conflict_id", "rule_title", "area_m2", "area_mu", "area_ha")},
        "severity": _severity(c["severity"]),
        "county": place(c["county"]),
        "township": place(c["township"]),
        "function_type": c["function_type"] or "",
        "left": feature_label(c["left_kind"], c["left_id"], c["left_name"]),
        "right": feature_label(c["right_kind"], c["right_id"], c["right_name"]),
        "distance_m": c["distance_m"],
        "citation": c["citation"],
    }


def conflict_table(report: Mapping[str, Any], limit: int | None = None) -> Table:
    """Every conflict (the first ``limit``), most severe first, then by area (largest first)."""
    ordered = records_of(report["conflicts"]).in_severity_order()
    rows = MappedRows(ordered, _conflict_row)
    shown = rows if limit is None else rows[:limit]
    return Table("conflicts", "冲突明细", _CONFLICT_COLUMNS, shown)


def layer_table(report: Mapping[str, Any]) -> Table:
    """The layers the run read: source, CRS, features kept, repaired and dropped, area."""
    keys = ("title", "source", "source_crs", "features", "repaired", "dropped", "area_km2")
    rows = [{k: layer[k] for k in keys} for layer in report["inputs"]["layers"]]
    columns = (
        Column("title", "图层"),
        Column("source", "来源"),
        Column("source_crs", "原坐标系"),
        Column("features", "要素数", "int"),
        Column("repaired", "修复数", "int"),
        Column("dropped", "删除数", "int"),
        Column("area_km2", "面积（km²）", "area"),
    )
    return Table("layers", "输入数据", columns, rows)


def document_title(report: Mapping[str, Any]) -> str:
    """The title every document of the report carries: 〈项目〉国土空间规划合规性审查报告."""
    return f"{report['project']['name']}国土空间规划合规性审查报告"


def headline(report: Mapping[str, Any]) -> str:
    """One sentence: the land the conflicts take, by severity (most severe first), the rules."""
    s = report["summary"]
    found = [
        f"{row['title']}类 {row['conflicts']:,} 处 {number(row['land_area_mu'])} 亩"
        for row in s["by_severity"]
        if row["conflicts"]
    ]
    counted = f"，其中{'、'.join(found)}" if found else ""
    return (
        f"涉及土地 {number(s['land_area_mu'])} 亩（{number(s['land_area_ha'])} 公顷，"
        f"同一地块只计一次），共发现冲突 {s['conflicts']:,} 处{counted}。"
        f"检查规则 {s['rules_evaluated']} 条，未检查 {s['rules_skipped']} 条。"
    )


#: How the net area of a land-class row was found (``net_method``).
NET_METHOD_NAMES = {
    "coefficient": "按扣除系数",
    "pro_rata": "按图斑地类面积比例",
    "gross": "未扣除（无扣除数据）",
    "mixed": "混合",
}


def land_class_table(report: Mapping[str, Any]) -> Table:
    """压占地类: occupation conflicts by rule, township and 地类, gross and net of 田坎.

    Empty when the project has no land-survey layer (``summary.land_class_source``).
    """
    summary = report["summary"]
    titles = {r["rule_id"]: r["title"] for r in summary["by_rule"]}
    rows = [
        {
            **r,
            "rule": titles.get(r["rule_id"], r["rule_id"]),
            "severity": _severity(r["severity"]),
            "county": place(r["county"]),
            "township": place(r["township"]),
            "net_method": NET_METHOD_NAMES.get(r["net_method"], r["net_method"]),
        }
        for r in summary.get("by_land_class", [])
    ]
    columns = (
        Column("rule", "规则"),
        Column("severity", "严重程度"),
        Column("county", "县区"),
        Column("township", "乡镇"),
        Column("land_class", "地类编码"),
        Column("land_class_name", "地类名称"),
        Column("gross_area_mu", "压占面积（亩）", "area"),
        Column("net_area_mu", "扣除田坎后（亩）", "area"),
        Column("gross_area_ha", "压占面积（公顷）", "area"),
        Column("net_area_ha", "扣除田坎后（公顷）", "area"),
        Column("net_method", "扣除方法"),
    )
    return Table("land_classes", "压占地类（按规则、乡镇、地类）", columns, rows)
