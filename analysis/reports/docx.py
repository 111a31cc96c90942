"""``report.docx``: the document a bureau sends (python-docx).

Title and date, data sources, method (the rule packs with each rule's
citation), the results (summary, the static overview figure, the tables by
rule, county and township), the plan targets, and an appendix of conflicts.
Fonts are set for both scripts — 宋体/黑体 for Chinese (``w:eastAsia``),
Times New Roman/Arial for Latin — so the document looks the same in Word
and WPS. Data values are only ever the text of runs (python-docx escapes
them; no field, hyperlink or markup is built from data), and the characters
XML cannot hold are removed from the report before anything is written.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from geoplan.analysis.citations import shown_quote
from geoplan.analysis.reports.format import display_width, fmt
from geoplan.analysis.reports.tables import (
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
from geoplan.geo.text import xml_safe
from geoplan.layers.vocabulary import SEVERITY_TITLES

#: Conflicts listed in the appendix at most; the rest are in report.xlsx.
APPENDIX_ROWS = 1000
#: The columns each table of the document shows (by key; the tables have more).
_LAYER_COLUMNS = ("title", "source", "features", "area_km2")
_RULE_COLUMNS = ("title", "severity", "conflicts", "area_mu", "area_ha", "slivers", "citation")
_TARGET_COLUMNS = (
    "indicator",
    "unit",
    "constraint",
    "target",
    "measured",
    "difference",
    "difference_pct",
    "status",
)
_APPENDIX_COLUMNS = (
    "conflict_id",
    "rule_title",
    "severity",
    "county",
    "township",
    "left",
    "right",
    "area_mu",
    "area_ha",
)
_BODY = ("Times New Roman", "宋体")
_HEADING = ("Arial", "黑体")


def _fonts(style, latin: str, chinese: str, size: float | None = None) -> None:
    style.font.name = latin
    if size:
        style.font.size = Pt(size)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), chinese)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)


def _setup(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    _fonts(document.styles["Normal"], *_BODY, 10.5)
    for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 12.5)):
        style = document.styles[name]
        _fonts(style, *_HEADING, size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.bold = True


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


_CHAR_CM = 0.21  # width of a Latin character at 8.5 pt; a Chinese one counts two


def _column_widths(table, columns: list[list[str]], numeric: list[bool], total_cm: float) -> None:
    """Numbers get the width they need; text columns share the rest by their length."""
    need = [max(display_width(t) for t in texts[:300]) + 1 for texts in columns]
    fixed = sum(n * _CHAR_CM for n, is_number in zip(need, numeric, strict=True) if is_number)
    text_need = sum(min(n, 40) for n, is_number in zip(need, numeric, strict=True) if not is_number)
    share = max(total_cm - fixed, 2.0) / max(text_need, 1)
    table.autofit = False
    for column, n, is_number in zip(table.columns, need, numeric, strict=True):
        width = Cm(n * _CHAR_CM if is_number else max(1.2, min(n, 40) * share))
        column.width = width  # the grid LibreOffice and WPS read
        for cell in column.cells:
            cell.width = width  # the cell widths Word reads


def _table(document, table: Table, limit: int | None = None, total_cm: float = 17.0):
    """Add ``table`` (its first ``limit`` rows), ``total_cm`` wide, with a repeated header row."""
    rows = table.rows if limit is None else table.rows[:limit]
    width = len(table.columns)
    out = document.add_table(rows=1 + len(rows), cols=width)
    out.style = "Table Grid"
    cells = out._cells  # one list, row by row: much faster than out.cell(i, j)
    for j, column in enumerate(table.columns):
        cells[j].text = column.heading
    for i, row in enumerate(rows, start=1):
        for j, column in enumerate(table.columns):
            cell = cells[i * width + j]
            cell.text = fmt(row[column.key], column.kind)
            if column.kind != "text":
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    texts = [[cells[i * width + j].text for i in range(len(rows) + 1)] for j in range(width)]
    numeric = [column.kind != "text" for column in table.columns]
    _column_widths(out, texts, numeric, total_cm)
    _repeat_header(out.rows[0])
    for cell in cells[:width]:
        for run in cell.paragraphs[0].runs:
            run.font.bold = True
    for cell in cells:
        for run in cell.paragraphs[0].runs:
            run.font.size = Pt(8.5)
    return out


def render_docx(report: Mapping[str, Any], *, overview_png: bytes | None) -> bytes:
    """The Word document of a report (the ``report.json`` data model), as bytes."""
    report = xml_safe(report)
    document = Document()
    _setup(document)
    project = report["project"]["name"]
    document.add_heading(f"{project}国土空间规划冲突检查报告", level=0)
    document.add_paragraph(
        f"运行时间：{report['run']['started']}　　工具：geoplan {report['tool']['version']}"
    )

    document.add_heading("一、数据来源", level=1)
    inputs = report["inputs"]
    document.add_paragraph(
        f"项目文件 {inputs['project_file']}，工作坐标系 {inputs['working_crs']}；"
        "面积均按 CGCS2000 椭球面计算。各图层如下（文件的 SHA-256 校验值见 report.json）。"
    )
    _table(document, layer_table(report).only(*_LAYER_COLUMNS))

    document.add_heading("二、检查方法", level=1)
    document.add_paragraph(
        f"按规则包 {'、'.join(report['rule_packs'])} 逐条检查图层间的空间关系；"
        "每处冲突按乡镇边界切分，记录所在县区、乡镇及其乡镇级主体功能区。"
        "小于规则容差的碎片不计为冲突，但计数列于规则表。各规则及其依据："
    )
    for rule in report["summary"]["by_rule"]:
        citation = rule["citation"]
        text = (
            f"{rule['title']}（{SEVERITY_TITLES.get(rule['severity'], rule['severity'])}）："
            f"{citation['text']}"
        )
        quote = shown_quote(citation["quote"], citation["quote_confirmed"])
        text += f"——“{quote}”" if citation["quote_confirmed"] else f"——{quote}"
        if rule["remedy"]:
            text += f"；处置建议：{rule['remedy']['text']}"
        if rule["status"] != "evaluated":
            text += f"（未检查：{rule['skipped_reason']}）"
        document.add_paragraph(text, style="List Bullet")

    document.add_heading("三、检查结果", level=1)
    document.add_paragraph(headline(report))
    _table(document, severity_table(report))
    if overview_png is not None:
        document.add_paragraph()
        document.add_picture(io.BytesIO(overview_png), width=Cm(15.5))
        caption = document.add_paragraph("图 1　冲突分布概览图（红：禁止；橙：限制；蓝：提示）")
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_heading("（一）按规则", level=2)
    _table(document, rule_table(report).only(*_RULE_COLUMNS))
    document.add_heading("（二）按县区", level=2)
    _table(document, county_table(report))
    document.add_heading("（三）按乡镇", level=2)
    _table(document, township_table(report))

    document.add_heading("四、规划指标对照", level=1)
    targets = target_table(report)
    if targets.rows:
        _table(document, targets.only(*_TARGET_COLUMNS))
    else:
        document.add_paragraph("项目未设指标。")

    terrain = terrain_table(report)
    if terrain.rows:
        document.add_heading("五、乡镇地形", level=1)
        document.add_paragraph("由数字高程模型按乡镇统计，部分落入乡镇的栅格按覆盖比例加权。")
        _table(document, terrain)

    appendix = document.add_section(WD_SECTION.NEW_PAGE)
    appendix.orientation = WD_ORIENT.LANDSCAPE
    appendix.page_width, appendix.page_height = Cm(29.7), Cm(21.0)
    document.add_heading("附录　冲突明细", level=1)
    conflicts = conflict_table(report)
    if len(conflicts.rows) > APPENDIX_ROWS:
        document.add_paragraph(
            f"共 {len(conflicts.rows):,} 处，此处列出前 {APPENDIX_ROWS:,} 处；"
            "全部见 report.xlsx 的“冲突明细”表。"
        )
    _table(document, conflicts.only(*_APPENDIX_COLUMNS), limit=APPENDIX_ROWS, total_cm=25.7)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
