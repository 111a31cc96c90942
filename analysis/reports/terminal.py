"""The report in a terminal: plain-text tables that line up with Chinese text.

:func:`summary_text` is what ``check`` and ``demo`` print (rules,
severities, skipped rules, targets); :func:`format_table` lines up the
tables of every command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from geoplan.analysis.reports.format import MISSING, display_width, fmt, kind_of, number, percent
from geoplan.layers.vocabulary import UNIT_LABELS


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
            r["severity"],
            r["conflicts"] if r["status"] == "evaluated" else "skipped",
            number(r["area_mu"]),
            number(r["area_ha"]),
            f"{r['slivers']} / {number(r['sliver_area_m2'], 0)} m²" if r["slivers"] else MISSING,
        ]
        for r in summary["by_rule"]
    ]
    return format_table(rows, ["rule", "规则", "severity", "conflicts", "亩", "公顷", "slivers"])


def _severities(summary: Mapping[str, Any]) -> str:
    rows = [
        [s["severity"], s["title"], s["conflicts"], number(s["area_mu"]), number(s["area_ha"])]
        for s in summary["by_severity"]
    ]
    return format_table(rows, ["severity", "级别", "conflicts", "亩", "公顷"])


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
                t["status"],
            ]
        )
    return format_table(rows, ["指标", "unit", "target", "measured", "diff", "status"])


def summary_text(report: Mapping[str, Any]) -> str:
    """Conflicts by rule and by severity, the skipped rules and the plan targets, as text.

    Parameters
    ----------
    report : mapping
        The report model (``report.json``).
    """
    summary = report["summary"]
    lines = [
        f"{report['project']['name']}: {summary['conflicts']} conflicts, "
        f"{number(summary['area_mu'])} 亩 ({number(summary['area_ha'])} 公顷)",
        "",
        _rules(summary),
        "",
        _severities(summary),
    ]
    skipped = [r for r in summary["by_rule"] if r["status"] == "skipped"]
    if skipped:
        lines += ["", "skipped rules:"]
        lines += [f"  {r['rule_id']}: {r['skipped_reason']}" for r in skipped]
    if summary["targets"]:
        lines += ["", _targets(summary)]
    return "\n".join(lines)
