"""``report.html``: the report to read on screen and print, self-contained.

Headline and severity cards, charts as inline SVG, the static overview
figure as a ``data:`` image, the interactive ``map.html`` beside it in an
iframe (left out when printing), the tables by rule, county and township,
the plan targets, the largest conflicts with their citations, and the run's
inputs. Everything comes from the report data model; every value is
escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape
from typing import Any

from geoplan.analysis.reports.format import fmt, number
from geoplan.analysis.reports.svg import stacked_bars
from geoplan.analysis.reports.tables import (
    Table,
    county_table,
    headline,
    layer_table,
    place,
    rule_table,
    severity_table,
    target_table,
    terrain_table,
    top_conflict_table,
    township_table,
)
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES
from geoplan.maps.style import SEVERITY_STYLES

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
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr { page-break-inside: avoid; }
tr.fail td { background: #fde0dc; }
.chart text { font-size: 12px; } .chart .chart-title { font-weight: bold; font-size: 13px; }
.figure img { width: 100%; max-width: 860px; border: 1px solid #ccc; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 14px; height: 10px; margin-right: 4px; }
iframe { width: 100%; height: 640px; border: 1px solid #ccc; }
@media print { .screen-only { display: none; } body { margin: 0; max-width: none; }
               h2 { page-break-after: avoid; } }
"""


def html_table(table: Table) -> str:
    """A table as HTML, ``id`` its key; numbers right-aligned, failed rows marked."""
    ident = f' id="{escape(table.key)}"'
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headings)
    rows = []
    for row in table.rows:
        cells = "".join(
            f'<td class="num">{escape(fmt(row[c.key], c.kind))}</td>'
            if c.kind != "text"
            else f"<td>{escape(fmt(row[c.key], c.kind))}</td>"
            for c in table.columns
        )
        rows.append(f'<tr class="fail">{cells}</tr>' if table.failed(row) else f"<tr>{cells}</tr>")
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cards(report: Mapping[str, Any]) -> str:
    cards = []
    for row in report["summary"]["by_severity"]:
        color = SEVERITY_STYLES[row["severity"]].color
        cards.append(
            f'<div class="card" style="border-color: {color}">{escape(row["title"])}'
            f"<b>{fmt(row['conflicts'], 'int')} 处</b>{number(row['area_mu'])} 亩 · "
            f"{number(row['area_ha'])} 公顷</div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _charts(report: Mapping[str, Any]) -> str:
    summary = report["summary"]
    rules = [r for r in summary["by_rule"] if r["status"] == "evaluated" and r["conflicts"]]
    by_rule = stacked_bars(
        [r["title"] for r in rules],
        [
            (
                SEVERITY_TITLES[s],
                SEVERITY_STYLES[s].color,
                [r["area_mu"] if r["severity"] == s else 0.0 for r in rules],
            )
            for s in SEVERITIES
        ],
        unit="亩",
        title="冲突面积（亩），按规则",
    )
    counties = sorted({place(r["county"]) for r in summary["by_county"]})
    area = {(place(r["county"]), r["severity"]): r["area_mu"] for r in summary["by_county"]}
    by_county = stacked_bars(
        counties,
        [
            (
                SEVERITY_TITLES[s],
                SEVERITY_STYLES[s].color,
                [area.get((c, s), 0.0) for c in counties],
            )
            for s in SEVERITIES
        ],
        unit="亩",
        title="冲突面积（亩），按县区与严重程度",
    )
    return f"<div>{by_rule}</div><div>{by_county}</div>"


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
    project = report["project"]["name"]
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
    targets = target_table(report)
    sections = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(project)} 国土空间规划冲突检查报告</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(project)}</h1><p>国土空间规划冲突检查报告</p>",
        f'<p class="meta">运行时间 {escape(report["run"]["started"])} · geoplan '
        f"{escape(report['tool']['version'])} · 规则包 "
        f"{escape('、'.join(report['rule_packs']))}</p>",
        "<h2>概况</h2>",
        f"<p>{escape(headline(report))}</p>",
        _cards(report),
        html_table(severity_table(report)),
        _charts(report),
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
        html_table(targets) if targets.rows else "<p>项目未设指标。</p>",
    ]
    terrain = terrain_table(report)
    if terrain.rows:
        sections += [f"<h2>{escape(terrain.title)}</h2>", html_table(terrain)]
    top = top_conflict_table(report)
    sections += [f"<h2>{escape(top.title)}</h2>", html_table(top)]
    sections += ["<h2>输入数据</h2>", _inputs(report), "</body></html>"]
    return "\n".join(sections)
