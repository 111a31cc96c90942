"""``diff.md`` (for a merge request) and ``diff.html`` (to read, with the map).

Both lead with the gate and the new findings, most serious first, then the
resolved and changed ones, the plan targets that moved and the layers that
changed. Every value is escaped for its format.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from geoplan.analysis.reports.format import fmt
from geoplan.analysis.reports.md import markdown_table, md_text
from geoplan.analysis.reports.tables import Table
from geoplan.analysis.revisions.figure import CHANGE_COLOURS
from geoplan.analysis.revisions.findings import CHANGE_TITLES
from geoplan.analysis.revisions.tables import (
    LISTED,
    counts_table,
    county_change_table,
    findings_table,
    headline,
    layer_table,
    rule_table,
    target_table,
)

Diff = Mapping[str, Any]


def _tables(diff: Diff) -> list[Table]:
    return [
        counts_table(diff),
        findings_table(diff, "new", "新增冲突"),
        findings_table(diff, "resolved", "已解决的冲突"),
        findings_table(diff, "changed", "变化的冲突"),
        rule_table(diff),
        target_table(diff),
        layer_table(diff),
        county_change_table(diff),
    ]


def _note(diff: Diff, table: Table) -> str:
    change = table.key.removeprefix("findings-")
    total = diff["counts"].get(change)
    if total is not None and total > LISTED:
        return f"仅列出前 {LISTED} 处（共 {total} 处），全部见 diff.json 与 diff.gpkg。"
    return ""


def render_diff_markdown(diff: Diff) -> str:
    """``diff.md``: the headline, then each non-empty table."""
    old, new = diff["old"], diff["new"]
    lines = [
        "# 规划数据版本对比",
        "",
        md_text(headline(diff)),
        "",
        md_text(f"原版本：{old['folder']}（{old['conflicts']} 处冲突）"),
        "",
        md_text(f"新版本：{new['folder']}（{new['conflicts']} 处冲突）"),
        "",
        md_text(f"匹配方法：{diff['tolerance']['text']}。"),
    ]
    for table in _tables(diff):
        if not table.rows:
            continue
        lines += ["", f"## {md_text(table.title)}", "", markdown_table(table)]
        if note := _note(diff, table):
            lines += ["", md_text(note)]
    return "\n".join(lines) + "\n"


_CELL = {True: "num", False: ""}


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{escape(c.heading)}</th>" for c in table.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{_CELL[c.kind != "text"]}">{escape(fmt(row[c.key], c.kind))}</td>'
            for c in table.columns
        )
        + "</tr>"
        for row in table.rows
    )
    return f'<table id="{escape(table.key)}"><tr>{head}</tr>{body}</table>'


_CSS = """
body { font: 14px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #222;
       margin: 24px auto; max-width: 1180px; padding: 0 16px; }
h2 { font-size: 18px; border-bottom: 2px solid #444; margin-top: 28px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; } th { background: #eee; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
.gate { padding: 10px 16px; border-left: 8px solid; background: #f7f7f7; font-size: 16px; }
.gate.fail { border-color: #d7191c; } .gate.pass { border-color: #1a9641; }
.diff-map { width: 100%; max-width: 900px; border: 1px solid #ccc; background: #fff; }
.legend span { margin-right: 14px; } .legend i { display: inline-block; width: 14px;
       height: 10px; margin-right: 4px; }
"""


def render_diff_html(diff: Diff, figure: str) -> str:
    """``diff.html``: self-contained; ``figure`` is :func:`.figure.diff_figure`'s SVG."""
    gate = diff["gate"]
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{escape(CHANGE_TITLES[c])}</span>'
        for c, colour in CHANGE_COLOURS.items()
    )
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        "<title>规划数据版本对比</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>规划数据版本对比</h1>",
        f'<p class="gate {escape(gate["status"])}">{escape(headline(diff))}</p>',
        f"<p>原版本：{escape(diff['old']['folder'])}；新版本：{escape(diff['new']['folder'])}</p>",
        f"<p>匹配方法：{escape(diff['tolerance']['text'])}。</p>",
        f'<h2>变化图</h2><div class="legend">{legend}</div>{figure}',
    ]
    for table in _tables(diff):
        if not table.rows:
            continue
        parts.append(f"<h2>{escape(table.title)}</h2>{_html_table(table)}")
        if note := _note(diff, table):
            parts.append(f"<p>{escape(note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
