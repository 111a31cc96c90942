"""The review's tables: verdict, 问题清单, each rule's conclusion, the control lines.

Read from ``report.json``'s ``verdict``, ``issues`` and ``summary`` like
every table of :mod:`analysis.reports.tables` (which re-exports these), and
rendered by key by every document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoplan.analysis.reports.format import number
from geoplan.analysis.reports.table_types import (
    Column,
    Row,
    Table,
    feature_label,
    place,
    severity_title,
)
from geoplan.analysis.reports.verdict import SKIPPED_PREFIX
from geoplan.layers.vocabulary import SEVERITY_TITLES

#: How many findings the "most serious findings" lists show.
SERIOUS_FINDINGS = 20
#: What a finding whose rule gives no remedy shows.
NO_REMEDY = "（规则包未给出处置建议）"


def verdict_lines(report: Mapping[str, Any]) -> list[str]:
    """The conclusion as sentences: the verdict, its reason, the rule, the rules' tally."""
    verdict, summary = report["verdict"], report["summary"]
    fail_on = verdict["fail_on"]
    if fail_on == "never":
        rule = "判定规则：不以冲突判定不通过；有禁止类或限制类冲突、或规划指标未达标的，需整改。"
    else:
        rule = (
            f"判定规则：出现{SEVERITY_TITLES[fail_on]}类及以上冲突的，不通过；"
            "其余有禁止类或限制类冲突、或规划指标未达标的，需整改；否则通过。"
        )
    tally = {s: sum(r["status"] == s for r in summary["by_rule"]) for s in ("pass", "fail")}
    skipped = sum(r["status"] == "skipped" for r in summary["by_rule"])
    return [
        f"审查结论：{verdict['title']}。",
        f"理由：{verdict['reason']}",
        rule,
        f"规则 {len(summary['by_rule'])} 条：符合 {tally['pass']} 条，"
        f"不符合 {tally['fail']} 条，未检查 {skipped} 条。",
    ]


def location(counties: list[str], townships: list[str]) -> str:
    """``"南江县：关路镇、团结乡"`` — the counties and townships a finding lies in."""
    where = "、".join(counties) or place(None)
    return f"{where}：{'、'.join(townships)}" if townships else where


