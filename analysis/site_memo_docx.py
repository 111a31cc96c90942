"""``site.docx``: the site memo for Word, WPS and LibreOffice (python-docx).

The same sections as the HTML (:func:`analysis.site_memo_tables.memo_sections`),
A4, 宋体/Times New Roman for text and 黑体/Arial for headings, as
``report.docx`` sets them; values go in as run text only.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from geoplan.analysis.site_memo_tables import memo_sections

_BODY = ("Times New Roman", "宋体")
_HEADING = ("Arial", "黑体")
_VERDICT_RGB = {
    "fail": (0xC6, 0x28, 0x28),
    "conditional": (0xEF, 0x6C, 0x00),
    "pass": (0x2E, 0x7D, 0x32),
}


def _fonts(style, latin: str, chinese: str, size: float) -> None:
    style.font.name = latin
    style.font.size = Pt(size)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), chinese)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)


def _set_up(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    _fonts(document.styles["Normal"], *_BODY, 10.5)
    for name, size in (("Title", 20), ("Heading 1", 15)):
        style = document.styles[name]
        _fonts(style, *_HEADING, size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.bold = True


def render_site_docx(model: Mapping[str, Any], *, map_png: bytes | None) -> bytes:
    """The memo as a DOCX file's bytes.

    Parameters are those of :func:`analysis.site_memo_html.render_site_html`.
    """
    document = Document()
    _set_up(document)
    title = f"选址审查意见 — {model['project']}" if model["project"] else "选址审查意见"
    document.add_heading(title, level=0)
    for section in memo_sections(model):
        document.add_heading(section.title, level=1)
        for i, paragraph in enumerate(section.paragraphs):
            run = document.add_paragraph().add_run(paragraph)
            if section.key == "verdict" and i == 0:
                run.bold = True
                run.font.size = Pt(14)
                run.font.color.rgb = RGBColor(*_VERDICT_RGB[model["verdict"]["status"]])
        for table in section.tables:
            grid = document.add_table(rows=1, cols=len(table.columns))
            grid.style = "Table Grid"
            for cell, text in zip(grid.rows[0].cells, table.columns, strict=True):
                cell.text = text
                cell.paragraphs[0].runs[0].bold = True
            for row in table.rows:
                cells = grid.add_row().cells
                for cell, text, numeric in zip(cells, row, table.numeric, strict=True):
                    cell.text = text
                    if numeric:
                        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for row in grid.rows:
                for cell in row.cells:
                    for run in cell.paragraphs[0].runs:
                        run.font.size = Pt(9)
        if section.key == "verdict" and map_png:
            document.add_picture(io.BytesIO(map_png), width=Cm(16.0))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
