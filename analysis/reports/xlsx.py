"""``report.xlsx``: the report as a workbook (openpyxl).

Sheets 汇总 (the run, the verdict and the totals by severity, rule and
county), 冲突明细 (every conflict), 按乡镇 (one row per township, a count
and a land area per severity), 问题清单 (the finding groups with their
location, centre and remedy), 规则 (each rule's status 符合/不符合/未检查),
指标对照 (plan targets), 乡镇地形 (elevation and slope per township, with a
DEM) and 输入数据 (the layers read). Every table has its header row frozen
and repeated on printed pages, an autofilter and column widths from its
content; a table longer than a sheet holds (Excel opens 1,048,576 rows)
continues on 冲突明细（续 2）…, the header on each. Areas are numbers with
their unit in the header, never text, formatted ``#,##0.00``, counts
``#,##0``. Printed, a sheet is fitted to the page width, in landscape when
its columns are wide. Every text cell is
written as a string cell: a name such as ``=HYPERLINK(…)`` is shown as those
characters, never evaluated.

openpyxl writes the workbook in write-only mode (styles, views, widths,
filters, print settings); the cells are written by
:mod:`analysis.reports.xlsx_rows`, fast enough for a city's 1.5 million.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from geoplan.analysis.reports.conflict_records import CHUNK
from geoplan.analysis.reports.format import EXCEL_FORMATS, display_width
from geoplan.analysis.reports.tables import (
    Column,
    Table,
    conflict_table,
    county_table,
    feature_label,
    headline,
    layer_table,
    place,
    rule_status_table,
    rule_table,
    severity_table,
    target_table,
    terrain_table,
    township_table,
)
from geoplan.analysis.reports.xlsx_rows import SheetRows, fill_sheets
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES

_HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
_FAIL_FILL = PatternFill("solid", fgColor="FDE0DC")
_FONT = "宋体"
#: Columns whose numbers need more decimals than their kind's format shows.
_COLUMN_FORMATS = {"centre_lon": "0.000000", "centre_lat": "0.000000"}
#: Rows of a table a sheet holds below its header: Excel opens at most 1,048,576 rows.
SHEET_ROWS = 1_048_575
#: Sheets whose column widths add up to more than this (characters) print in landscape.
_PORTRAIT_WIDTH = 95
#: Named styles of the cells that are not body cells of a table.
_HEADER = "geoplan 表头"
_KEY = "geoplan 项目"
_VALUE = "geoplan 内容"


class _Styles:
    """The workbook's named styles, each registered once, by the index cells refer to.

    A named style per format is one lookup per table column; a Font, fill
    and format set on each cell would cost a style object each.
    """

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self._sheet = sheet
        self._ids: dict[str, int] = {}
        book = sheet.parent
        bold = Font(name=_FONT, bold=True)
        wrap = Alignment(wrap_text=True, vertical="top")
        book.add_named_style(NamedStyle(name=_HEADER, font=bold, fill=_HEADER_FILL, alignment=wrap))
        book.add_named_style(NamedStyle(name=_KEY, font=bold))
        book.add_named_style(NamedStyle(name=_VALUE, font=Font(name=_FONT)))

    def id(self, name: str) -> int:
        """The cell format index (in ``styles.xml``) of the named style ``name``."""
        if name not in self._ids:
            cell = WriteOnlyCell(self._sheet)
            cell.style = name
            self._ids[name] = cell.style_id
        return self._ids[name]

    def body(self, number_format: str, failed: bool) -> int:
        """The index of body cells with ``number_format``, filled when ``failed``."""
        name = f"geoplan {number_format}{' failed' if failed else ''}"
        if name not in self._sheet.parent.named_styles:
            style = NamedStyle(name=name, font=Font(name=_FONT), number_format=number_format)
            if failed:
                style.fill = _FAIL_FILL
            self._sheet.parent.add_named_style(style)
        return self.id(name)


def _write_table(
    sheet: WriteOnlyWorksheet,
    rows: SheetRows,
    styles: _Styles,
    table: Table,
    span: range | None = None,
) -> None:
    """Append ``table`` to ``rows`` (its header, then its rows a chunk at a time, failed filled).

    ``span``: the table's rows written (all by default). Widens the sheet's
    columns to the content of the first 500 of them.
    """
    span = range(len(table.rows)) if span is None else span
    columns = table.columns
    rows.append([c.heading for c in columns], [styles.id(_HEADER)] * len(columns))
    formats = [_COLUMN_FORMATS.get(c.key, EXCEL_FORMATS.get(c.kind, "General")) for c in columns]
    normal = [styles.body(f, False) for f in formats]
    failed = [styles.body(f, True) for f in formats]
    for start in range(span.start, span.stop, CHUNK):
        chunk = table.rows[start : min(start + CHUNK, span.stop)]
        values = [list(map(itemgetter(c.key), chunk)) for c in columns]
        for j, column in enumerate(columns):
            if column.kind == "pct":
                values[j] = [None if v is None else float(v) for v in values[j]]
        marked = [table.failed(row) for row in chunk]
        styled = [[f if bad else n for bad in marked] for n, f in zip(normal, failed, strict=True)]
        rows.extend(values, styled)
    first = table.rows[span.start : min(span.start + 500, span.stop)]
    for j, column in enumerate(columns, start=1):
        letter = get_column_letter(j)
        widths = [display_width(r[column.key]) for r in first]
        longest = max([display_width(column.heading), *widths])
        current = sheet.column_dimensions[letter].width or 0
        sheet.column_dimensions[letter].width = max(current, min(60, longest + 2))


def _table_sheet(
    book: Workbook,
    styles: _Styles,
    sheets: dict[WriteOnlyWorksheet, SheetRows],
    title: str,
    table: Table,
    per_sheet: int,
) -> None:
    """``table`` on a sheet of its own, header frozen and filtered; on more where it is long.

    A sheet holds at most ``per_sheet`` rows below its header; the rest go
    on 冲突明细（续 2）, 冲突明细（续 3）…, each with the header again.
    """
    for n, start in enumerate(range(0, max(len(table.rows), 1), per_sheet), start=1):
        sheet = book.create_sheet(title if n == 1 else f"{title}（续 {n}）")
        rows = sheets[sheet] = SheetRows()
        span = range(start, min(start + per_sheet, len(table.rows)))
        _write_table(sheet, rows, styles, table, span)
        sheet.freeze_panes = "A2"
        last = get_column_letter(len(table.columns))
        sheet.auto_filter.ref = f"A1:{last}{rows.count}"


def township_wide_table(report: Mapping[str, Any]) -> Table:
    """One row per township: conflicts and land area (亩) per severity, and the totals.

    The townships are those of ``summary.by_township`` and, with a DEM, of
    ``summary.terrain_by_township`` (every township of the layer), the pieces
    outside every township last.
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def row(county: str | None, township: str | None, function_type: str | None) -> dict:
        key = (county or "", township or "")
        if key not in rows:
            rows[key] = {
                "county": place(county),
                "township": place(township),
                "function_type": function_type or "",
                "conflicts": 0,
                **{f"{s}_conflicts": 0 for s in SEVERITIES},
                **{f"{s}_land_area_mu": 0.0 for s in SEVERITIES},
            }
        return rows[key]

    summary = report["summary"]
    for t in summary.get("terrain_by_township", []):
        row(t["county"], t["township"], t["function_type"])
    for r in summary["by_township"]:
        target = row(r["county"], r["township"], r["function_type"])
        target[f"{r['severity']}_conflicts"] += r["conflicts"]
        target[f"{r['severity']}_land_area_mu"] += r["land_area_mu"]
        target["conflicts"] += r["conflicts"]
    ordered = sorted(rows.items(), key=lambda item: (not item[0][1], item[0]))
    columns = [
        Column("county", "县区"),
        Column("township", "乡镇"),
        Column("function_type", "主体功能区"),
    ]
    for s in SEVERITIES:
        title = SEVERITY_TITLES[s]
        columns += [
            Column(f"{s}_conflicts", f"{title}冲突数", "int"),
            Column(f"{s}_land_area_mu", f"{title}涉及土地（亩）", "area"),
        ]
    columns.append(Column("conflicts", "冲突数合计", "int"))
    return Table("townships_wide", "按乡镇", tuple(columns), [r for _, r in ordered])