def rules_by_id(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """``summary.by_rule`` by rule id: where a finding's citation and remedy are held."""
    return {r["rule_id"]: r for r in report["summary"]["by_rule"]}


def issue_citation(issue: Mapping[str, Any], rules: Mapping[str, Mapping[str, Any]]) -> str:
    """The citation (text) of a finding's rule; ``rules`` from :func:`rules_by_id`."""
    return rules[issue["rule_id"]]["citation"]["text"]


def issue_remedy(
    issue: Mapping[str, Any], rules: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The remedy of a finding's rule (text, basis, citation, note), or None if it has none."""
    return rules[issue["rule_id"]]["remedy"]


def _issue_row(issue: Mapping[str, Any], rules: Mapping[str, Mapping[str, Any]]) -> Row:
    left = feature_label(issue["left_kind"], issue["left_id"], issue["left_name"])
    right = feature_label(issue["right_kind"], issue["right_id"], issue["right_name"])
    remedy = issue_remedy(issue, rules)
    return {
        **{k: issue[k] for k in ("number", "issue_id", "rule_id", "rule_title", "conflicts")},
        **{k: issue[k] for k in ("land_area_mu", "land_area_ha")},
        "severity": issue["severity_title"],
        "features": f"{left}；{right}" if right else left,
        "location": location(issue["counties"], issue["townships"]),
        "centre": f"{issue['centre_lon']:.6f}, {issue['centre_lat']:.6f}",
        "citation": issue_citation(issue, rules),
        "remedy": remedy["text"] if remedy else NO_REMEDY,
    }


_ISSUE_COLUMNS = (
    Column("number", "序号", "int"),
    Column("severity", "严重程度"),
    Column("rule_title", "规则"),
    Column("features", "涉及要素"),
    Column("location", "位置（县/乡镇）"),
    Column("centre", "中心坐标（经度, 纬度）"),
    Column("land_area_mu", "涉及土地（亩）", "area"),
    Column("land_area_ha", "涉及土地（公顷）", "area"),
    Column("conflicts", "图斑数", "int"),
    Column("citation", "依据"),
    Column("remedy", "处置建议"),
    Column("issue_id", "问题编号"),
)


def listed_issues(
    report: Mapping[str, Any], per_severity: int | None = None
) -> list[Mapping[str, Any]]:
    """The findings, most serious first; with ``per_severity``, at most that many of each."""
    found = report.get("issues", [])
    if per_severity is None:
        return list(found)
    seen: dict[str, int] = {}
    listed = []
    for issue in found:
        seen[issue["severity"]] = seen.get(issue["severity"], 0) + 1
        if seen[issue["severity"]] <= per_severity:
            listed.append(issue)
    return listed


def issue_table(report: Mapping[str, Any], per_severity: int | None = None) -> Table:
    """The 问题清单: the prohibited and restricted findings, most serious first.

    The centre is a point on the finding's surface, longitude and latitude
    in CGCS2000 (EPSG:4490). ``per_severity`` keeps the largest (by land
    area) of each severity; all by default.
    """
    rules = rules_by_id(report)
    rows = [_issue_row(i, rules) for i in listed_issues(report, per_severity)]
    return Table("issues", "问题清单与处置建议", _ISSUE_COLUMNS, rows)


def issue_tally(report: Mapping[str, Any]) -> str:
    """``"47,833 项（禁止类 47,799 项、限制类 34 项）"`` — how many findings of each severity."""
    found = report.get("issues", [])
    counts = {s: sum(i["severity"] == s for i in found) for s in SEVERITY_TITLES}
    parts = "、".join(f"{SEVERITY_TITLES[s]}类 {n:,} 项" for s, n in counts.items() if n)
    return f"{len(found):,} 项（{parts}）" if found else "0 项"


def serious_table(report: Mapping[str, Any], n: int = SERIOUS_FINDINGS) -> Table:
    """The ``n`` most serious findings: prohibited first, then restricted, by land area."""
    rules = rules_by_id(report)
    rows = [_issue_row(i, rules) for i in report.get("issues", [])[:n]]
    title = f"最严重的 {len(rows)} 项问题（禁止类在前，按涉及土地排序）"
    return Table("serious", title, _ISSUE_COLUMNS, rows)


def _rule_note(rule: Mapping[str, Any]) -> str:
    if rule["status"] == "skipped":
        return rule["skipped_reason"].removeprefix(SKIPPED_PREFIX)
    if rule["status"] == "pass":
        return "未发现冲突"
    return f"冲突 {rule['conflicts']:,} 处，涉及土地 {number(rule['land_area_mu'])} 亩"


def rule_status_table(report: Mapping[str, Any]) -> Table:
    """Every rule's conclusion: 符合, 不符合 or 未检查 and why (不符合 rows marked)."""
    rows = [
        {
            "rule_id": r["rule_id"],
            "title": r["title"],
            "severity": severity_title(r["severity"]),
            "status": r["status_title"],
            "conflicts": r["conflicts"] if r["status"] != "skipped" else None,
            "land_area_mu": r["land_area_mu"] if r["status"] != "skipped" else None,
            "note": _rule_note(r),
        }
        for r in report["summary"]["by_rule"]
    ]
    columns = (
        Column("rule_id", "规则编号"),
        Column("title", "规则"),
        Column("severity", "严重程度"),
        Column("status", "结论"),
        Column("conflicts", "冲突数", "int"),
        Column("land_area_mu", "涉及土地（亩）", "area"),
        Column("note", "说明"),
    )
    return Table("rule_status", "各规则审查结论", columns, rows, fail_key="status")


def control_line_table(report: Mapping[str, Any]) -> Table:
    """Occupation of each control line: conflicts, land taken and its share of the line."""
    rows = [dict(r) for r in report["summary"].get("by_control_line", [])]
    columns = (
        Column("title", "控制线"),
        Column("conflicts", "冲突数", "int"),
        Column("land_area_mu", "涉及土地（亩）", "area"),
        Column("land_area_ha", "涉及土地（公顷）", "area"),
        Column("area_mu", "面积合计（亩）", "area"),
        Column("share_pct", "占控制线面积", "share"),
    )
    return Table("control_lines", "三条控制线占用情况", columns, rows)
