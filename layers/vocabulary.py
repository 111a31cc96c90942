"""The planning vocabulary: severities, breach details, area units and layer-kind titles.

One module that every package imports (``maps/`` may not import
``analysis/``, so the words both use live here): the keys geoplan writes
into its outputs and the Chinese each is shown as.
"""

from __future__ import annotations

from collections.abc import Iterable

from geoplan.layers.catalog import KINDS

#: Severities of a rule, most severe first.
SEVERITIES = ("prohibited", "restricted", "notice")
#: Chinese name of each severity.
SEVERITY_TITLES = {"prohibited": "禁止", "restricted": "限制", "notice": "提示"}
#: Rank of each severity: notice 0 … prohibited 2.
SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}

#: What kind of breach a conflict row is (its ``detail``), and its Chinese name.
BREACH_DETAILS = {
    "overlap": "重叠",
    "outside": "超出范围",
    "within_distance": "距离不足",
    "gap": "未覆盖",
    "double_cover": "重复覆盖",
    "outside_region": "超出区域",
    "exceeds": "超过阈值",
}

#: How each unit key of a target or table is shown.
UNIT_LABELS = {"m2": "m²", "mu": "亩", "ha": "公顷", "wanmu": "万亩", "km2": "km²", "count": "个"}
#: The names a project file may give a target's unit, and the unit key each means.
UNIT_ALIASES = {
    "m2": "m2",
    "m²": "m2",
    "平方米": "m2",
    "mu": "mu",
    "亩": "mu",
    "ha": "ha",
    "公顷": "ha",
    "wanmu": "wanmu",
    "万亩": "wanmu",
    "km2": "km2",
    "km²": "km2",
    "平方公里": "km2",
    "count": "count",
    "个": "count",
}


def reaches(severities: Iterable[str], threshold: str) -> bool:
    """Whether any of ``severities`` is ``threshold`` or worse (``"never"``: never).

    Examples
    --------
    >>> reaches(["notice", "restricted"], "restricted")
    True
    >>> reaches(["notice"], "prohibited")
    False
    """
    if threshold == "never":
        return False
    return any(SEVERITY_RANK[s] >= SEVERITY_RANK[threshold] for s in severities)


def kind_title(kind: str | None) -> str:
    """The Chinese title of a layer kind (the key itself for an unknown one).

    Examples
    --------
    >>> kind_title("permanent_farmland")
    '永久基本农田'
    """
    if kind in KINDS:
        return KINDS[kind].title
    return kind or ""
