"""The site memo as sections of text and tables, from the site model (:mod:`analysis.site_review`).

The HTML, the DOCX and the terminal all render these sections, so the three
say the same. Every cell is text made here from the model's values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geoplan.analysis.reports.format import number


@dataclass
class MemoTable:
    """A table: column titles, rows of text, and which columns are numbers."""

    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]


@dataclass
class MemoSection:
    """A titled part of the memo: paragraphs, then tables."""

    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[MemoTable] = field(default_factory=list)


def _pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}%"


def _feature(f: Mapping[str, Any]) -> str:
    return f"{f['id']} {f['name']}".strip()


def _values(values: Mapping[str, str]) -> str:
    return "（" + "，".join(f"{k}={v}" for k, v in values.items()) + "）" if values else ""


def verdict_line(model: Mapping[str, Any]) -> str:
    """The verdict in one line: 结论：不可行（…）."""
    verdict = model["verdict"]
    return f"结论：{verdict['title']}——{verdict['reason']}"


def finding_text(rule: Mapping[str, Any]) -> str:
    """What a rule found: the area or distance, and the features involved."""
    if rule["status"] == "skipped":
        return rule["skipped_reason"] or ""
    if rule["status"] == "pass":
        return ""
    parts = []
    if rule["distance_m"] is not None and "distance_m" in rule["params"]:
        parts.append(
            f"{number(rule['distance_m'], 1)} 米，"
            f"要求 ≥ {number(rule['params']['distance_m'], 0)} 米"
        )
    parts.append(f"{number(rule['area_mu'])} 亩（{number(rule['area_ha'], 4)} 公顷）")
    features = rule["features"]
    if features:
        shown = "、".join(_feature(f) for f in features[:8])
        more = f" 等 {len(features)} 个要素" if len(features) > 8 else ""
        parts.append(f"涉及 {shown}{more}")
    return "；".join(parts)


def memo_sections(model: Mapping[str, Any]) -> list[MemoSection]:
    """Every section of the memo, in order."""
    site = model["site"]
    out = [
        MemoSection(
            "verdict",
            "结论",
            [
                verdict_line(model),
                f"选址作为{site['as_kind_title']}{_values(site['values'])}审查："
                f"{site['parcels']} 个地块，"
                f"{number(site['area_mu'])} 亩（{number(site['area_ha'], 4)} 公顷，"
                f"{number(site['area_m2'])} 平方米）。",
            ],
        )
    ]
    out.append(
        MemoSection(
            "rules",
            "逐条审查",
            [
                f"适用于选址的规则 {len(model['rules'])} 条；"
                f"不适用 {len(model['not_applicable'])} 条。"
            ],
            [
                MemoTable(
                    ["规则", "名称", "严重程度", "结果", "面积、距离与涉及要素，或未检查的原因"],
                    [
                        [
                            r["rule_id"],
                            r["title"],
                            r["severity_title"],
                            r["status_title"],
                            finding_text(r),
                        ]
                        for r in model["rules"]
                    ],
                    [False] * 5,
                )
            ],
        )
    )
    taken = model["taken"]
    section = MemoSection(
        "taken", "占用情况", [] if taken["layers"] else ["选址不占用任何管控图层。"]
    )
    if taken["layers"]:
        section.tables.append(
            MemoTable(
                ["图层", "要素数", "面积（亩）", "面积（公顷）", "占选址"],
                [
                    [
                        t["title"],
                        str(t["features"]),
                        number(t["area_mu"]),
                        number(t["area_ha"], 4),
                        _pct(t["share_of_site"]),
                    ]
                    for t in taken["layers"]
                ],
                [False, True, True, True, True],
            )
        )
        section.tables.append(
            MemoTable(
                ["图层", "要素", "地类", "面积（亩）", "面积（公顷）", "占选址", "占要素"],
                [
                    [
                        f["title"],
                        _feature(f),
                        f["land_class"],
                        number(f["area_mu"]),
                        number(f["area_ha"], 4),
                        _pct(f["share_of_site"]),
                        _pct(f["share_of_feature"]),
                    ]
                    for f in taken["features"]
                ],
                [False, False, False, True, True, True, True],
            )
        )
    classes = taken["land_classes"]
    if classes["site"]:
        section.paragraphs.append(
            f"地类按{classes['source_title']}图层的地类编码；净面积扣除田坎。"
        )
        section.tables.append(
            MemoTable(
                [
                    "地类编码",
                    "地类名称",
                    "毛面积（亩）",
                    "净面积（亩）",
                    "毛面积（公顷）",
                    "占选址",
                ],
                [
                    [
                        c["land_class"],
                        c["land_class_name"],
                        number(c["gross_area_mu"]),
                        number(c["net_area_mu"]),
                        number(c["gross_area_ha"], 4),
                        _pct(c["share_of_site"]),
                    ]
                    for c in classes["site"]
                ],
                [False, False, True, True, True, True],
            )
        )
    if classes["by_rule"]:
        section.tables.append(
            MemoTable(
                ["不符合的规则", "地类编码", "地类名称", "毛面积（亩）", "净面积（亩）"],
                [
                    [
                        c["rule_id"],
                        c["land_class"],
                        c["land_class_name"],
                        number(c["gross_area_mu"]),
                        number(c["net_area_mu"]),
                    ]
                    for c in classes["by_rule"]
                ],
                [False, False, False, True, True],
            )
        )
    out.append(section)
    out.append(
        MemoSection(
            "townships",
            "所在乡镇",
            [] if model["townships"] else ["项目没有乡镇图层，或选址不在任何乡镇内。"],
            [
                MemoTable(
                    ["县（区）", "乡镇", "乡镇级主体功能区", "面积（亩）", "占选址"],
                    [
                        [
                            t["county"],
                            t["name"],
                            t["function_type"],
                            number(t["area_mu"]),
                            _pct(t["share_of_site"]),
                        ]
                        for t in model["townships"]
                    ],
                    [False, False, False, True, True],
                )
            ]
            if model["townships"]
            else [],
        )
    )
    out.append(
        MemoSection(
            "distances",
            "距离",
            [] if model["distances"] else ["没有规则量测距离的图层。"],
            [
                MemoTable(
                    ["图层", "最近要素", "距离（米）", "要求", "规则", "结果"],
                    [
                        [
                            d["title"],
                            _feature(d),
                            number(d["distance_m"], 1),
                            "" if d["required_m"] is None else f"≥ {number(d['required_m'], 0)} 米",
                            d["rule_id"] or "",
                            {True: "符合", False: "不符合"}.get(d["kept"], ""),
                        ]
                        for d in model["distances"]
                    ],
                    [False, False, True, False, False, False],
                )
            ]
            if model["distances"]
            else [],
        )
    )
    terrain = model["terrain"]
    out.append(
        MemoSection(
            "terrain",
            "地形",
            [
                f"高程 {number(terrain['elevation_min'], 0)}–"
                f"{number(terrain['elevation_max'], 0)} 米"
                f"（平均 {number(terrain['elevation_mean'], 0)} 米），平均坡度 "
                f"{number(terrain['slope_mean'], 1)}°，坡度大于 25° 的部分占 "
                f"{_pct(terrain['slope_share_above_25'])}。"
            ]
            if terrain
            else ["项目没有数字高程模型（dem），未计算地形。"],
        )
    )
    if len(model["parcel_verdicts"]) > 1:
        out.append(
            MemoSection(
                "parcels",
                "各地块结论",
                ["每个地块单独审查的结论；上文为全部地块合并审查。"],
                [
                    MemoTable(
                        ["地块", "名称", "面积（亩）", "结论", "不符合的规则"],
                        [
                            [
                                p["id"],
                                p["name"],
                                number(p["area_mu"]),
                                p["verdict_title"],
                                "、".join(p["failed_rules"]),
                            ]
                            for p in model["parcel_verdicts"]
                        ],
                        [False, False, True, False, False],
                    )
                ],
            )
        )
    coords = model["coordinates"]
    out.append(
        MemoSection(
            "coordinates",
            "界址点坐标",
            [f"坐标系 {coords['crs']}；X 为纵坐标（北），Y 为横坐标（东，含带号）。"],
            [
                MemoTable(
                    ["地块", "点号", "圈号", "X（米）", "Y（米）"],
                    [
                        [
                            f"{p['parcel_no'] or p['id']} {p['name']}".strip(),
                            pt["point"],
                            str(pt["ring"]),
                            f"{pt['x']:.3f}",
                            f"{pt['y']:.3f}",
                        ]
                        for p in coords["parcels"]
                        for pt in p["points"]
                    ],
                    [False, False, True, True, True],
                )
            ],
        )
    )
    out.append(
        MemoSection(
            "citations",
            "依据",
            [
                f"{c['text']}：{c['quote'] if c['quote_confirmed'] else '原文待核'}"
                f"（{'、'.join(c['rules'])}）"
                for c in model["citations"]
            ]
            + ["判定规则：" + "".join(model["verdict"]["rules_text"])],
        )
    )
    return out
