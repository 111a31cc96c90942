"""Tables of ``report.docx`` that fit their page: column widths from content, fixed layout.

Each column gets the width its longest cell needs when the page allows it,
and never less than its *minimum*: the whole of a short text (a county or
township name, a severity — so "通江县" never wraps one character per line),
the longest unbreakable Latin run of a long text (an id), every number. A
table whose minimums do not fit a portrait text block (17 cm) goes into a
landscape section (25.7 cm); :func:`orientation` says which. The layout is
fixed (``w:tblLayout fixed``), with the widths in the grid and in every cell,
so Word, WPS and LibreOffice lay it out alike; the header row repeats on
every page.

The XML is built with lxml directly (python-docx's cell API takes seconds for
a thousand-row appendix); every value is the text of a ``w:t`` element,
which lxml escapes.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass

from docx.document import Document
from docx.oxml.ns import nsmap, qn
from docx.shared import Cm
from lxml import etree

from geoplan.analysis.reports.docx_styles import TABLE_PT, TEXT_WIDTH_CM, new_section, text_width_cm
from geoplan.analysis.reports.format import display_width, fmt
from geoplan.analysis.reports.tables import Table

#: Width (cm) of one display column (half a Chinese character, a digit in a substituted
#: serif font such as DejaVu) at TABLE_PT, and
#: what a cell adds to its text: the cell margins (2 × 0.19 cm) and some slack.
_UNIT_CM = 0.19
_CELL_CM = 0.5
#: Texts up to this many display columns are never wrapped (names, severities).
NO_WRAP = 14
#: Headings may wrap down to this many display columns (four Chinese characters).
_HEADING_MIN = 8
#: Rows sampled for the widths (the rest are alike).
_SAMPLE = 400
#: A longer Latin run (a SHA-256) may wrap inside itself.
_LONGEST_TOKEN = 24
_LATIN_RUN = re.compile(r"[!-~]+")
_HEADER_FILL = "E7E6E6"


@dataclass(frozen=True)
class Plan:
    """A table's cell texts and how wide its columns want to be.

    Attributes
    ----------
    table : Table
    texts : list of list of str
        The body rows' cell texts.
    need_cm, min_cm : list of float
        Per column: the width of its longest cell, and the least it may get.
    """

    table: Table
    texts: list[list[str]]
    need_cm: list[float]
    min_cm: list[float]


def _cm(units: int) -> float:
    return units * _UNIT_CM + _CELL_CM


def plan(table: Table, limit: int | None = None) -> Plan:
    """The texts and column widths of ``table`` (its first ``limit`` rows)."""
    rows = table.rows if limit is None else table.rows[:limit]
    columns = table.columns
    texts = [[fmt(row[c.key], c.kind) for c in columns] for row in rows]
    need, least = [], []
    for j, column in enumerate(columns):
        sample = [r[j] for r in texts[:_SAMPLE]]
        longest = max((display_width(t) for t in sample), default=0)
        heading = display_width(column.heading)
        if column.kind != "text" or longest <= NO_WRAP:
            floor = longest
        else:
            tokens = (len(m) for t in sample for m in _LATIN_RUN.findall(t))
            floor = max(NO_WRAP, min(max(tokens, default=0), _LONGEST_TOKEN))
        need.append(_cm(max(longest, heading)))
        least.append(_cm(max(floor, min(heading, _HEADING_MIN))))
    return Plan(table, texts, need, least)


def orientation(p: Plan) -> str:
    """``"portrait"`` when the table's minimum widths fit 17 cm, else ``"landscape"``."""
    return "portrait" if sum(p.min_cm) <= TEXT_WIDTH_CM["portrait"] else "landscape"


def widths_cm(p: Plan, total_cm: float) -> list[float]:
    """Column widths (cm) filling ``total_cm``.

    Every column gets its need and the spare width is shared in proportion
    to the needs when the needs fit; otherwise every column gets its minimum
    and the rest is shared in proportion to what each lacks of its need. When
    not even the minimums fit (a table wider than a landscape page), they are
    scaled down to ``total_cm``.
    """
    need, least = p.need_cm, p.min_cm
    if sum(need) <= total_cm:
        scale = total_cm / sum(need)
        return [w * scale for w in need]
    if sum(least) >= total_cm:
        scale = total_cm / sum(least)
        return [w * scale for w in least]
    lack = [n - m for n, m in zip(need, least, strict=True)]
    spare = total_cm - sum(least)
    return [m + spare * d / sum(lack) for m, d in zip(least, lack, strict=True)]


@functools.cache
def _name(tag: str) -> str:
    return qn(tag)


def _sub(parent, tag: str, **attributes: str):
    element = etree.SubElement(parent, _name(tag))
    for key, value in attributes.items():
        element.set(_name(f"w:{key}"), value)
    return element


_PRESERVE = "{http://www.w3.org/XML/1998/namespace}space"


