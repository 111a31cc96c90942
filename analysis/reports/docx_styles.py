"""The page and type of ``report.docx``: fonts, A4 sections, fields (目录, page numbers).

Fonts are set for both scripts — 宋体/黑体 for Chinese (``w:eastAsia``),
Times New Roman/Arial for Latin — so the document looks the same in Word,
WPS and LibreOffice. The fields (``TOC``, ``PAGE``, ``NUMPAGES``) are built
from constant instructions only; data never goes into a field.
"""

from __future__ import annotations

from docx.document import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

#: A4 paper (cm) and the margins of every section (cm): the text block is 17 cm
#: wide in portrait and 25.7 cm in landscape.
PAGE_CM = (21.0, 29.7)
MARGIN_CM = {"left": 2.0, "right": 2.0, "top": 2.5, "bottom": 2.2}
TEXT_WIDTH_CM = {"portrait": PAGE_CM[0] - 4.0, "landscape": PAGE_CM[1] - 4.0}
#: The size (pt) of table text.
TABLE_PT = 9.0

_BODY = ("Times New Roman", "宋体")
_HEADING = ("Arial", "黑体")
#: The instruction of the table of contents: headings 1–3, as hyperlinks.
TOC_INSTRUCTION = ' TOC \\o "1-3" \\h \\z \\u '
# Elements of w:settings that must come after w:updateFields (ECMA-376 order).
_AFTER_UPDATE_FIELDS = (
    "w:hdrShapeDefaults",
    "w:footnotePr",
    "w:endnotePr",
    "w:compat",
    "w:docVars",
    "w:rsids",
    "m:mathPr",
)


def _fonts(style, latin: str, chinese: str, size: float | None = None) -> None:
    style.font.name = latin
    if size:
        style.font.size = Pt(size)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), chinese)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)


def _page(section: Section, orientation: str) -> None:
    width, height = (Cm(c) for c in PAGE_CM)
    if orientation == "landscape":
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = height, width
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = width, height
    for side, cm in MARGIN_CM.items():
        setattr(section, f"{side}_margin", Cm(cm))


def set_up(document: Document) -> None:
    """A4 portrait, fonts of body, title and headings 1–3, page numbers, fields updated on open."""
    _page(document.sections[0], "portrait")
    normal = document.styles["Normal"]
    _fonts(normal, *_BODY, 10.5)
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.25
    for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 12.5), ("Heading 3", 11)):
        style = document.styles[name]
        _fonts(style, *_HEADING, size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.bold = True
    for name in ("TOC Heading", "Caption"):
        _fonts(document.styles[name], *_HEADING, 10.5)
        document.styles[name].font.color.rgb = RGBColor(0, 0, 0)
    _page_numbers(document.sections[0])
    _update_fields_on_open(document)


def _update_fields_on_open(document: Document) -> None:
    """Mark the fields dirty: Word and WPS offer to fill the 目录 in when the file opens."""
    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    follower = next(
        (e for name in _AFTER_UPDATE_FIELDS if (e := settings.find(qn(name))) is not None), None
    )
    if follower is None:
        settings.append(update)
    else:
        follower.addprevious(update)


def add_field(paragraph: Paragraph, instruction: str, shown: str = "") -> None:
    """A complex field (begin, instruction, separate, ``shown`` result, end) in ``paragraph``.

    ``instruction`` is one of this module's constants, never data.
    """

    def char(kind: str) -> None:
        run = paragraph.add_run()
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            element.set(qn("w:dirty"), "true")
        run._r.append(element)

    char("begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = instruction
    paragraph.add_run()._r.append(code)
    char("separate")
    paragraph.add_run(shown)
    char("end")


def _page_numbers(section: Section) -> None:
    """The footer of every section: 第 X 页 共 Y 页, centred (later sections link to it)."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("第 ")
    add_field(paragraph, " PAGE ", "1")
    paragraph.add_run(" 页　共 ")
    add_field(paragraph, " NUMPAGES ", "1")
    paragraph.add_run(" 页")


def add_toc(document: Document) -> Paragraph:
    """The 目录 heading and a TOC field over headings 1–3; fill it with :func:`fill_toc`."""
    document.add_paragraph("目　录", style="TOC Heading").alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph = document.add_paragraph()
    add_field(paragraph, TOC_INSTRUCTION)
    return paragraph


def fill_toc(toc: Paragraph, entries: list[tuple[int, str]]) -> None:
    """Put the list of ``entries`` into the TOC field's shown result.

    Word and WPS replace the result by the real table with page numbers when
    the fields are updated (on open, as the document asks, or with F9);
    until then, and in readers that do not update fields, the entries show
    without page numbers.

    Parameters
    ----------
    toc : docx.text.paragraph.Paragraph
        The paragraph :func:`add_toc` returned.
    entries : list of (int, str)
        Level (1–3) and text of each heading, in order.
    """
    end = toc._p.r_lst[-1]  # the field's end mark: moved behind the last entry
    end.getparent().remove(end)
    last = toc
    for level, text in entries:
        element = OxmlElement("w:p")
        last._p.addnext(element)
        last = Paragraph(element, toc._parent)
        last.add_run(text)
        last.paragraph_format.left_indent = Cm(0.74 * (level - 1))
        last.paragraph_format.space_after = Pt(2)
    last._p.append(end)


def headings(document: Document) -> list[tuple[int, str]]:
    """Level (1–3) and text of every heading of ``document``, in order (read from the XML)."""
    levels = {f"Heading{n}": n for n in (1, 2, 3)}
    style, text = qn("w:pStyle"), qn("w:t")
    found = []
    for paragraph in document.element.body.iterchildren(qn("w:p")):
        properties = paragraph.pPr
        name = properties.find(style) if properties is not None else None
        if name is not None and name.get(qn("w:val")) in levels:
            words = "".join(t.text or "" for t in paragraph.iter(text))
            found.append((levels[name.get(qn("w:val"))], words))
    return found


def new_section(document: Document, orientation: str) -> Section:
    """Start a new page in ``orientation`` (portrait or landscape); footer as before."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    _page(section, orientation)
    return section


def text_width_cm(section: Section) -> float:
    """The width (cm) of a section's text block."""
    return (section.page_width - section.left_margin - section.right_margin) / Cm(1)
