"""``report.md``: the summary in Markdown, for a merge request or a chat.

Every value put into the document — names, ids, the project name, citations,
table cells, numbers — goes through :func:`md_text`, so it shows as its
characters whatever the renderer sanitises: no raw HTML, no link, emphasis or
code span, no extra table cell or line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from geoplan.analysis.reports.format import chinese_datetime, fmt
from geoplan.analysis.reports.html import HTML_FINDINGS
from geoplan.analysis.reports.tables import (
    Table,
    control_line_table,
    document_title,
    headline,
    rule_status_table,
    serious_table,
    severity_table,
    target_table,
    verdict_lines,
)

#: Findings listed in the Markdown summary (the rest are in report.html and report.xlsx).
MD_TOP = 10
#: The columns each table of the summary shows (by key; the tables have more).
_RULE_COLUMNS = ("rule_id", "title", "severity", "status", "conflicts", "land_area_mu", "note")
_TARGET_COLUMNS = (
    "indicator",
    "unit",
    "constraint",
    "target",
    "measured",
    "difference_pct",
    "status",
)
_SERIOUS_COLUMNS = (
    "number",
    "severity",
    "rule_title",
    "features",
    "location",
    "centre",
    "land_area_mu",
    "remedy",
)


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Characters that open a Markdown construct anywhere in a line (GitHub's math
# included); a data value never starts a line, so block syntax needs none.
_MARKDOWN = frozenset("\\`*_[]|~$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def md_text(value: Any) -> str:
    """A value as Markdown text that renders as exactly its characters, on one line.

    Parameters
    ----------
    value : Any
        Converted with ``str``.

    Returns
    -------
    str
        ``&``, ``<`` and ``>`` as character references, Markdown punctuation
        backslash-escaped (``|`` too, so a table cell stays one cell), and
        each run of control characters (line breaks, tabs) as one space.
    """
    text = _CONTROL.sub(" ", str(value))
    return "".join(_HTML.get(ch) or ("\\" + ch if ch in _MARKDOWN else ch) for ch in text)


def markdown_table(table: Table) -> str:
    """A GitHub-flavoured Markdown table of ``table`` (numbers right-aligned)."""
    align = ["---:" if c.kind != "text" else "---" for c in table.columns]
    lines = [
        "| " + " | ".join(md_text(c.heading) for c in table.columns) + " |",
        "| " + " | ".join(align) + " |",
    ]
    for row in table.rows:
        cells = [md_text(fmt(row[c.key], c.kind)) for c in table.columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(report: Mapping[str, Any]) -> str:
    """The Markdown summary of a report (the ``report.json`` data model).

    The verdict and the headline (land taken, counted once) lead, then the
    most serious findings — prohibited first — with their remedies, each
    rule's conclusion (符合 / 不符合 / 未检查 and why), and the plan targets.
    """
    verdict, *reasons = verdict_lines(report)
    parts = [
        f"# {md_text(document_title(report))}",
        "",
        f"检查时间 {md_text(chinese_datetime(report['run']['started']))} · "
        f"geoplan {md_text(report['tool']['version'])} · "
        f"规则包 {md_text('、'.join(report['rule_packs']))}",
        "",
        f"**{md_text(verdict)}**",
        "",
        *(f"- {md_text(line)}" for line in reasons),
        "",
        md_text(headline(report)),
        "",
    ]
    serious = serious_table(report, MD_TOP)
    if serious.rows:
        parts += [
            f"## {md_text(serious.title)}",
            "",
            markdown_table(serious.only(*_SERIOUS_COLUMNS)),
        ]
        parts += [
            "",
            f"完整问题清单（{len(report['issues']):,} 项）见 `report.xlsx`、`report.json`"
            f"（`report.html` 各严重程度列出涉及土地最多的前 {HTML_FINDINGS:,} 项）。",
            "",
        ]
    parts += ["## 按严重程度", "", markdown_table(severity_table(report)), ""]
    lines = control_line_table(report)
    if lines.rows:
        parts += [f"## {md_text(lines.title)}", "", markdown_table(lines), ""]
    rules = rule_status_table(report).only(*_RULE_COLUMNS)
    parts += [f"## {md_text(rules.title)}", "", markdown_table(rules), ""]
    targets = target_table(report).only(*_TARGET_COLUMNS)
    if targets.rows:
        parts += ["## 规划指标对照", "", markdown_table(targets), ""]
    parts += [
        "完整结果：`report.html`（可打印）、`report.xlsx`、`report.docx`、`map.html`（离线地图）、"
        "`conflicts.gpkg`、`report.json`。",
        "",
    ]
    return "\n".join(parts)