def _cell(width: int, *, right: bool, header: bool):
    """A cell of one run, its text empty: the template each cell of a column is copied from."""
    cell = etree.Element(_name("w:tc"), nsmap={"w": nsmap["w"]})
    properties = _sub(cell, "w:tcPr")
    _sub(properties, "w:tcW", w=str(width), type="dxa")
    if header:
        _sub(properties, "w:shd", val="clear", color="auto", fill=_HEADER_FILL)
    paragraph = _sub(cell, "w:p")
    paragraph_properties = _sub(paragraph, "w:pPr")
    _sub(paragraph_properties, "w:spacing", before="0", after="0", line="240", lineRule="auto")
    if right:
        _sub(paragraph_properties, "w:jc", val="right")
    run = _sub(paragraph, "w:r")
    run_properties = _sub(run, "w:rPr")
    if header:
        _sub(run_properties, "w:b")
    _sub(run_properties, "w:sz", val=str(round(2 * TABLE_PT)))
    _sub(run, "w:t").set(_PRESERVE, "preserve")
    return cell


def _row(table, templates: list, texts: list[str], *, header: bool) -> None:
    row = _sub(table, "w:tr")
    row_properties = _sub(row, "w:trPr")
    _sub(row_properties, "w:cantSplit")
    if header:
        _sub(row_properties, "w:tblHeader")
    t = _name("w:t")
    for template, text in zip(templates, texts, strict=True):
        cell = copy.deepcopy(template)
        _fill(next(cell.iter(t)), text)
        row.append(cell)


_BREAKS = re.compile(r"(\t|\r\n|\r|\n)")


def _fill(first: etree._Element, text: str) -> None:
    """Put ``text`` into a run from its ``w:t`` on: tabs as ``w:tab``, line breaks as ``w:br``.

    As python-docx's ``run.text`` does, so a value with a tab or a carriage
    return shows as one, not as a raw control character inside ``w:t``.
    """
    parts = _BREAKS.split(text)
    first.text = parts[0]
    last = first
    for separator, part in zip(parts[1::2], parts[2::2], strict=True):
        mark = etree.Element(_name("w:tab" if separator == "\t" else "w:br"))
        last.addnext(mark)
        last = mark
        if part:
            piece = etree.Element(_name("w:t"))
            piece.set(_PRESERVE, "preserve")
            piece.text = part
            last.addnext(piece)
            last = piece


def add_table(document: Document, p: Plan, total_cm: float) -> None:
    """Append the planned table, ``total_cm`` wide, to the end of ``document``'s body."""
    twips = [round(Cm(w).twips) for w in widths_cm(p, total_cm)]
    # A plain lxml tree, each cell a copy of its column's template (python-docx's
    # element classes and building cells element by element take seconds per thousand rows).
    table = etree.Element(_name("w:tbl"), nsmap={"w": nsmap["w"]})
    properties = _sub(table, "w:tblPr")
    _sub(properties, "w:tblStyle", val="TableGrid")
    _sub(properties, "w:tblW", w=str(sum(twips)), type="dxa")
    _sub(properties, "w:tblLayout", type="fixed")
    _sub(properties, "w:tblLook", val="04A0", firstRow="1", lastRow="0", noHBand="0", noVBand="1")
    grid = _sub(table, "w:tblGrid")
    for width in twips:
        _sub(grid, "w:gridCol", w=str(width))
    columns = p.table.columns
    heads = [_cell(w, right=False, header=True) for w in twips]
    _row(table, heads, [c.heading for c in columns], header=True)
    cells = [
        _cell(w, right=c.kind != "text", header=False) for c, w in zip(columns, twips, strict=True)
    ]
    for texts in p.texts:
        _row(table, cells, texts, header=False)
    body = document.element.body
    body.find(qn("w:sectPr")).addprevious(table)


def add_fitted(
    document: Document,
    table: Table,
    *,
    limit: int | None = None,
    heading: tuple[int, str] | None = None,
    note: str | None = None,
    new_page: bool = False,
) -> None:
    """Add ``heading`` (level, text), ``note`` and ``table`` (its first ``limit`` rows).

    The table spans the text block. One whose minimum widths do not fit a
    portrait page goes, with its heading (or its title as a caption), into a
    landscape section of its own, and the text goes on in portrait;
    ``new_page`` starts a new page in any case.
    """
    p = plan(table, limit)
    landscape = orientation(p) == "landscape"
    if landscape or new_page:
        new_section(document, "landscape" if landscape else "portrait")
    if heading is not None:
        document.add_heading(heading[1], level=heading[0])
    elif landscape:
        document.add_paragraph(table.title, style="Caption")
    if note:
        document.add_paragraph(note)
    add_table(document, p, text_width_cm(document.sections[-1]))
    if landscape:
        new_section(document, "portrait")
    else:
        document.add_paragraph()
