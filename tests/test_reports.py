"""The reports: every rendering agrees with report.json and conflicts.gpkg."""

from __future__ import annotations

import ast
import io
import json
import os
import re
import threading
import time
import zipfile

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from docx import Document
from test_map import _loads

from geoplan.analysis.output_steps import Forked, ForkedStepError, Step, can_fork, run_steps
from geoplan.analysis.reports.format import chinese_datetime
from geoplan.analysis.reports.xlsx import render_xlsx
from geoplan.analysis.run import OUTPUT_FILES
from geoplan.geo.errors import OutputError


@pytest.fixture(scope="module")
def report(demo_out):
    return json.loads((demo_out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def expected(demo_out) -> pd.DataFrame:
    """Conflicts and 亩 per rule title, from conflicts.gpkg (read by GDAL)."""
    conflicts = gpd.read_file(demo_out / "conflicts.gpkg", layer="conflicts")
    table = conflicts.groupby("rule_title").agg(n=("conflict_id", "size"), mu=("area_mu", "sum"))
    return table[table["n"] > 0]


def _check(per_rule: dict[str, tuple[float, float]], expected: pd.DataFrame, rows: bool) -> None:
    """Counts equal; 亩 equal to the reports' rounding (0.01 亩, per row when ``rows``)."""
    assert set(per_rule) == set(expected.index)
    for title, (n, mu) in per_rule.items():
        assert n == expected.loc[title, "n"], title
        tolerance = 0.005 * (n if rows else 1) + 1e-6
        assert mu == pytest.approx(expected.loc[title, "mu"], abs=tolerance), title


def test_demo_writes_every_file_of_the_contract(demo_out):
    assert sorted(p.name for p in demo_out.iterdir()) == sorted(OUTPUT_FILES)


def test_report_json_agrees_with_conflicts_gpkg(report, expected):
    rows = {r["title"]: (r["conflicts"], r["area_mu"]) for r in report["summary"]["by_rule"]}
    _check({t: v for t, v in rows.items() if v[0]}, expected, rows=False)
    assert len(report["conflicts"]) == expected["n"].sum()


def test_xlsx_agrees_and_is_a_proper_workbook(demo_out, expected):
    book = openpyxl.load_workbook(demo_out / "report.xlsx")
    assert book.sheetnames[:4] == ["汇总", "冲突明细", "按乡镇", "指标对照"]

    detail = book["冲突明细"]
    header = [c.value for c in detail[1]]
    assert detail.freeze_panes == "A2" and detail.auto_filter.ref.startswith("A1:")
    assert "面积（亩）" in header and "面积（公顷）" in header
    mu_column = header.index("面积（亩）")
    rows = list(detail.iter_rows(min_row=2, values_only=True))
    assert all(isinstance(r[mu_column], int | float) for r in rows)  # numbers, not text
    assert detail.cell(row=2, column=mu_column + 1).number_format == "#,##0.00"
    frame = pd.DataFrame(rows, columns=header)
    per_rule = frame.groupby("规则").agg(n=("冲突编号", "size"), mu=("面积（亩）", "sum"))
    _check({t: (r.n, r.mu) for t, r in per_rule.iterrows()}, expected, rows=True)

    summary = book["汇总"]
    top = next(
        i for i, row in enumerate(summary.iter_rows(values_only=True), 1) if row[0] == "规则编号"
    )
    assert summary.freeze_panes == f"A{top + 1}"
    heading = [c.value for c in summary[top]]
    n, mu = heading.index("冲突数"), heading.index("面积合计（亩）")
    rules = {}
    for row in summary.iter_rows(min_row=top + 1, values_only=True):
        if row[0] is None:
            break
        if row[n]:
            rules[row[1]] = (row[n], row[mu])
    _check(rules, expected, rows=False)
    for sheet in ("按乡镇", "指标对照"):
        assert book[sheet].freeze_panes == "A2" and book[sheet].auto_filter.ref
        assert book[sheet].column_dimensions["A"].width > 8
    targets = book["指标对照"]
    assert [c.value for c in targets[1]][:6] == ["指标", "图层", "单位", "约束", "目标值", "实测值"]
    assert {row[8] for row in targets.iter_rows(min_row=2, values_only=True)} <= {
        "达标",
        "未达标",
        "缺少数据",
    }


def test_xlsx_continues_a_long_table_on_further_sheets(demo_out, report, expected):
    whole = openpyxl.load_workbook(demo_out / "report.xlsx", read_only=True)
    rows = list(whole["冲突明细"].iter_rows(values_only=True))
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(report, sheet_rows=150)), read_only=True)
    n = len(report["conflicts"])
    names = ["冲突明细", *(f"冲突明细（续 {k}）" for k in range(2, (n - 1) // 150 + 2))]
    assert n > 300 and book.sheetnames[1 : 1 + len(names)] == names
    assert book.sheetnames[1 + len(names)] == "按乡镇"
    parts = [list(book[name].iter_rows(values_only=True)) for name in names]
    assert all(part[0] == rows[0] for part in parts)  # each with the header
    assert [len(part) - 1 for part in parts[:-1]] == [150] * (len(names) - 1)
    assert [row for part in parts for row in part[1:]] == rows[1:]  # every row once, in order
    assert len(rows) - 1 == n == expected["n"].sum()


def _docx_table(document: Document, first: str, wanted: str) -> list[list[str]]:
    for table in document.tables:
        header = [c.text for c in table.rows[0].cells]
        if header[0] == first and wanted in header:
            return [header, *([c.text for c in row.cells] for row in table.rows[1:])]
    raise AssertionError(f"no table starting with {first!r}")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_docx_agrees_has_chinese_fonts_a_figure_and_the_appendix(demo_out, expected, report):
    document = Document(demo_out / "report.docx")
    rows = _docx_table(document, "规则", "冲突数")
    header, body = rows[0], rows[1:]
    n, mu = header.index("冲突数"), header.index("面积合计（亩）")
    rules = {
        r[0]: (int(r[n].replace(",", "")), _number(r[mu])) for r in body if r[n] not in ("-", "0")
    }
    _check(rules, expected, rows=False)

    appendix = _docx_table(document, "冲突编号", "面积（亩）")
    assert len(appendix) - 1 == len(report["conflicts"])
    prohibited = [i for i in report["issues"] if i["severity"] == "prohibited"]
    assert len(document.inline_shapes) == 1 + len(prohibited)  # overview, one map per group
    with zipfile.ZipFile(demo_out / "report.docx") as archive:
        styles = archive.read("word/styles.xml").decode("utf-8")
    assert 'w:eastAsia="宋体"' in styles and 'w:eastAsia="黑体"' in styles
    text = "\n".join(p.text for p in document.paragraphs)
    for heading in ("一、基本情况", "二、审查依据", "四、审查结果", "五、审查结论", "附录"):
        assert heading in text
    assert chinese_datetime(report["run"]["started"]) in text


def test_html_agrees_is_self_contained_and_escapes(demo_out, expected, report):
    page = (demo_out / "report.html").read_text(encoding="utf-8")
    table = pd.read_html(io.StringIO(page), attrs={"id": "rules"}, thousands=",")[0]
    table = table[pd.to_numeric(table["冲突数"], errors="coerce").fillna(0) > 0]
    rules = {r["规则"]: (int(r["冲突数"]), float(r["面积合计（亩）"])) for _, r in table.iterrows()}
    _check(rules, expected, rows=False)
    outside = [u for u in _loads(page) if not u.startswith(("data:", "#"))]
    assert outside == ["map.html"]  # the interactive map beside it, a relative link
    assert '<iframe src="map.html"' in page
    assert re.search(r'<img alt="冲突分布概览图" src="data:image/png;base64,', page)
    assert page.count("<svg") == 2
    assert f"共发现冲突 {len(report['conflicts']):,} 处" in page


def test_markdown_summary_agrees(demo_out, expected, report):
    """Each rule's conclusion, conflicts and land area (checked in test_review_report)."""
    text = (demo_out / "report.md").read_text(encoding="utf-8")
    land = {r["title"]: r["land_area_mu"] for r in report["summary"]["by_rule"]}
    for title, row in expected.iterrows():
        cells = rf"\| 不符合 \| {int(row['n']):,} \| {land[title]:,.2f} \|"
        assert re.search(rf"\| {re.escape(title)} \| [^|]+ {cells}", text), title


def test_a_forked_step_returns_its_value_and_raises_its_error_in_the_parent(tmp_path):
    def draw() -> int:  # writes its file itself, sends back a small value
        (tmp_path / "map.html").write_text("<html></html>", encoding="utf-8")
        return os.getpid()

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    assert not can_fork()  # another thread runs: the output stage keeps to threads
    release.set()
    other.join()
    child = Forked(draw)
    pid = child.result()
    child.close()
    assert pid != os.getpid() and (tmp_path / "map.html").read_text(encoding="utf-8")

    def bad() -> None:
        raise OutputError("map.html: disk full")

    child = Forked(bad)
    with pytest.raises(OutputError, match=r"^map\.html: disk full$"):
        child.result()
    child.close()
    child = Forked(lambda: os._exit(3))
    with pytest.raises(ForkedStepError, match="exit status 3"):
        child.result()
    child.close()
    child = Forked(lambda: time.sleep(60))  # the stage failed: the child is ended
    started = time.perf_counter()
    child.close()
    assert time.perf_counter() - started < 30


def _maker(folder, started: list[str], name: str, value: object = None):
    """A step that notes its start, writes its arguments into a file, returns its pid or value."""

    def make(*args):
        started.append(name)
        (folder / name).write_text(repr(args), encoding="utf-8")
        return os.getpid() if value is None else value

    return make


def test_steps_of_a_child_run_in_one_forked_process_after_what_they_need(tmp_path):
    started: list[str] = []

    def step(name, needs=(), value=None, child=None):
        return Step(name, _maker(tmp_path, started, name, value), needs, child=child)

    steps = [
        step("model", value=7),
        step("other"),  # starts only once every child is forked
        step("density", value=3, child="map"),
        step("map", ("density",), child="map"),
        step("xlsx", ("model",), child="reports"),
        step("docx", ("model", "xlsx")),
    ]
    said: list[str] = []
    timings: dict[str, float] = {}
    run_steps(steps, said.append, timings, 2)
    # the children's steps ran in other processes: only the parent's starts are noted here
    assert started == ["model", "other", "docx"]
    assert (tmp_path / "map").read_text(encoding="utf-8") == "(3,)"
    assert (tmp_path / "xlsx").read_text(encoding="utf-8") == "(7,)"
    model, xlsx_pid = ast.literal_eval((tmp_path / "docx").read_text(encoding="utf-8"))
    assert model == 7 and xlsx_pid != os.getpid()  # a child's value, sent back
    assert set(timings) == {s.name for s in steps} and len(said) == len(steps)

    def bad() -> None:
        raise OutputError("map.html: disk full")

    with pytest.raises(OutputError, match=r"^map\.html: disk full$"):
        run_steps([Step("bad", bad, child="c")], said.append, {}, 2)


def test_steps_of_a_child_run_on_the_threads_where_the_process_cannot_fork(tmp_path):
    started: list[str] = []
    steps = [
        Step("x", _maker(tmp_path, started, "x"), child="c"),
        Step("y", _maker(tmp_path, started, "y"), ("x",)),
    ]
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        run_steps(steps, lambda line: None, {}, 2)
    finally:
        release.set()
        other.join()
    assert started == ["x", "y"]
    assert (tmp_path / "y").read_text(encoding="utf-8") == f"({os.getpid()},)"
