"""``report.docx``: the 审查报告 a bureau signs (python-docx).

A centred title, a 目录 (a TOC field Word and WPS fill in), page numbers
(第 X 页 共 Y 页), then 一、基本情况 (project, layers, inputs with their
SHA-256), 二、审查依据 (rule packs and each rule's citation), 三、审查方法,
四、审查结果 (by severity, rule, control line, county and township, plan
targets, terrain, land classes, the overview figure), 五、审查结论 (the
verdict and each rule's status), 六、问题清单与处置建议 (:mod:`.docx_issues`,
with a small map per prohibited group), the signature block and the
appendix of conflicts. Every table fits its page (:mod:`.docx_tables`);
page, fonts and fields are in :mod:`.docx_styles`.

Data values are only ever the text of runs (python-docx and lxml escape
them; no field, hyperlink or markup is built from data), and the characters
XML cannot hold are removed from the report before anything is written.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Cm

from geoplan.analysis.citations import shown_quote
from geoplan.analysis.reports.docx_issues import add_appendix, add_issues, add_signature
from geoplan.analysis.reports.docx_styles import add_toc, fill_toc, headings, set_up
from geoplan.analysis.reports.docx_tables import add_fitted
from geoplan.analysis.reports.format import chinese_datetime, number
from geoplan.analysis.reports.tables import (
    Column,
    Table,
    control_line_table,
    county_table,
    document_title,
    headline,
    land_class_table,
    layer_table,
    rule_status_table,
    rule_table,
    severity_table,
    target_table,
    terrain_table,
    township_table,
)
from geoplan.geo.text import xml_safe
from geoplan.layers.vocabulary import SEVERITY_TITLES

_INPUT_KINDS = {
    "vector": "矢量数据",
    "raster": "栅格数据",
    "project": "项目文件",
    "rule_pack": "规则包",
}
_METHOD = (
    "各规则按其空间关系（不得重叠、须位于其内、不得位于缓冲距离内等）在工作坐标系中"
    "逐要素求交，得到冲突图形；每处冲突再按乡镇边界切分，记录所在县区、乡镇及其乡镇级"
    "主体功能区。",
    "面积一律按 CGCS2000 椭球面计算（与国土调查的面积口径一致），不用高斯投影平面面积；"
    "1 亩 = 10000/15 平方米，1 公顷 = 10000 平方米。",
    "小于规则容差的碎片（多为两图层边界不完全重合造成）不计为冲突；按乡镇切分后不足 0.01 亩"
    "的零碎部分同样计为碎片。各规则剔除的碎片个数列于规则表。",
    "同一块土地可能被多条规则同时发现。“冲突面积合计”逐条相加；“涉及土地面积”取各冲突"
    "图形的并集，同一块土地只计一次。结论、问题清单均以涉及土地面积为准。",
)


def _present(table: Table, *keys: str) -> Table:
    """``table`` with the columns of ``keys`` that it has, in that order."""
    have = {c.key for c in table.columns}
    return table.only(*(k for k in keys if k in have))


def _basics(document: DocumentObject, report: Mapping[str, Any]) -> None:
    document.add_heading("一、基本情况", level=1)
    inputs = report["inputs"]
    provenance = report.get("provenance")
    started = (provenance or report["run"])["started"]
    document.add_heading("（一）项目概况", level=2)
    lines = [
        f"项目名称：{report['project']['name']}",
        f"项目文件：{inputs['project_file']}",
        f"工作坐标系：{inputs['working_crs']}（面积按 CGCS2000 椭球面计算）",
        f"审查开始时间：{chinese_datetime(started)}",
    ]
    if provenance:
        lines += [
            f"审查完成时间：{chinese_datetime(provenance['finished'])}"
            f"（用时 {number(provenance['duration_s'], 1)} 秒）",
            f"运行结果代码：{provenance['exit_status']}",
        ]
    lines.append(f"审查工具：geoplan {report['tool']['version']}")
    for line in lines:
        document.add_paragraph(line)
    document.add_heading("（二）审查图层", level=2)
    add_fitted(document, layer_table(report).only("title", "source", "features", "area_km2"))
    if provenance:
        rows = [
            {
                "path": item["path"],
                "kind": _INPUT_KINDS.get(item["kind"], item["kind"]),
                "bytes": item["bytes"],
                "sha256": item["sha256"],
            }
            for item in provenance["inputs"]
        ]
        columns = (
            Column("path", "文件"),
            Column("kind", "类型"),
            Column("bytes", "大小（字节）", "int"),
            Column("sha256", "SHA-256 校验值"),
        )
        add_fitted(
            document,
            Table("provenance", "输入文件", columns, rows),
            heading=(2, "（三）输入文件及其校验值"),
            note="每个输入文件（矢量、栅格、项目文件、规则包）的 SHA-256 校验值如下；"
            "文件有任何改动，校验值即不同。",
        )


def _basis(document: DocumentObject, report: Mapping[str, Any]) -> None:
    document.add_heading("二、审查依据", level=1)
    document.add_paragraph(
        f"本次审查采用规则包 {'、'.join(report['rule_packs'])}，"
        f"共 {len(report['summary']['by_rule'])} 条规则。"
        "各规则及其依据如下（原文未经逐字核对的，只列条目）："
    )
    for rule in report["summary"]["by_rule"]:
        citation = rule["citation"]
        quote = shown_quote(citation["quote"], citation["quote_confirmed"])
        text = (
            f"{rule['title']}（{SEVERITY_TITLES.get(rule['severity'], rule['severity'])}）："
            f"{citation['text']}"
        )
        text += f"——“{quote}”" if citation["quote_confirmed"] else f"——{quote}"
        document.add_paragraph(text, style="List Bullet")


def _method(document: DocumentObject) -> None:
    document.add_heading("三、审查方法", level=1)
    for text in _METHOD:
        document.add_paragraph(text)


def _results(
    document: DocumentObject, report: Mapping[str, Any], overview_png: bytes | None
) -> None:
    document.add_heading("四、审查结果", level=1)
    document.add_paragraph(headline(report))
    add_fitted(document, severity_table(report))
    if overview_png is not None:
        frame = document.add_paragraph()
        frame.add_run().add_picture(io.BytesIO(overview_png), width=Cm(15.5))
        frame.alignment = WD_ALIGN_PARAGRAPH.CENTER
        caption = document.add_paragraph("图 1　冲突分布概览图（红：禁止；橙：限制；蓝：提示）")
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    area_keys = ("conflicts", "land_area_mu", "area_mu", "area_ha")
    sections = [
        ("按规则", _present(rule_table(report), "title", "severity", *area_keys, "slivers")),
        ("三条控制线占用", control_line_table(report)),
        ("按县区", _present(county_table(report), "county", "severity", *area_keys)),
        ("按乡镇", _present(township_table(report), "county", "township", "severity", *area_keys)),
    ]
    targets = target_table(report)
    if targets.rows:
        keys = ("indicator", "unit", "constraint", "target", "measured", "difference", "status")
        sections.append(("规划指标对照", targets.only(*keys)))
    terrain = terrain_table(report)
    if terrain.rows:
        sections.append(("乡镇地形（由数字高程模型按覆盖比例加权统计）", terrain))
    land = land_class_table(report)
    if land.rows:
        sections.append(("压占地类（扣除田坎前后）", land))
    numerals = "一二三四五六七八九十"
    for i, (title, table) in enumerate(sections):
        add_fitted(document, table, heading=(2, f"（{numerals[i]}）{title}"))


def _conclusion(document: DocumentObject, report: Mapping[str, Any]) -> None:
    document.add_heading("五、审查结论", level=1)
    verdict = report.get("verdict")
    if verdict:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"审查结论：{verdict['title']}。").bold = True
        paragraph.add_run(verdict["reason"])
    add_fitted(document, rule_status_table(report))


def render_docx(
    report: Mapping[str, Any],
    *,
    overview_png: bytes | None,
    issue_maps: Mapping[str, bytes] | None = None,
) -> bytes:
    """The 审查报告 of a report (the ``report.json`` data model), as bytes.

    Parameters
    ----------
    report : mapping
        The report model.
    overview_png : bytes, optional
        The overview figure.
    issue_maps : mapping of str to bytes, optional
        The small map (PNG) of each prohibited issue group, by issue id
        (:func:`analysis.reports.finding_maps.finding_maps`).
    """
    # The rows are made XML-safe where they are shown: of a city's tens of
    # thousands of conflicts and findings the document shows a thousand or so.
    report = {k: v if k in ("conflicts", "issues") else xml_safe(v) for k, v in report.items()}
    document = Document()
    set_up(document)
    title = document.add_paragraph(document_title(report), style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    started = (report.get("provenance") or report["run"])["started"]
    date = document.add_paragraph(f"审查时间：{chinese_datetime(started)}")
    date.alignment = WD_ALIGN_PARAGRAPH.CENTER
    toc = add_toc(document)
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _basics(document, report)
    _basis(document, report)
    _method(document)
    _results(document, report, overview_png)
    _conclusion(document, report)
    add_issues(document, report, issue_maps or {})
    add_signature(document, started)
    add_appendix(document, report)
    fill_toc(toc, headings(document))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
