"""The text summary ``check`` and ``demo`` print: rules, severities, targets."""

from __future__ import annotations

from geoplan.analysis.cli.table import format_table
from geoplan.analysis.results import CheckResult, summary
from geoplan.layers.vocabulary import UNIT_LABELS


def fmt_number(value: float | None, digits: int = 2) -> str:
    """A number with thousands separators and ``digits`` decimals; ``-`` for None."""
    return "-" if value is None else f"{value:,.{digits}f}"


def summary_text(result: CheckResult) -> str:
    """Conflicts by rule and by severity, and the plan-target table, as text tables."""
    data = summary(result)
    rules = [
        [
            r["rule_id"],
            r["title"],
            r["severity"],
            r["conflicts"] if r["status"] == "evaluated" else "skipped",
            fmt_number(r["area_mu"]),
            fmt_number(r["area_ha"]),
            f"{r['slivers']} / {fmt_number(r['sliver_area_m2'], 0)} m²" if r["slivers"] else "-",
        ]
        for r in data["by_rule"]
    ]
    lines = [
        f"{result.loaded.project.name}: {data['conflicts']} conflicts, "
        f"{fmt_number(data['area_mu'])} 亩 ({fmt_number(data['area_ha'])} 公顷)",
        "",
        format_table(rules, ["rule", "规则", "severity", "conflicts", "亩", "公顷", "slivers"]),
        "",
        format_table(
            [
                [
                    s["severity"],
                    s["title"],
                    s["conflicts"],
                    fmt_number(s["area_mu"]),
                    fmt_number(s["area_ha"]),
                ]
                for s in data["by_severity"]
            ],
            ["severity", "级别", "conflicts", "亩", "公顷"],
        ),
    ]
    skipped = [r for r in data["by_rule"] if r["status"] == "skipped"]
    if skipped:
        lines += ["", "skipped rules:"]
        lines += [f"  {r['rule_id']}: {r['skipped_reason']}" for r in skipped]
    if data["targets"]:
        digits = {True: 0, False: 2}
        lines += [
            "",
            format_table(
                [
                    [
                        t["indicator"],
                        UNIT_LABELS[t["unit"]],
                        f"{t['constraint']} "
                        f"{fmt_number(t['target'], digits[t['unit'] == 'count'])}",
                        fmt_number(t["measured"], digits[t["unit"] == "count"]),
                        "-" if t["difference_pct"] is None else f"{t['difference_pct']:+.2f} %",
                        t["status"],
                    ]
                    for t in data["targets"]
                ],
                ["指标", "unit", "target", "measured", "diff", "status"],
            ),
        ]
    return "\n".join(lines)
