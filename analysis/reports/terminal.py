"""The report in a terminal: plain-text tables that line up with Chinese text.

:func:`summary_text` is what ``check`` and ``demo`` print (the verdict
first, the land taken by severity, each rule's conclusion, the skipped rules
with their Chinese reasons, the targets); :func:`format_table` lines up the
tables of every command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from geoplan.analysis.reports.format import MISSING, display_width, fmt, kind_of, number, percent
from geoplan.analysis.reports.tables import STATUS_NAMES, headline
from geoplan.analysis.reports.verdict import SKIPPED_PREFIX
from geoplan.layers.vocabulary import SEVERITY_TITLES, UNIT_LABELS


def _cell(value: Any) -> str:
    return MISSING if value is None else fmt(value, kind_of(value))


def format_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """Format rows as a column-aligned table; numbers are right-aligned.

    Parameters
    ----------
    rows : sequence of sequences
        Cell values; floats get two decimals and thousands separators, None is ``-``.
    header : sequence of str
        Column titles.

    Returns
    -------
    str

    Examples
    --------
    >>> print(format_table([["巴州区", 1234.5], ["恩阳区", None]], ["县区", "亩"]))
    县区          亩
    ------  --------
    巴州区  1,234.50
    恩阳区         -
    """
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(r[i], int | float) or r[i] is None for r in rows) if rows else False
        for i in range(len(header))
    ]
    widths = [
        max([display_width(h)] + [display_width(r[i]) for r in cells]) for i, h in enumerate(header)
    ]

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, v in enumerate(values):
            pad = " " * (widths[i] - display_width(v))
            parts.append(pad + v if numeric[i] else v + pad)
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(header)), rule, *(line(r) for r in cells)])


def _rules(summary: Mapping[str, Any]) -> str:
    rows = [
        [
            r["rule_id"],
            r["title"],
            SEVERITY_TITLES[r["severity"]],
            r["status_title"],
            r["conflicts"] if r["status"] != "skipped" else None,
            r["land_area_mu"] if r["status"] != "skipped" else None,
            r["area_mu"] if r["status"] != "skipped" else None,
            f"{r['slivers']} / {number(r['sliver_area_m2'], 0)} m²" if r["slivers"] else MISSING,
        ]
        for r in summary["by_rule"]
    ]
    header = ["规则编号", "规则", "严重程度", "结论", "冲突数", "涉及土地（亩）", "面积合计（亩）"]
    return format_table(rows, [*header, "碎片（个 / 面积）"])


def _severities(summary: Mapping[str, Any]) -> str:
    rows = [
        [s["title"], s["conflicts"], s["land_area_mu"], s["land_area_ha"], s["area_mu"]]
        for s in [*summary["by_severity"], {**summary, "title": "合计"}]
    ]
    return format_table(
        rows, ["严重程度", "冲突数", "涉及土地（亩）", "涉及土地（公顷）", "面积合计（亩）"]
    )


def _targets(summary: Mapping[str, Any]) -> str:
    rows = []
    for t in summary["targets"]:
        digits = 0 if t["unit"] == "count" else 2
        rows.append(
            [
                t["indicator"],
                UNIT_LABELS[t["unit"]],
                f"{t['constraint']} {number(t['target'], digits)}",
                number(t["measured"], digits),
                percent(t["difference_pct"]),
                STATUS_NAMES.get(t["status"], t["status"]),
            ]
        )
    return format_table(rows, ["指标", "单位", "目标值", "实测值", "差值", "结果"])


def summary_text(report: Mapping[str, Any]) -> str:
    """The verdict, the land taken by severity, each rule's conclusion, skipped rules, targets.

    Parameters
    ----------
    report : mapping
        The report model (``report.json``).
    """
    summary, verdict = report["summary"], report["verdict"]
    lines = [
        f"审查结论：{verdict['title']}。{verdict['reason']}",
        f"{report['project']['name']}：{headline(report)}",
        "",
        _severities(summary),
        "",
        _rules(summary),
    ]
    skipped = [r for r in summary["by_rule"] if r["status"] == "skipped"]
    if skipped:
        lines += ["", "未检查的规则："]
        lines += [
            f"  {r['rule_id']}：{r['skipped_reason'].removeprefix(SKIPPED_PREFIX)}" for r in skipped
        ]
    if summary["targets"]:
        lines += ["", _targets(summary)]
    return "\n".join(lines)
