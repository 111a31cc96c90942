"""report.docx as a 审查报告 (read back, and laid out by LibreOffice), and report.xlsx's sheets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile

import geopandas as gpd
import openpyxl
import pytest
from docx import Document
from docx.shared import Cm
from lxml import etree

from geoplan.analysis.reports.finding_maps import MAX_FINDING_MAPS
from geoplan.analysis.reports.format import chinese_date

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: ASCII words the Chinese text may hold: the tool, reference systems, units, file names.
ALLOWED_WORDS = {"geoplan", "CGCS", "EPSG", "SHA", "km", "m", "report", "xlsx", "map", "html"}


@pytest.fixture(scope="module")
def report(demo_out):
    return json.loads((demo_out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def document(demo_out):
    return Document(demo_out / "report.docx")


@pytest.fixture(scope="module")
def pdf(demo_out, tmp_path_factory):
    """report.docx converted to PDF by LibreOffice."""
    out = tmp_path_factory.mktemp("pdf")
    env = {**os.environ, "HOME": str(out)}
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            demo_out / "report.docx",
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=600,
    )
    return out / "report.pdf"


def _texts(document) -> list[str]:
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return [p.text for p in document.paragraphs] + cells


def test_pdf_has_a_sane_page_count_and_nothing_outside_the_text_block(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert 40 <= pages <= 400, pages
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    tree = etree.fromstring(boxes.encode("utf-8"), etree.HTMLParser())
    margin = Cm(2.0).pt
    pages_seen = 0
    for page in tree.iter("page"):
        pages_seen += 1
        width = float(page.get("width"))
        for word in page.iter("word"):
            # 2 pt of slack for glyph side bearings
            assert float(word.get("xmin")) >= margin - 2, (pages_seen, word.text)
            assert float(word.get("xmax")) <= width - margin + 2, (pages_seen, word.text)
    assert pages_seen == pages


def test_township_and_county_names_never_wrap_in_the_pdf(pdf, report):
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = set(text.splitlines())
    names = {r["township"] for r in report["summary"]["by_township"] if r["township"]}
    names |= {r["county"] for r in report["summary"]["by_county"] if r["county"]}
    assert "通江县" in names
    for name in names:
        assert name in lines, name  # a table cell of its own: whole, on one line


def _sections_widths(path) -> list[tuple[float, list[float]]]:
    """(text block width, [table widths]) per section, from document.xml (twips)."""
    with zipfile.ZipFile(path) as archive:
        body = etree.fromstring(archive.read("word/document.xml")).find(f"{W}body")
    out, tables = [], []

    def close(sect) -> None:
        size, margins = sect.find(f"{W}pgSz"), sect.find(f"{W}pgMar")
        block = (
            int(size.get(f"{W}w")) - int(margins.get(f"{W}left")) - int(margins.get(f"{W}right"))
        )
        out.append((block, list(tables)))
        tables.clear()

    for child in body:
        if child.tag == f"{W}tbl":
            tables.append(sum(int(g.get(f"{W}w")) for g in child.iter(f"{W}gridCol")))
        elif child.tag == f"{W}p" and (sect := child.find(f"{W}pPr/{W}sectPr")) is not None:
            close(sect)
        elif child.tag == f"{W}sectPr":
            close(child)
    return out


def test_every_table_fits_its_section_and_wide_ones_are_landscape(demo_out, document):
    sections = _sections_widths(demo_out / "report.docx")
    assert sum(len(t) for _, t in sections) == len(document.tables)
    for block, tables in sections:
        for width in tables:
            assert width <= block + 2, (width, block)
    assert {block for block, _ in sections} == {round(Cm(17).twips), round(Cm(25.7).twips)}
    for table in document.tables:
        layout = table._tbl.tblPr.find(f"{W}tblLayout")
        assert layout is not None and layout.get(f"{W}type") == "fixed"
        assert table._tbl.tr_lst[0].find(f"{W}trPr/{W}tblHeader") is not None


def test_toc_page_number_fields_and_headings_in_order(demo_out, document):
    with zipfile.ZipFile(demo_out / "report.docx") as archive:
        body = archive.read("word/document.xml").decode("utf-8")
        settings = archive.read("word/settings.xml").decode("utf-8")
        footers = "".join(
            archive.read(n).decode("utf-8") for n in archive.namelist() if "footer" in n
        )
    assert 'TOC \\o "1-3" \\h \\z \\u' in body and 'w:fldCharType="separate"' in body
    assert "<w:updateFields" in settings
    assert "> PAGE <" in footers and "> NUMPAGES <" in footers and "第 " in footers
    top = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    wanted = ["一、基本情况", "二、审查依据", "三、审查方法", "四、审查结果", "五、审查结论"]
    wanted.append("六、问题清单与处置建议")
    assert top[:6] == wanted and top[6].startswith("附录")
    title = next(p for p in document.paragraphs if p.style.name == "Title")
    assert title.text.endswith("国土空间规划合规性审查报告") and title.alignment == 1


def test_one_map_per_prohibited_issue_with_its_centre_as_caption(document, report):
    prohibited = [i for i in report["issues"] if i["severity"] == "prohibited"]
    assert prohibited
    shown = prohibited[:MAX_FINDING_MAPS]
    assert len(document.inline_shapes) == 1 + len(shown)  # the overview figure, then the maps
    captions = [p.text for p in document.paragraphs if "位置图" in p.text]
    for issue in shown:
        centre = f"东经 {issue['centre_lon']:.6f}°，北纬 {issue['centre_lat']:.6f}°"
        assert any(f"问题 {issue['number']} " in c and centre in c for c in captions), issue


def test_signature_block_with_the_chinese_date(document, report):
    text = [p.text for p in document.paragraphs]
    date = chinese_date(report["run"]["started"])
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", date)
    for line in ("审查单位（盖章）：", "审查人：", "审核人：", f"日期：{date}"):
        assert line in text


def test_no_english_words_in_the_chinese_text(document, report):
    # codes: rule pack names, layer kinds and raster names (as the rules name their sides)
    rules = report["summary"]["by_rule"]
    sides = " ".join(str(r[k]) for r in rules for k in ("left", "right", "layers", "raster"))
    codes = set(report["rule_packs"]) | set(re.findall(r"[A-Za-z]+", sides))
    codes |= {"X", "Y"}  # coordinate axes
    words = set()
    for text in _texts(document):
        # ids, codes, file names and paths hold digits, _ - . / or : beside their letters
        for token in re.findall(r"[A-Za-z0-9_\-./:]+", text):
            if re.fullmatch(r"[A-Za-z]+", token):
                words.add(token)
    assert words <= ALLOWED_WORDS | codes, sorted(words - ALLOWED_WORDS - codes)


def test_xlsx_township_sheet_issue_list_rules_formats_and_print(demo_out, report):
    book = openpyxl.load_workbook(demo_out / "report.xlsx")
    towns = book["按乡镇"]
    header = [c.value for c in towns[1]]
    rows = [dict(zip(header, r, strict=True)) for r in towns.iter_rows(min_row=2, values_only=True)]
    townships = gpd.read_file(demo_out / "layers.gpkg", layer="townships")
    outside = any(not r["township"] for r in report["summary"]["by_township"])
    assert len(rows) == len(townships) + outside == 139 + outside
    conflicts = gpd.read_file(demo_out / "conflicts.gpkg", layer="conflicts")
    for severity, title in (("prohibited", "禁止"), ("restricted", "限制"), ("notice", "提示")):
        expected = int((conflicts["severity"] == severity).sum())
        assert sum(r[f"{title}冲突数"] for r in rows) == expected, severity
    assert len(list(book["问题清单"].iter_rows(min_row=2))) == len(report["issues"])
    rules = book["规则"]
    column = [c.value for c in rules[1]].index("结论")
    assert {r[column] for r in rules.iter_rows(min_row=2, values_only=True)} <= {
        "符合",
        "不符合",
        "未检查",
    }
    for name in ("按乡镇", "问题清单", "规则"):
        sheet = book[name]
        # by heading: openpyxl reads a stored 0.0 back as 0, so the value's type would not tell
        for column in sheet.iter_cols(min_row=1):
            heading, cells = str(column[0].value), column[1:]
            if heading in ("序号", "冲突数合计") or heading.endswith(("冲突数", "图斑数")):
                assert {c.number_format for c in cells if c.value is not None} <= {"0", "#,##0"}
                assert all(isinstance(c.value, int) for c in cells if c.value is not None)
            elif heading.endswith(("（亩）", "（公顷）")):
                assert {c.number_format for c in cells if c.value is not None} == {"#,##0.00"}
        assert sheet.freeze_panes == "A2" and sheet.print_title_rows == "$1:$1"
        assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.orientation in ("portrait", "landscape")
    assert book["问题清单"].page_setup.orientation == "landscape"
