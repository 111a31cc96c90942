"""The tables every report shows, read from the report model (``report.json``).

Each rendering (Markdown, HTML, XLSX, DOCX) asks for the same
:class:`Table` objects, so the documents agree with each other and with
``report.json``: nothing is computed here but labels, the order of columns
and which rows a table holds. Columns and the values of a row are addressed
by key (``table.only("title", "area_mu")``), never by position, so a column
can be added without touching the renderings that leave it out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from geoplan.analysis.citations import shown_quote
from geoplan.analysis.reports.format import number
from geoplan.layers.vocabulary import SEVERITY_TITLES, UNIT_LABELS, kind_title

STATUS_NAMES = {"pass": "达标", "fail": "未达标", "missing": "缺少数据"}
OUTSIDE_TOWNSHIPS = "（乡镇范围外）"
#: How many of the largest conflicts the reports list.
TOP_CONFLICTS = 20

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One column: its key, heading (with its unit) and how values are written.

    Attributes
    ----------
    key : str
        The key of the column's value in each row.
    heading : str
    kind : {"text", "int", "area", "number", "pct"}
        See :mod:`analysis.reports.format`.
    """

    key: str
    heading: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """A titled table: columns, and rows of plain values (numbers stay numbers) by column key.

    Attributes
    ----------
    key : str
        Identifies the table (the HTML ``id``).
    title : str
    columns : tuple of Column
    rows : list of dict
        Column key → value; a row may hold keys no column shows.
    fail_key : str, optional
        Rows whose value under this key is 未达标 are marked where a
        rendering can (HTML, XLSX).
    """

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[Row]
    fail_key: str | None = None

    @property
    def headings(self) -> list[str]:
        """The column headings."""
        return [c.heading for c in self.columns]

    def failed(self, row: Row) -> bool:
        """Whether ``row`` is marked as failed (see ``fail_key``)."""
        return self.fail_key is not None and row[self.fail_key] == STATUS_NAMES["fail"]

    def only(self, *keys: str) -> Table:
        """The table with only the columns of ``keys``, in that order."""
        by_key = {c.key: c for c in self.columns}
        return replace(self, columns=tuple(by_key[k] for k in keys))

    def where(self, keep: Callable[[Row], Any]) -> Table:
        """The table with only the rows for which ``keep(row)`` is true."""
        return replace(self, rows=[row for row in self.rows if keep(row)])


def feature_label(kind: str | None, name: Any, ident: Any) -> str:
    """``"永久基本农田：名称（编号）"`` for one side of a conflict."""
    if not kind:
        return ""
    return f"{kind_title(kind)}：{name or '—'}（{ident}）"


def place(value: str | None) -> str:
    """A county or township name, or a note that the piece lies outside them."""
    return value if value else OUTSIDE_TOWNSHIPS


def _severity(value: str) -> str:
    return SEVERITY_TITLES.get(value, value)


_AREA_COLUMNS = (
    Column("conflicts", "冲突数", "int"),
    Column("area_mu", "面积（亩）", "area"),
    Column("area_ha", "面积（公顷）", "area"),
)


def _areas(row: Mapping[str, Any]) -> Row:
    return {"conflicts": row["conflicts"], "area_mu": row["area_mu"], "area_ha": row["area_ha"]}


def severity_table(report: Mapping[str, Any]) -> Table:
    """Conflicts and areas by severity, with the total."""
    summary = report["summary"]
    rows = [{"severity": s["title"], **_areas(s)} for s in summary["by_severity"]]
    rows.append({"severity": "合计", **_areas(summary)})
    return Table("severity", "按严重程度", (Column("severity", "严重程度"), *_AREA_COLUMNS), rows)


def rule_table(report: Mapping[str, Any]) -> Table:
    """Every rule: severity, conflicts, areas, slivers dropped, citation, quote, remedy, status.

    An unconfirmed quote is shown as 「原文待核」, never as wording.
    """
    rows = []
    for r in report["summary"]["by_rule"]:
        evaluated = r["status"] == "evaluated"
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
                "status": "已检查" if evaluated else f"未检查：{r['skipped_reason']}",
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
        Column("status", "状态"),
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
        "left": feature_label(c["left_kind"], c["left_name"], c["left_id"]),
        "right": feature_label(c["right_kind"], c["right_name"], c["right_id"]),
        "distance_m": c["distance_m"],
        "citation": c["citation"],
    }


def conflict_table(report: Mapping[str, Any]) -> Table:
    """Every conflict, in the order of ``report.json``."""
    rows = [_conflict_row(c) for c in report["conflicts"]]
    return Table("conflicts", "冲突明细", _CONFLICT_COLUMNS, rows)


def top_conflict_table(report: Mapping[str, Any], n: int = TOP_CONFLICTS) -> Table:
    """The ``n`` largest conflicts by area."""
    largest = sorted(report["conflicts"], key=lambda c: (-c["area_m2"], c["conflict_id"]))[:n]
    title = f"面积最大的 {len(largest)} 处冲突"
    return Table("top", title, _CONFLICT_COLUMNS, [_conflict_row(c) for c in largest])


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


def headline(report: Mapping[str, Any]) -> str:
    """One sentence: how many conflicts, how much area, how many prohibited."""
    s = report["summary"]
    by = {row["severity"]: row for row in s["by_severity"]}
    prohibited = by.get("prohibited", {"conflicts": 0, "area_mu": 0.0})
    return (
        f"共发现冲突 {s['conflicts']:,} 处，"
        f"面积 {number(s['area_mu'])} 亩（{number(s['area_ha'])} 公顷）；"
        f"其中禁止类 {prohibited['conflicts']:,} 处，{number(prohibited['area_mu'])} 亩。"
        f"检查规则 {s['rules_evaluated']} 条，跳过 {s['rules_skipped']} 条。"
    )
