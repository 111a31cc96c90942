"""The conclusion of a check: each rule 符合 / 不符合 / 未检查, and the verdict.

The verdict follows ``--fail-on`` (``CheckOptions.fail_on``) with the same
test as the exit status of ``check`` (:func:`layers.vocabulary.reaches`),
which is derived from it, so report and exit status cannot disagree:

- ``fail`` (不通过): a conflict reaches ``fail_on``;
- ``conditional`` (需整改): otherwise a prohibited or restricted conflict
  remains, or a plan target is not met;
- ``pass`` (通过): otherwise.

Rules skipped for a missing layer, field or raster are named in the reason
but change no status: a skipped rule is 未检查, never 符合.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoplan.analysis.reports.format import number
from geoplan.layers.vocabulary import SEVERITY_RANK, SEVERITY_TITLES, reaches

#: Chinese title of each rule status.
RULE_STATUS_TITLES = {"pass": "符合", "fail": "不符合", "skipped": "未检查"}
#: Chinese title of each verdict.
VERDICT_TITLES = {"pass": "通过", "conditional": "需整改", "fail": "不通过"}
#: What a skipped rule's Chinese reason starts with.
SKIPPED_PREFIX = "未检查："


def rule_status(evaluated: bool, conflicts: int, reason_zh: str, reason_en: str) -> dict[str, Any]:
    """A rule's ``status``, ``status_title``, ``skipped_reason`` (Chinese) and ``_en``.

    Parameters
    ----------
    evaluated : bool
        Whether the engine evaluated the rule (else it was skipped).
    conflicts : int
        Its conflict rows.
    reason_zh, reason_en : str
        Why it was skipped, in Chinese and in English.
    """
    status = "skipped" if not evaluated else "fail" if conflicts else "pass"
    return {
        "status": status,
        "status_title": RULE_STATUS_TITLES[status],
        "skipped_reason": SKIPPED_PREFIX + reason_zh if not evaluated else None,
        "skipped_reason_en": reason_en if not evaluated else None,
        "evaluation": "evaluated" if evaluated else "skipped",
    }


def _counted(rows: list[Mapping[str, Any]]) -> str:
    return "、".join(
        f"{SEVERITY_TITLES[r['severity']]}类冲突 {r['conflicts']:,} 处，"
        f"涉及土地 {number(r['land_area_mu'])} 亩"
        for r in rows
    )


def verdict(summary: Mapping[str, Any], fail_on: str) -> dict[str, Any]:
    """The overall verdict of a check, ``report.json``'s ``verdict``.

    Parameters
    ----------
    summary : mapping
        ``report.json``'s ``summary`` (``by_severity``, ``by_rule`` with their
        statuses, ``targets``).
    fail_on : {"prohibited", "restricted", "notice", "never"}

    Returns
    -------
    dict
        ``status`` (pass, conditional, fail), ``title`` (通过, 需整改, 不通过),
        ``reason`` (one Chinese sentence naming counts and land areas) and
        ``fail_on``.
    """
    found = [r for r in summary["by_severity"] if r["conflicts"]]
    failing = [r for r in found if reaches([r["severity"]], fail_on)]
    serious = [r for r in found if SEVERITY_RANK[r["severity"]] >= SEVERITY_RANK["restricted"]]
    unmet = [t for t in summary["targets"] if t["status"] == "fail"]
    missing = [t for t in summary["targets"] if t["status"] == "missing"]
    skipped = [r for r in summary["by_rule"] if r["status"] == "skipped"]
    if failing:
        status = "fail"
        threshold = SEVERITY_TITLES[fail_on]
        parts = [f"{_counted(failing)}，达到不通过的界限（{threshold}类及以上）"]
        rest = [r for r in serious if r not in failing]
        if rest:
            parts.append(f"另有{_counted(rest)}")
    elif serious or unmet:
        status = "conditional"
        parts = [f"{_counted(serious)}，须整改后再审"] if serious else []
    else:
        status = "pass"
        parts = ["未发现禁止类或限制类冲突"]
    if unmet:
        names = "、".join(t["indicator"] for t in unmet)
        parts.append(f"{len(unmet)} 项规划指标未达标（{names}）")
    notice = [r for r in found if r["severity"] == "notice"]
    if notice:
        parts.append(f"提示类冲突 {notice[0]['conflicts']:,} 处供参考")
    if missing:
        parts.append(f"{len(missing)} 项规划指标缺少数据")
    if skipped:
        parts.append(f"另有 {len(skipped)} 条规则因缺少图层或数据未检查")
    return {
        "status": status,
        "title": VERDICT_TITLES[status],
        "reason": "；".join(parts) + "。",
        "fail_on": fail_on,
    }