def _side(issue: Mapping[str, Any], side: str) -> str:
    return feature_label(issue[f"{side}_kind"], issue[f"{side}_id"], issue[f"{side}_name"])


def issue_table(report: Mapping[str, Any]) -> Table:
    """问题清单: one row per finding group, in the model's order (severity, land area).

    Citation and remedy are the rule's (``summary.by_rule``, by rule id).
    """
    rules = report["summary"]["by_rule"]
    citation = {r["rule_id"]: r["citation"]["text"] for r in rules}
    remedy = {r["rule_id"]: (r["remedy"] or {}).get("text", "") for r in rules}
    copied = ("number", "issue_id", "severity_title", "rule_title", "centre_lon", "centre_lat")
    copied += ("centre_x", "centre_y", "conflicts", "land_area_mu", "land_area_ha")
    pick = itemgetter(*copied)
    rows = [
        {
            **dict(zip(copied, pick(i), strict=True)),
            "citation": citation[i["rule_id"]],
            "counties": "、".join(i["counties"]),
            "townships": "、".join(i["townships"]),
            "left": _side(i, "left"),
            "right": _side(i, "right"),
            "remedy": remedy[i["rule_id"]],
        }
        for i in report.get("issues", [])
    ]
    columns = (
        Column("number", "序号", "int"),
        Column("issue_id", "问题编号"),
        Column("severity_title", "严重程度"),
        Column("rule_title", "规则"),
        Column("counties", "县区"),
        Column("townships", "乡镇"),
        Column("left", "要素一"),
        Column("right", "要素二"),
        Column("centre_lon", "中心点经度（°，CGCS2000）", "number"),
        Column("centre_lat", "中心点纬度（°，CGCS2000）", "number"),
        Column("centre_x", "中心点 X（米）", "area"),
        Column("centre_y", "中心点 Y（米）", "area"),
        Column("conflicts", "冲突数", "int"),
        Column("land_area_mu", "涉及土地（亩）", "area"),
        Column("land_area_ha", "涉及土地（公顷）", "area"),
        Column("citation", "依据"),
        Column("remedy", "处置建议"),
    )
    return Table("issues", "问题清单", columns, rows)


