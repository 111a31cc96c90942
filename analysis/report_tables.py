"""The tables every report shows, read from the one data model (``report.json``).

Each renderer (Markdown, HTML, XLSX, DOCX) asks for the same
:class:`Table` objects, so the documents agree with each other and with
``report.json``: nothing is computed here but labels, the order of columns
and which rows a table holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from geoplan.layers.vocabulary import SEVERITY_TITLES, UNIT_LABELS, kind_title

STATUS_NAMES = {"pass": "达标", "fail": "未达标", "missing": "缺少数据"}
OUTSIDE_TOWNSHIPS = "（乡镇范围外）"
#: How many of the largest conflicts the reports list.
TOP_CONFLICTS = 20


@dataclass(frozen=True)
class Column:
    """One column: heading (with its unit) and how values are written.

    Attributes
    ----------
    heading : str
    kind : {"text", "int", "area", "number", "pct"}
        ``area``: two decimals with separators; ``number``: up to four
        decimals; ``pct``: a signed percentage with two decimals.
    """

    heading: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """A titled table: columns and rows of plain values (numbers stay numbers)."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[list[Any]]

    @property
    def headings(self) -> list[str]:
        """The column headings."""
        return [c.heading for c in self.columns]


def fmt(value: Any, kind: str) -> str:
    """A value as text for documents: separators, two decimals, ``-`` when missing."""
    if value is None or value == "":
        return "-" if kind != "text" else ""
    if kind == "int":
        return f"{int(value):,}"
    if kind == "area":
        return f"{float(value):,.2f}"
    if kind == "pct":
        return f"{float(value):+.2f} %"
    if kind == "number":
        return f"{float(value):,.4f}".rstrip("0").rstrip(".")
    return str(value)


def feature_label(kind: str | None, name: Any, ident: Any) -> str:
    """``"永久基本农田：名称（编号）"`` for one side of a conflict."""
    if not kind:
        return ""
    return f"{kind_title(kind)}：{name or '—'}（{ident}）"


def place(value: str | None) -> str:
    """A county or township name, or a note that the piece lies outside them."""
    return value if value else OUTSIDE_TOWNSHIPS


_AREA_COLUMNS = (
    Column("冲突数", "int"),
    Column("面积（亩）", "area"),
    Column("面积（公顷）", "area"),
)


def _areas(row: Mapping[str, Any]) -> list[Any]:
    return [row["conflicts"], row["area_mu"], row["area_ha"]]


def severity_table(report: Mapping[str, Any]) -> Table:
    """Conflicts and areas by severity, with the total."""
    summary = report["summary"]
    rows = [[s["title"], *_areas(s)] for s in summary["by_severity"]]
    rows.append(["合计", summary["conflicts"], summary["area_mu"], summary["area_ha"]])
    return Table("severity", "按严重程度", (Column("严重程度"), *_AREA_COLUMNS), rows)


def rule_table(report: Mapping[str, Any]) -> Table:
    """Every rule: severity, conflicts, areas, slivers dropped, citation, status."""
    rows = []
    for r in report["summary"]["by_rule"]:
        evaluated = r["status"] == "evaluated"
        rows.append(
            [
                r["rule_id"],
                r["title"],
                SEVERITY_TITLES.get(r["severity"], r["severity"]),
                r["conflicts"] if evaluated else None,
                r["area_mu"] if evaluated else None,
                r["area_ha"] if evaluated else None,
                r["slivers"] if evaluated else None,
                r["citation"]["text"],
                "已检查" if evaluated else f"未检查：{r['skipped_reason']}",
            ]
        )
    columns = (
        Column("规则编号"),
        Column("规则"),
        Column("严重程度"),
        *_AREA_COLUMNS,
        Column("碎片数", "int"),
        Column("依据"),
        Column("状态"),
    )
    return Table("rules", "按规则", columns, rows)


def county_table(report: Mapping[str, Any]) -> Table:
    """Conflicts by county and severity."""
    rows = [
        [place(r["county"]), SEVERITY_TITLES.get(r["severity"], r["severity"]), *_areas(r)]
        for r in report["summary"]["by_county"]
    ]
    return Table("counties", "按县区", (Column("县区"), Column("严重程度"), *_AREA_COLUMNS), rows)


def township_table(report: Mapping[str, Any]) -> Table:
    """Conflicts by township (with its function type) and severity."""
    rows = [
        [
            place(r["county"]),
            place(r["township"]),
            r["function_type"],
            SEVERITY_TITLES.get(r["severity"], r["severity"]),
            *_areas(r),
        ]
        for r in report["summary"]["by_township"]
    ]
    columns = (Column("县区"), Column("乡镇"), Column("主体功能区"), Column("严重程度"))
    return Table("townships", "按乡镇", (*columns, *_AREA_COLUMNS), rows)


