"""六、问题清单与处置建议, the signature block and the appendix of ``report.docx``.

Each prohibited issue group (``report["issues"]``, severity then land area)
gets an entry: location, centre coordinates, the two features, land area,
the rule and its citation, the remedy with its basis, and its small map
(:mod:`.finding_maps`). The restricted groups follow as one table; their
remedies are given once per rule. Beyond :data:`MAX_ENTRIES` prohibited
entries or :data:`APPENDIX_ROWS` table rows the document says how many there
are and points to ``report.xlsx`` (问题清单) and ``map.html``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.shape import CT_Inline
from docx.shared import Cm, Length, Pt
from docx.text.paragraph import Paragraph

from geoplan.analysis.reports.docx_tables import add_fitted
from geoplan.analysis.reports.finding_maps import MAX_FINDING_MAPS
from geoplan.analysis.reports.format import chinese_date, number
from geoplan.analysis.reports.tables import Column, Table, conflict_table, feature_label, place
from geoplan.geo.text import xml_safe

#: Prohibited issue groups described one by one (each with its map) at most.
MAX_ENTRIES = MAX_FINDING_MAPS
#: Rows of the restricted-issue table and of the conflict appendix at most.
APPENDIX_ROWS = 1000
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


def _features(issue: Mapping[str, Any]) -> str:
    labels = (
        feature_label(issue[f"{s}_kind"], issue[f"{s}_id"], issue[f"{s}_name"])
        for s in ("left", "right")
    )
    return "与".join(label for label in labels if label)


def _where(issue: Mapping[str, Any]) -> str:
    counties = "、".join(issue["counties"]) or place(None)
    townships = "、".join(issue["townships"]) or place(None)
    return f"{counties}　{townships}"


def _centre(issue: Mapping[str, Any]) -> str:
    return f"东经 {issue['centre_lon']:.6f}°，北纬 {issue['centre_lat']:.6f}°"


def remedy_text(remedy: Mapping[str, Any] | None) -> str:
    """The remedy and where it comes from: its citation, or 实践做法."""
    if not remedy:
        return "规则包未给出处置建议，按有关规定处理。"
    basis = remedy["citation"]["text"] if remedy.get("citation") else "实践做法"
    return f"{remedy['text']}（依据：{basis}）"


class _Pictures:
    """Adds the issues' maps, counting the drawing ids from the first python-docx gives.

    python-docx's ``add_picture`` searches the whole document for the next
    id each time: a second per hundred maps after a long table.
    """

    def __init__(self, document: Document) -> None:
        self.part = document.part
        self.shape_id = self.part.next_id
        self.caption = document.styles["Caption"].style_id

    def add(self, paragraph: Paragraph, png: bytes, width: Length) -> None:
        rid, image = self.part.get_or_add_image(io.BytesIO(png))
        cx, cy = image.scaled_dimensions(width, None)
        inline = CT_Inline.new_pic_inline(self.shape_id, rid, image.filename, cx, cy)
        paragraph.add_run()._r.add_drawing(inline)
        self.shape_id += 1


def _entry(
    document: Document,
    issue: Mapping[str, Any],
    rule: Mapping[str, Any],
    picture: bytes | None,
    figure: int,
    pictures: _Pictures,
) -> int:
    """One prohibited issue; returns the next figure number."""
    heading = document.add_paragraph()
    heading.paragraph_format.keep_with_next = True
    heading.paragraph_format.space_before = Pt(8)
    heading.add_run(f"问题 {issue['number']}　{issue['rule_title']}").bold = True
    lines = (
        ("位置", _where(issue)),
        (
            "中心点坐标",
            f"{_centre(issue)}（CGCS2000）；"
            f"X = {number(issue['centre_x'])} 米，Y = {number(issue['centre_y'])} 米（工作坐标系）",
        ),
        ("涉及要素", _features(issue)),
        (
            "涉及土地",
            f"{number(issue['land_area_mu'])} 亩（{number(issue['land_area_ha'])} 公顷），"
            f"冲突 {issue['conflicts']:,} 处",
        ),
        ("审查依据", rule["citation"]["text"]),
        ("处置建议", remedy_text(rule["remedy"])),
    )
    for label, text in lines:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(1)
        paragraph.paragraph_format.keep_with_next = picture is not None
        paragraph.add_run(f"{label}：").bold = True
        paragraph.add_run(text)
    if picture is None:
        return figure
    frame = document.add_paragraph()
    pictures.add(frame, picture, Cm(8.5))
    frame.alignment = WD_ALIGN_PARAGRAPH.CENTER
    frame.paragraph_format.keep_with_next = True
    caption = document.add_paragraph(
        f"图 {figure}　问题 {issue['number']} 位置图（中心点 {_centre(issue)}）"
    )
    caption._p.style = pictures.caption  # by id: a lookup by name walks every style
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return figure + 1


def _restricted_table(issues: list[Mapping[str, Any]]) -> Table:
    rows = [
        {
            "number": i["number"],
            "rule": i["rule_title"],
            "where": _where(i),
            "features": _features(i),
            "centre": f"{i['centre_lon']:.6f}，{i['centre_lat']:.6f}",
            "land_area_mu": i["land_area_mu"],
        }
        for i in issues
    ]
    columns = (
        Column("number", "序号", "int"),
        Column("rule", "规则"),
        Column("where", "位置"),
        Column("features", "涉及要素"),
        Column("centre", "中心点（经度，纬度）"),
        Column("land_area_mu", "涉及土地（亩）", "area"),
    )
    return Table("restricted_issues", "限制类问题", columns, rows)


def add_issues(document: Document, report: Mapping[str, Any], maps: Mapping[str, bytes]) -> None:
    """六、问题清单与处置建议: the prohibited entries with maps, then the restricted table."""
    document.add_heading("六、问题清单与处置建议", level=1)
    issues = report.get("issues", [])
    prohibited = [i for i in issues if i["severity"] == "prohibited"]
    restricted = [i for i in issues if i["severity"] == "restricted"]
    shown = xml_safe([*prohibited[:MAX_ENTRIES], *restricted[:APPENDIX_ROWS]])
    document.add_paragraph(
        f"同一规则在同一对要素之间的冲突归为一个问题（跨乡镇的合并），按严重程度、再按涉及土地"
        f"面积从大到小编号：禁止类 {len(prohibited):,} 个，限制类 {len(restricted):,} 个；"
        "提示类冲突不列为问题，见附录。全部问题另见 report.xlsx 的“问题清单”表。"
    )
    document.add_heading("（一）禁止类问题", level=2)
    if not prohibited:
        document.add_paragraph("未发现禁止类问题。")
    if len(prohibited) > MAX_ENTRIES:
        document.add_paragraph(
            f"以下逐个列出涉及土地最多的前 {MAX_ENTRIES:,} 个禁止类问题并附位置图；"
            f"其余 {len(prohibited) - MAX_ENTRIES:,} 个见 report.xlsx 的“问题清单”表，"
            "位置见 map.html。"
        )
    # An issue's citation and remedy are its rule's (``summary.by_rule``, by rule id).
    rules = {r["rule_id"]: r for r in report["summary"]["by_rule"]}
    figure = 2
    pictures = _Pictures(document)
    for issue in shown[: min(len(prohibited), MAX_ENTRIES)]:
        rule = rules[issue["rule_id"]]
        figure = _entry(document, issue, rule, maps.get(issue["issue_id"]), figure, pictures)
    document.add_heading("（二）限制类问题", level=2)
    if not restricted:
        document.add_paragraph("未发现限制类问题。")
        return
    document.add_paragraph("各规则的处置建议：")
    for rule_id in dict.fromkeys(i["rule_id"] for i in restricted):
        rule = rules[rule_id]
        document.add_paragraph(
            f"{rule['title']}：{remedy_text(rule['remedy'])}", style="List Bullet"
        )
    if len(restricted) > APPENDIX_ROWS:
        document.add_paragraph(
            f"下表列出前 {APPENDIX_ROWS:,} 个；"
            f"全部 {len(restricted):,} 个见 report.xlsx 的“问题清单”表。"
        )
    add_fitted(document, _restricted_table(shown[min(len(prohibited), MAX_ENTRIES) :]))


def add_signature(document: Document, started: str) -> None:
    """The signature block: 审查单位（盖章）, 审查人, 审核人 and the date of the run."""
    document.add_paragraph()
    for text in ("审查单位（盖章）：", "审查人：", "审核人：", f"日期：{chinese_date(started)}"):
        paragraph = document.add_paragraph(text)
        paragraph.paragraph_format.left_indent = Cm(8.5)
        paragraph.paragraph_format.space_before = Pt(10)


def add_appendix(document: Document, report: Mapping[str, Any]) -> None:
    """附录　冲突明细: the first :data:`APPENDIX_ROWS` conflicts (the rest in report.xlsx)."""
    total = len(report["conflicts"])
    conflicts = conflict_table(report, limit=APPENDIX_ROWS)
    conflicts = replace(conflicts, rows=xml_safe(conflicts.rows))
    shown = f"此处列出前 {APPENDIX_ROWS:,} 处，全部见" if total > APPENDIX_ROWS else "另见"
    add_fitted(
        document,
        conflicts.only(*_APPENDIX_COLUMNS),
        heading=(1, "附录　冲突明细"),
        note=f"共 {total:,} 处，{shown} report.xlsx 的“冲突明细”表。",
        new_page=True,
    )
