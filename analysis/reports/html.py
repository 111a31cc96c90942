"""``report.html``: the report to read on screen and print, self-contained.

The verdict first (a box coloured by 通过 / 需整改 / 不通过, its reason and
rule), then the land the conflicts take by severity (cards, table, charts
as inline SVG with a panel per severity), the control lines, the 问题清单
(prohibited first, with locations, citations and remedies; at most
:data:`HTML_FINDINGS` of each severity, with a note that the full list is
in report.xlsx and report.json), each rule's conclusion, the static
overview figure as a ``data:`` image, the interactive ``map.html`` beside it
in an iframe (left out when printing), the tables by rule, county and
township, the plan targets, land classes, terrain and the run's inputs.
Everything comes from the report data model; every value is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape
from typing import Any

from geoplan.analysis.reports.format import chinese_datetime, display_width, fmt, number
from geoplan.analysis.reports.svg import severity_bars
from geoplan.analysis.reports.tables import (
    Table,
    control_line_table,
    county_table,
    document_title,
    headline,
    issue_table,
    issue_tally,
    land_class_table,
    layer_table,
    place,
    rule_status_table,
    rule_table,
    severity_table,
    target_table,
    terrain_table,
    township_table,
    verdict_lines,
)
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES
from geoplan.maps.style import SEVERITY_STYLES

#: Findings of each severity the page lists (the largest first); the 问题清单 in
#: full is in report.xlsx and report.json — a city's tens of thousands made a
#: page of 37 MB that no browser shows usably.
HTML_FINDINGS = 500
#: Display width (columns) up to which a text column's values do not wrap.
_SHORT = 12
#: Border colour of the verdict box by verdict status.
_VERDICT_COLORS = {"fail": "#c62828", "conditional": "#ef6c00", "pass": "#2e7d32"}

_CSS = """
body { font: 14px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "SimSun",
       sans-serif; color: #222; margin: 24px auto; max-width: 1180px; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #444; padding-bottom: 2px; margin-top: 28px; }
.meta { color: #555; font-size: 13px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.card { border-radius: 6px; padding: 10px 16px; min-width: 180px; color: #111;
        border-left: 8px solid; background: #f7f7f7; }
.card b { font-size: 22px; display: block; }
.verdict { border: 3px solid; border-radius: 6px; padding: 8px 16px; margin: 12px 0; }
.verdict b { font-size: 22px; }
.verdict p { margin: 4px 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.short { white-space: nowrap; }
tr { page-break-inside: avoid; }
tr.fail td { background: #fde0dc; }
.chart text { font-size: 12px; } .chart .chart-title { font-weight: bold; font-size: 13px; }
.chart .chart-panel { font-weight: bold; }
.figure img { width: 100%; max-width: 860px; border: 1px solid #ccc; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 14px; height: 10px; margin-right: 4px; }
iframe { width: 100%; height: 640px; border: 1px solid #ccc; }
@media print { .screen-only { display: none; } body { margin: 0; max-width: none; }
               h2 { page-break-after: avoid; } }
"""


def html_table(table: Table) -> str:
    """A table as HTML, ``id`` its key; numbers right-aligned, failed rows marked.

    A text column whose values are all short (a severity, a county) does not
    wrap, so "禁止" or "通江县" never breaks one character per line.
    """
    ident = f' id="{escape(table.key)}"'
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headings)
    texts = [[fmt(row[c.key], c.kind) for c in table.columns] for row in table.rows]
    short = [
        c.kind == "text" and all(display_width(r[i]) <= _SHORT for r in texts)
        for i, c in enumerate(table.columns)
    ]
    classes = [
        ' class="num"' if c.kind != "text" else ' class="short"' if short[i] else ""
        for i, c in enumerate(table.columns)
    ]
    rows = []
    for row, values in zip(table.rows, texts, strict=True):
        cells = "".join(f"<td{k}>{escape(v)}</td>" for k, v in zip(classes, values, strict=True))
        rows.append(f'<tr class="fail">{cells}</tr>' if table.failed(row) else f"<tr>{cells}</tr>")
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _verdict(report: Mapping[str, Any]) -> str:
    verdict = report["verdict"]
    first, *rest = verdict_lines(report)
    lines = "".join(f"<p>{escape(line)}</p>" for line in rest)
    return (
        f'<div class="verdict" id="verdict" style="border-color: '
        f'{_VERDICT_COLORS[verdict["status"]]}"><b>{escape(first)}</b>{lines}</div>'
    )


def _cards(report: Mapping[str, Any]) -> str:
    cards = []
    for row in report["summary"]["by_severity"]:
        color = SEVERITY_STYLES[row["severity"]].color
        cards.append(
            f'<div class="card" style="border-color: {color}">{escape(row["title"])}类'
            f"<b>涉及土地 {number(row['land_area_mu'])} 亩</b>"
            f"{fmt(row['conflicts'], 'int')} 处 · {number(row['land_area_ha'])} 公顷</div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _charts(report: Mapping[str, Any]) -> str:
    summary = report["summary"]
    panels_rule, panels_county = [], []
    for s in SEVERITIES:
        heading, color = f"{SEVERITY_TITLES[s]}类", SEVERITY_STYLES[s].color
        rules = [r for r in summary["by_rule"] if r["severity"] == s and r["conflicts"]]
        panels_rule.append((heading, color, [(r["title"], r["land_area_mu"]) for r in rules]))
        counties = [r for r in summary["by_county"] if r["severity"] == s]
        bars = [(place(r["county"]), r["land_area_mu"]) for r in counties]
        panels_county.append((heading, color, bars))
    by_rule = severity_bars(panels_rule, unit="亩", title="涉及土地（亩），按严重程度与规则")
    by_county = severity_bars(panels_county, unit="亩", title="涉及土地（亩），按严重程度与县区")
    return f"<div>{by_rule}</div><div>{by_county}</div>"


def _issues(report: Mapping[str, Any]) -> list[str]:
    """The 问题清单: up to :data:`HTML_FINDINGS` of each severity, and where the rest are."""
    table = issue_table(report, per_severity=HTML_FINDINGS)
    if not table.rows:
        return []
    section = [f"<h2>{escape(table.title)}</h2>"]
    if len(table.rows) < len(report["issues"]):
        note = (
            f"共 {issue_tally(report)}；本节各严重程度只列涉及土地最多的前 {HTML_FINDINGS:,} 项，"
            f"共 {len(table.rows):,} 项。完整问题清单见 report.xlsx（“问题清单”表）"
            "与 report.json（issues）。"
        )
        section.append(f'<p class="note" id="issues-note">{escape(note)}</p>')
    return [*section, html_table(table)]


def _inputs(report: Mapping[str, Any]) -> str:
    inputs = report["inputs"]
    files = "".join(
        f"<tr><td>{escape(f['path'])}</td><td><code>{escape(f['sha256'])}</code></td></tr>"
        for f in inputs["files"]
    )
    return (
        f"<p>项目文件 {escape(inputs['project_file'])}（SHA-256 "
        f"<code>{escape(inputs['project_sha256'])}</code>），工作坐标系 "
        f"{escape(inputs['working_crs'])}。</p>"
        '<table id="files"><thead><tr><th>文件</th><th>SHA-256</th></tr></thead>'
        f"<tbody>{files}</tbody></table>"
        + html_table(
            layer_table(report).only("title", "source", "source_crs", "features", "area_km2")
        )
    )


def _legend(items: list[tuple[str, str]]) -> str:
    spans = "".join(
        f'<span><i style="background: {color}"></i>{escape(label)}</span>' for label, color in items
    )
    return f'<div class="legend">{spans}</div>'


def render_html(
    report: Mapping[str, Any],
    *,
    overview_png: bytes | None,
    legend: list[tuple[str, str]],
    map_file: str | None = "map.html",
) -> str:
    """The HTML report.

    Parameters
    ----------
    report : mapping
        The report data model (``report.json``).
    overview_png : bytes, optional
        The static overview figure.
    legend : list of (str, str)
        Label and colour of what the figure shows.
    map_file : str, optional
        The interactive map beside the report (relative URL), or None.
    """
    figure = ""
    if overview_png is not None:
        data = base64.b64encode(overview_png).decode("ascii")
        figure = (
            f'<div class="figure"><img alt="冲突分布概览图" src="data:image/png;base64,{data}">'
            f"{_legend(legend)}</div>"
        )
    interactive = ""
    if map_file:
        interactive = (
            f'<div class="screen-only"><h2>交互地图</h2><p><a href="{escape(map_file)}">'
            f'在新窗口打开 {escape(map_file)}</a></p><iframe src="{escape(map_file)}" '
            'title="交互地图"></iframe></div>'
        )
    started = chinese_datetime(report["run"]["started"])
    sections = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(document_title(report))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(document_title(report))}</h1>",
        f'<p class="meta">检查时间 {escape(started)} · geoplan '
        f"{escape(report['tool']['version'])} · 规则包 "
        f"{escape('、'.join(report['rule_packs']))}</p>",
        "<h2>审查结论</h2>",
        _verdict(report),
        "<h2>概况</h2>",
        f"<p>{escape(headline(report))}</p>",
        _cards(report),
        html_table(severity_table(report)),
        _charts(report),
    ]
    lines = control_line_table(report)
    if lines.rows:
        sections += [f"<h2>{escape(lines.title)}</h2>", html_table(lines)]
    sections += _issues(report)
    sections += [
        f"<h2>{escape(rule_status_table(report).title)}</h2>",
        html_table(rule_status_table(report)),
        "<h2>冲突分布概览图</h2>",
        figure,
        interactive,
        "<h2>按规则</h2>",
        html_table(rule_table(report)),
        "<h2>按县区</h2>",
        html_table(county_table(report)),
        "<h2>按乡镇（乡镇级主体功能区）</h2>",
        html_table(township_table(report)),
        "<h2>规划指标对照</h2>",
    ]
    targets = target_table(report)
    sections.append(html_table(targets) if targets.rows else "<p>项目未设指标。</p>")
    for table in (land_class_table(report), terrain_table(report)):
        if table.rows:
            sections += [f"<h2>{escape(table.title)}</h2>", html_table(table)]
    sections += ["<h2>输入数据</h2>", _inputs(report), "</body></html>"]
    return "\n".join(sections)
