"""Hostile names in the data reach report.xlsx, .md, .docx, the QGIS styles and CSV as text.

One ``geoplan check`` (the real CLI, in a subprocess) runs on a copy of the
embedded dataset whose township, protected-area and park names, protected-area
subtypes and project name are formula, HTML, Markdown and control-character
payloads. Each output is then read by a second program: openpyxl and
LibreOffice for the workbook, GitHub's cmark-gfm (raw HTML allowed, the
renderer that sanitises least) for the Markdown, python-docx and LibreOffice
for the document, an XML parser (and QGIS) for the styles.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from urllib.parse import unquote

import geopandas as gpd
import lxml.html
import openpyxl
import pyogrio
import pytest
from docx import Document

from engine_cases import EPSG, box, write_project
from geoplan.analysis.reports.docx_styles import TOC_INSTRUCTION
from geoplan.analysis.reports.tables import OUTSIDE_TOWNSHIPS
from geoplan.geo.layer_styles import LayerStyle, write_layer_styles
from geoplan.geo.text import csv_text
from geoplan.maps.qml import layer_qml
from geoplan.maps.style import CLASS_STYLES, Classes, Style

ROOT = Path(__file__).resolve().parents[1]
BAZHONG = ROOT / "layers" / "bazhong"
GEOPLAN = [str(Path(sys.executable).with_name("geoplan"))]

PAYLOADS = [
    '=HYPERLINK("http://x","x")',
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "=1+1",
    "#N/A",
    "<img src=x onerror=alert(1)>",
    "| a | b |",
    "[link](javascript:alert(1))",
    "*bold* _it_ ~~del~~ `code` $x$",
    "ctrl\x0bvt\x01soh\x1fus",
    "a'b",
    'say "hi" & <b>bye</b>',
    "back\\slash\\|",
    "tab\tand\rcr inside",
]
#: The names as loaded: the loader trims standard text fields.
STORED = [p.strip() for p in PAYLOADS]
PROJECT_NAME = '=HYPERLINK("http://x","x") <img src=x onerror=alert(1)> | a | *b* a\'b'
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _soffice(source: Path, target: str, out: Path) -> Path:
    """``source`` converted by LibreOffice (its own profile, so runs do not collide)."""
    profile = out / "lo-profile"
    done = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out


def _hostile_copy(folder: Path) -> Path:
    data = folder / "data"
    data.mkdir(parents=True)
    for name in ("bazhong.gpkg", "dem.tif"):
        shutil.copy(BAZHONG / "data" / name, data / name)
    gpkg = data / "bazhong.gpkg"
    for layer, columns in (("XZQ_XZ", ["XZMC"]), ("ZRBHD", ["MC", "ZLX"]), ("CYYQ", ["MC"])):
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
        for column in columns:
            frame[column] = [PAYLOADS[i % len(PAYLOADS)] for i in range(len(frame))]
        pyogrio.write_dataframe(
            frame, gpkg, layer=layer, driver="GPKG", layer_options={"OVERWRITE": "YES"}
        )
    text = (BAZHONG / "project.toml").read_text(encoding="utf-8")
    text, n = re.subn(
        r'^name = ".*"$', f"name = {json.dumps(PROJECT_NAME, ensure_ascii=False)}", text, flags=re.M
    )
    assert n == 1
    project = folder / "project.toml"
    project.write_text(text, encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    project = _hostile_copy(folder)
    out = folder / "out"
    done = subprocess.run(
        [*GEOPLAN, "-q", "check", str(project), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    return out


@pytest.fixture(scope="module")
def loaded_names(hostile_run) -> dict[str, set[str]]:
    """The names geoplan loaded, read back from layers.gpkg by GDAL."""
    path = hostile_run / "layers.gpkg"
    return {
        kind: set(pyogrio.read_dataframe(path, layer=kind, read_geometry=False)["name"])
        for kind in ("townships", "protected_areas", "parks")
    }


@pytest.mark.slow
def test_the_loaded_layers_keep_every_name_and_subtype_exactly(hostile_run, loaded_names):
    protected = pyogrio.read_dataframe(
        hostile_run / "layers.gpkg", layer="protected_areas", read_geometry=False
    )
    written = [STORED[i % len(STORED)] for i in range(len(protected))]
    assert loaded_names["townships"] == set(STORED)
    assert loaded_names["protected_areas"] == set(written)
    assert loaded_names["parks"] == set(STORED)
    assert list(protected["subtype"]) == written
    assert set(protected["category"]) == {"自然保护区", "自然公园"}


# --- report.xlsx -----------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(hostile_run):
    return openpyxl.load_workbook(hostile_run / "report.xlsx")


@pytest.mark.slow
def test_xlsx_has_no_formula_and_every_name_is_its_exact_text(workbook, loaded_names):
    strings = set()
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    strings.add(cell.value)
    assert workbook["汇总"]["B1"].value == PROJECT_NAME
    towns = workbook["按乡镇"]
    header = [c.value for c in towns[1]]
    names = {row[header.index("乡镇")] for row in towns.iter_rows(min_row=2, values_only=True)}
    assert names - {OUTSIDE_TOWNSHIPS} <= {xml_clean(n) for n in loaded_names["townships"]}
    for name in STORED:
        assert xml_clean(name) in strings, name


@pytest.mark.slow
def test_xlsx_numbers_stay_numbers(workbook):
    detail = workbook["冲突明细"]
    header = [c.value for c in detail[1]]
    areas = [r[header.index("面积（亩）")] for r in detail.iter_rows(min_row=2, values_only=True)]
    assert areas and all(isinstance(a, int | float) and not isinstance(a, bool) for a in areas)


@pytest.mark.slow
def test_libreoffice_shows_the_literal_text_not_a_computed_value(hostile_run, tmp_path):
    # Every sheet to its own CSV (token 12 = -1), cell text as shown (token 9).
    _soffice(
        hostile_run / "report.xlsx",
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
        tmp_path,
    )
    sheets = {}
    for path in tmp_path.glob("report-*.csv"):
        with open(path, encoding="utf-8", newline="") as f:
            sheets[path.stem.removeprefix("report-")] = list(csv.reader(f))
    assert sheets["汇总"][0][:2] == ["项目", PROJECT_NAME]
    rows = sheets["按乡镇"]
    column = rows[0].index("乡镇")
    shown = {row[column] for row in rows[1:]}
    for payload in ('=HYPERLINK("http://x","x")', "+1+1", "-2+3", "@SUM(1)", "=1+1", "#N/A"):
        assert payload in shown, payload
    assert not shown & {"x", "2", "1"}  # what evaluated formulas would show


# --- report.md -------------------------------------------------------------------


#: What the rendered summary may hold: its own headings, paragraphs, tables and
#: code spans, and GFM's autolinks (the visible text is the whole target).
#: What report.md's own structure makes (the verdict in bold, its reasons as a list).
MARKDOWN_TAGS = {"div", "h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "a"}
MARKDOWN_TAGS |= {"strong", "ul", "li"}


def _markdown_html(text: str) -> lxml.html.HtmlElement:
    """report.md rendered by GitHub's cmark-gfm with raw HTML let through."""
    done = subprocess.run(
        ["cmark-gfm", "--unsafe", "-e", "table", "-e", "autolink", "-e", "strikethrough"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    return lxml.html.fromstring(f"<div>{done.stdout}</div>")


def _shown(text: str) -> str:
    """What a renderer shows of a value in a table cell: controls as spaces, trimmed."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()


@pytest.mark.slow
def test_markdown_renders_every_value_as_its_characters(hostile_run):
    text = (hostile_run / "report.md").read_text(encoding="utf-8")
    assert "<" not in text and "\r" not in text
    html = _markdown_html(text)
    tags = {element.tag for element in html.iter()}
    assert tags <= MARKDOWN_TAGS
    for link in html.iter("a"):
        text = link.text_content()
        assert unquote(link.get("href")) in (text, f"mailto:{text}", f"http://{text}"), text
    assert html.find("h1").text_content() == f"{PROJECT_NAME}国土空间规划合规性审查报告"
    for table in html.iter("table"):
        width = len(table.find("thead/tr"))
        assert all(len(tr) == width for tr in table.iter("tr"))
        for cell in table.iter("td"):
            inside = {element.tag for element in cell.iterdescendants()}
            assert inside <= {"a"}, lxml.html.tostring(cell)

    top = html.xpath("//h2[starts-with(., '最严重的')]/following-sibling::table[1]")[0]
    headings = [th.text_content() for th in top.find("thead/tr")]
    rows = [[td.text_content() for td in tr] for tr in top.find("tbody")]
    shown = {_shown(p) for p in PAYLOADS} | {OUTSIDE_TOWNSHIPS}
    places = [row[headings.index("位置（县/乡镇）")] for row in rows]
    assert places and all(any(s in place for s in shown) for place in places), places
    labels = {row[headings.index("涉及要素")] for row in rows}
    named = {_shown(p) for p in PAYLOADS if any(_shown(p) + "（" in label for label in labels)}
    assert len(named) >= 3, labels


# --- report.docx -----------------------------------------------------------------


def _docx_texts(document) -> list[str]:
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return texts


@pytest.mark.slow
def test_docx_opens_and_holds_the_names_without_illegal_characters(hostile_run, loaded_names):
    document = Document(hostile_run / "report.docx")
    texts = _docx_texts(document)
    assert f"{PROJECT_NAME}国土空间规划合规性审查报告" in texts
    # python-docx writes a carriage return as a line break, read back as "\n".
    expected = {xml_clean(n).replace("\r", "\n") for n in loaded_names["townships"]}
    township_table = next(t for t in document.tables if t.rows[0].cells[1].text == "乡镇")
    towns = {row.cells[1].text for row in township_table.rows[1:]}
    assert towns - {OUTSIDE_TOWNSHIPS} <= expected and len(towns & expected) >= 10
    with zipfile.ZipFile(hostile_run / "report.docx") as archive:
        body = archive.read("word/document.xml").decode("utf-8")
    ET.fromstring(body)
    for construct in ("w:fldSimple", "w:hyperlink"):
        assert f"<{construct}" not in body
    # the only fields are the document's own (目录, page numbers); no data value is a field code
    codes = set(re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", body))
    assert codes == {TOC_INSTRUCTION}
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.slow
def test_libreoffice_converts_the_docx(hostile_run, tmp_path):
    _soffice(hostile_run / "report.docx", "txt:Text (encoded):UTF8", tmp_path)
    text = (tmp_path / "report.txt").read_text(encoding="utf-8-sig")
    assert f"{PROJECT_NAME}国土空间规划合规性审查报告" in text
    assert "<img src=x onerror=alert(1)>" in text


@pytest.mark.slow
def test_characters_gdal_cannot_carry_do_not_break_the_renderers(hostile_run, tmp_path):
    # GDAL reads text up to a NUL, so put it into the report's data model directly.
    from geoplan.analysis.reports.docx import render_docx
    from geoplan.analysis.reports.md import render_markdown
    from geoplan.analysis.reports.xlsx import render_xlsx

    report = json.loads((hostile_run / "report.json").read_text(encoding="utf-8"))
    name = "nul\x00vt\x0bff\x0cesc\x1b\ufffe end"
    report["project"]["name"] = name
    report["conflicts"][0]["township"] = name
    (tmp_path / "r.xlsx").write_bytes(render_xlsx(report))
    (tmp_path / "r.docx").write_bytes(render_docx(report, overview_png=None))
    markdown = render_markdown(report)

    clean = "nulvtffesc end"
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book["汇总"]["B1"].value == clean
    assert clean in {c.value for c in book["冲突明细"]["E"]}
    document = Document(tmp_path / "r.docx")
    assert f"{clean}国土空间规划合规性审查报告" in _docx_texts(document)
    _soffice(tmp_path / "r.docx", "txt:Text (encoded):UTF8", tmp_path)
    assert clean in (tmp_path / "r.txt").read_text(encoding="utf-8-sig")
    assert "# nul vt ff esc \ufffe end国土空间规划合规性审查报告" in markdown


# --- layer_styles (QML) ----------------------------------------------------------


def _expected_filters(kind: str) -> set[str]:
    classes = CLASS_STYLES.get(kind)
    if classes is None:
        return set()
    return {
        f'"{classes.column}"' if value == "True" else f"\"{classes.column}\" = '{value}'"
        for value in classes.styles
    } | {"ELSE"}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["layers.gpkg", "conflicts.gpkg"])
def test_layer_styles_are_well_formed_qml(hostile_run, name):
    with sqlite3.connect(hostile_run / name) as db:
        rows = db.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall()
    assert rows
    for table, qml in rows:
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        filters = {rule.get("filter") for rule in root.iter("rule")}
        if table == "conflicts":
            assert "ELSE" in filters and len(filters) == 4
        else:
            assert filters == _expected_filters(table), table


HOSTILE_CLASSES = ["\\' OR 1=1 --", "a'b", "a\\", "line\nbreak", "tab\there", '"quoted"']


@pytest.mark.qgis
def test_qgis_matches_hostile_class_values_exactly(tmp_path):
    from test_qgis_styles import qgis

    column = 'cat"egory'
    values = [*HOSTILE_CLASSES, "other"]
    frame = gpd.GeoDataFrame(
        {column: values},
        geometry=[box(100 * i, 0, 100 * i + 50, 50) for i in range(len(values))],
        crs=EPSG,
    )
    path = tmp_path / "classes.gpkg"
    frame.to_file(path, layer="areas", driver="GPKG")
    classes = Classes(column, {v: Style("#000000", "#ff0000") for v in HOSTILE_CLASSES})
    qml = layer_qml("protected_areas", "polygon", classes=classes)
    write_layer_styles(path, {"areas": LayerStyle("hostile", qml)})
    info = qgis(path, "areas")["areas"]
    assert info["valid"]
    drawn = {rule["label"]: rule["features"] for rule in info["rules"]}
    assert drawn == {**dict.fromkeys(HOSTILE_CLASSES, 1), "其他": 1}


# --- CSV export ------------------------------------------------------------------


def test_csv_cells_are_never_formulas_and_numbers_stay_numbers(tmp_path):
    names = [*PAYLOADS[:8], "-12.5", "平昌县化工园区"]
    parks = gpd.GeoDataFrame(
        {
            "BSM": [f"P{i}" for i in range(len(names))],
            "MC": names,
            "=cmd": ["x"] * len(names),
            "说明": names,
            "高差": [-2.5 * i for i in range(len(names))],
        },
        geometry=[box(1000 * i, 0, 1000 * i + 500, 500) for i in range(len(names))],
        crs=EPSG,
    )
    project = write_project(tmp_path, {"parks": parks})
    out = tmp_path / "csv"
    done = subprocess.run(
        [*GEOPLAN, "export", str(project), "--out", str(out), "--format", "csv"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    with open(out / "parks.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == [csv_text(n.strip()) for n in names]
    assert [r["说明"] for r in rows] == [csv_text(n) for n in names]  # not trimmed
    assert [r["name"] for r in rows][:4] == [
        '\'=HYPERLINK("http://x","x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(1)",
    ]
    assert rows[8]["name"] == "-12.5" and rows[9]["name"] == "平昌县化工园区"
    assert [float(r["area_m2"]) for r in rows] == pytest.approx([250_000.0] * len(names), rel=0.01)
    assert "'=cmd" in rows[0] and "=cmd" not in rows[0]
    assert [float(r["高差"]) for r in rows] == [-2.5 * i for i in range(len(names))]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            assert not value.startswith("-") or re.fullmatch(r"-[\d.]+", value), value


def test_csv_text_rule():
    assert csv_text("=1+1") == "'=1+1"
    assert csv_text("\r=1") == "'\r=1"
    assert csv_text("-2+3") == "'-2+3"
    assert csv_text("-2.5") == "-2.5" and csv_text("+1e3") == "+1e3"
    assert csv_text("a=1") == "a=1" and csv_text("") == ""


def test_shapefile_long_text_sidecar_is_neutralised(tmp_path):
    long = "=" + "园区规划说明" * 50
    parks = gpd.GeoDataFrame(
        {"BSM": ["P1"], "MC": ["园区"], "SM": [long]},
        geometry=[box(0, 0, 500, 500)],
        crs=EPSG,
    )
    project = write_project(tmp_path, {"parks": parks})
    out = tmp_path / "shp"
    done = subprocess.run(
        [*GEOPLAN, "export", str(project), "--out", str(out), "--format", "shp"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    with open(out / "parks.long_text.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[1][1:] == ["SM", "'" + long]