def target_table(report: Mapping[str, Any]) -> Table:
    """The plan targets: target, measured, difference, pass or fail."""
    rows = [
        [
            t["indicator"],
            kind_title(t["layer"]),
            UNIT_LABELS.get(t["unit"], t["unit"]),
            t["constraint"],
            t["target"],
            t["measured"],
            t["difference"],
            t["difference_pct"],
            STATUS_NAMES.get(t["status"], t["status"]),
            t.get("year") or "",
            t.get("source") or "",
        ]
        for t in report["summary"]["targets"]
    ]
    columns = (
        Column("指标"),
        Column("图层"),
        Column("单位"),
        Column("约束"),
        Column("目标值", "number"),
        Column("实测值", "number"),
        Column("差值", "number"),
        Column("差值（%）", "pct"),
        Column("结果"),
        Column("年份"),
        Column("来源"),
    )
    return Table("targets", "规划指标对照", columns, rows)


def terrain_table(report: Mapping[str, Any]) -> Table:
    """Elevation and slope per township (from the DEM); empty without one."""
    rows = [
        [
            r["county"],
            r["township"],
            r["function_type"],
            r["elevation_mean"],
            r["elevation_min"],
            r["elevation_max"],
            r["slope_mean"],
            r["slope_p50"],
            None if r["slope_share_above_25"] is None else 100 * r["slope_share_above_25"],
        ]
        for r in report["summary"].get("terrain_by_township", [])
    ]
    columns = (
        Column("县区"),
        Column("乡镇"),
        Column("主体功能区"),
        Column("平均高程（米）", "area"),
        Column("最低高程（米）", "area"),
        Column("最高高程（米）", "area"),
        Column("平均坡度（度）", "area"),
        Column("坡度中位数（度）", "area"),
        Column("坡度>25°占比（%）", "area"),
    )
    return Table("terrain", "乡镇地形（按覆盖比例加权）", columns, rows)


_CONFLICT_COLUMNS = (
    Column("冲突编号"),
    Column("规则"),
    Column("严重程度"),
    Column("县区"),
    Column("乡镇"),
    Column("主体功能区"),
    Column("要素一"),
    Column("要素二"),
    Column("面积（m²）", "area"),
    Column("面积（亩）", "area"),
    Column("面积（公顷）", "area"),
    Column("距离（米）", "area"),
    Column("依据"),
)


def _conflict_row(c: Mapping[str, Any]) -> list[Any]:
    return [
        c["conflict_id"],
        c["rule_title"],
        SEVERITY_TITLES.get(c["severity"], c["severity"]),
        place(c["county"]),
        place(c["township"]),
        c["function_type"] or "",
        feature_label(c["left_kind"], c["left_name"], c["left_id"]),
        feature_label(c["right_kind"], c["right_name"], c["right_id"]),
        c["area_m2"],
        c["area_mu"],
        c["area_ha"],
        c["distance_m"],
        c["citation"],
    ]


def conflict_table(report: Mapping[str, Any]) -> Table:
    """Every conflict, in the order of ``report.json``."""
    rows = [_conflict_row(c) for c in report["conflicts"]]
    return Table("conflicts", "冲突明细", _CONFLICT_COLUMNS, rows)


def top_conflict_table(report: Mapping[str, Any], n: int = TOP_CONFLICTS) -> Table:
    """The ``n`` largest conflicts by area."""
    largest = sorted(report["conflicts"], key=lambda c: (-c["area_m2"], c["conflict_id"]))[:n]
    title = f"面积最大的 {len(largest)} 处冲突"
    return Table("top", title, _CONFLICT_COLUMNS, [_conflict_row(c) for c in largest])


def headline(report: Mapping[str, Any]) -> str:
    """One sentence: how many conflicts, how much area, how many prohibited."""
    s = report["summary"]
    by = {row["severity"]: row for row in s["by_severity"]}
    prohibited = by.get("prohibited", {"conflicts": 0, "area_mu": 0.0})
    return (
        f"共发现冲突 {s['conflicts']:,} 处，"
        f"面积 {s['area_mu']:,.2f} 亩（{s['area_ha']:,.2f} 公顷）；"
        f"其中禁止类 {prohibited['conflicts']:,} 处，{prohibited['area_mu']:,.2f} 亩。"
        f"检查规则 {s['rules_evaluated']} 条，跳过 {s['rules_skipped']} 条。"
    )
