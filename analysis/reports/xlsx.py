"""``report.xlsx``: the report as a workbook (openpyxl).

Sheets 汇总 (the run and the totals by severity, rule and county), 冲突明细
(every conflict), 按乡镇 (by township), 指标对照 (plan targets), 乡镇地形
(elevation and slope per township, with a DEM) and 输入数据 (the layers
read). Every table has its header row frozen, an autofilter and set column
widths; areas are numbers with their unit in the
header, never text. Every text cell is written as a string cell: a name such
as ``=HYPERLINK(…)`` is shown as those characters, never evaluated.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geoplan.analysis.reports.format import EXCEL_FORMATS, display_width
from geoplan.analysis.reports.tables import (
    Column,
    Table,
    conflict_table,
    county_table,
    headline,
    layer_table,
    rule_table,
    severity_table,
    target_table,
    terrain_table,
    township_table,
)
from geoplan.geo.text import xml_text

_HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
_FAIL_FILL = PatternFill("solid", fgColor="FDE0DC")
_FONT = "宋体"


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write ``value`` into a cell: text as a string cell (never a formula), numbers as numbers."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        # openpyxl would type "=…" as a formula and "#N/A" as an error value.
        cell.value = xml_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def _write_table(sheet: Worksheet, table: Table, top: int) -> int:
    """Write ``table`` with its header at row ``top``, failed rows filled; return the next row."""
    for j, column in enumerate(table.columns, start=1):
        cell = _put(sheet, top, j, column.heading)
        cell.font = Font(name=_FONT, bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(table.rows, start=top + 1):
        failed = table.failed(row)
        for j, column in enumerate(table.columns, start=1):
            cell = _put(sheet, i, j, _value(row[column.key], column))
            cell.font = Font(name=_FONT)
            if column.kind in EXCEL_FORMATS:
                cell.number_format = EXCEL_FORMATS[column.kind]
            if failed:
                cell.fill = _FAIL_FILL
    for j, column in enumerate(table.columns, start=1):
        letter = get_column_letter(j)
        widths = [display_width(r[column.key]) for r in table.rows[:500]]
        longest = max([display_width(column.heading), *widths])
        current = sheet.column_dimensions[letter].width or 0
        sheet.column_dimensions[letter].width = max(current, min(60, longest + 2))
    return top + len(table.rows) + 1


def _value(value: Any, column: Column) -> Any:
    if value is None:
        return None
    if column.kind == "pct":
        return float(value)
    return value


def _table_sheet(book: Workbook, title: str, table: Table) -> Worksheet:
    sheet = book.create_sheet(title)
    end = _write_table(sheet, table, 1)
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(table.columns))
    sheet.auto_filter.ref = f"A1:{last}{max(end - 1, 1)}"
    return sheet


def render_xlsx(report: Mapping[str, Any]) -> bytes:
    """The workbook of a report (the ``report.json`` data model), as bytes."""
    book = Workbook()
    summary = book.active
    summary.title = "汇总"
    facts = [
        ("项目", report["project"]["name"]),
        ("运行时间", report["run"]["started"]),
        ("工具", f"geoplan {report['tool']['version']}"),
        ("规则包", "、".join(report["rule_packs"])),
        ("结论", headline(report)),
    ]
    for i, (key, value) in enumerate(facts, start=1):
        _put(summary, i, 1, key).font = Font(name=_FONT, bold=True)
        _put(summary, i, 2, value).font = Font(name=_FONT)
    # The rule table is the sheet's main table: its header is frozen and filtered.
    top = len(facts) + 2
    rules = rule_table(report)
    end = _write_table(summary, rules, top)
    summary.freeze_panes = f"A{top + 1}"
    summary.auto_filter.ref = f"A{top}:{get_column_letter(len(rules.columns))}{end - 1}"
    end = _write_table(summary, severity_table(report), end + 1)
    _write_table(summary, county_table(report), end + 1)
    summary.column_dimensions["B"].width = max(summary.column_dimensions["B"].width or 0, 40)

    _table_sheet(book, "冲突明细", conflict_table(report))
    _table_sheet(book, "按乡镇", township_table(report))
    _table_sheet(book, "指标对照", target_table(report))
    terrain = terrain_table(report)
    if terrain.rows:
        _table_sheet(book, "乡镇地形", terrain)
    _table_sheet(book, "输入数据", layer_table(report))
    for sheet in book.worksheets:
        # Printed: landscape, every column on the page width.
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.print_title_rows = "1:1" if sheet.freeze_panes == "A2" else None
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