def render_xlsx(report: Mapping[str, Any], *, sheet_rows: int = SHEET_ROWS) -> bytes:
    """The workbook of a report (the ``report.json`` data model), as bytes.

    ``sheet_rows``: rows a table's sheet holds below its header, at most; a
    longer table continues on further sheets (default: as many as Excel opens).
    """
    book = Workbook(write_only=True)
    summary = book.create_sheet("汇总")
    styles = _Styles(summary)
    sheets = {summary: SheetRows()}
    facts = [
        ("项目", report["project"]["name"]),
        ("运行时间", report["run"]["started"]),
        ("工具", f"geoplan {report['tool']['version']}"),
        ("规则包", "、".join(report["rule_packs"])),
        ("结论", headline(report)),
    ]
    rows = sheets[summary]
    for fact in facts:
        rows.append(fact, [styles.id(_KEY), styles.id(_VALUE)])
    rows.skip()
    # The rule table is the sheet's main table: its header is frozen and filtered.
    top = rows.count + 1
    rules = rule_table(report)
    _write_table(summary, rows, styles, rules)
    summary.freeze_panes = f"A{top + 1}"
    summary.auto_filter.ref = f"A{top}:{get_column_letter(len(rules.columns))}{rows.count}"
    for table in (severity_table(report), county_table(report)):
        rows.skip()
        _write_table(summary, rows, styles, table)
    summary.column_dimensions["B"].width = max(summary.column_dimensions["B"].width or 0, 40)

    _table_sheet(book, styles, sheets, "冲突明细", conflict_table(report), sheet_rows)
    _table_sheet(book, styles, sheets, "按乡镇", township_wide_table(report), sheet_rows)
    _table_sheet(book, styles, sheets, "指标对照", target_table(report), sheet_rows)
    _table_sheet(book, styles, sheets, "问题清单", issue_table(report), sheet_rows)
    _table_sheet(book, styles, sheets, "规则", rule_status_table(report), sheet_rows)
    _table_sheet(book, styles, sheets, "按乡镇和严重程度", township_table(report), sheet_rows)
    terrain = terrain_table(report)
    if terrain.rows:
        _table_sheet(book, styles, sheets, "乡镇地形", terrain, sheet_rows)
    _table_sheet(book, styles, sheets, "输入数据", layer_table(report), sheet_rows)
    for sheet in book.worksheets:
        # Printed: every column on the page width, landscape when that is wide.
        width = sum(d.width or 8 for d in sheet.column_dimensions.values())
        sheet.page_setup.orientation = "landscape" if width > _PORTRAIT_WIDTH else "portrait"
        sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.print_title_rows = "1:1" if sheet.freeze_panes == "A2" else None
    buffer = io.BytesIO()
    book.save(buffer)
    # Sheets are saved in order as sheet1.xml, sheet2.xml, …
    parts = {f"xl/worksheets/sheet{i}.xml": sheets[s] for i, s in enumerate(book.worksheets, 1)}
    return fill_sheets(buffer.getvalue(), parts)
