"""What popups and tooltips say: per layer kind, and for conflicts.

The values are formatted here, as text, into the features' properties under
Chinese labels; the page only puts them into the DOM as text
(``geoplan.bind``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.layers.vocabulary import BREACH_DETAILS, SEVERITY_TITLES, kind_title

#: Property holding the hover tooltip text.
TOOLTIP = "名称"

# label, column of the display frame; booleans show as 是/否.
_KIND_FIELDS: dict[str, list[tuple[str, str]]] = {
    "townships": [("县区", "county"), ("主体功能区", "function_type"), ("代码", "code")],
    "counties": [("代码", "code")],
    "protected_areas": [("类别", "category"), ("子类型", "subtype"), ("级别", "level")],
    "parks": [("类型", "kind"), ("化工园区", "chemical"), ("县区", "county"), ("级别", "level")],
    "water_source_protection": [("级别", "grade")],
}

#: Conflict popup fields that depend only on the rule.
RULE_FIELDS = ("规则", "严重程度", "依据", "规则编号")

#: Columns of a loaded layer that its popups use.
POPUP_COLUMNS: dict[str, list[str]] = {
    kind: ["name", "id", *(column for _, column in fields)] for kind, fields in _KIND_FIELDS.items()
}


def fmt_area(area_m2: pd.Series) -> pd.Series:
    """Areas as ``"1,234.56 亩（82.30 公顷）"``; empty where unknown."""
    values = pd.to_numeric(area_m2, errors="coerce")
    mu = m2_to_mu(values.to_numpy(float))
    ha = m2_to_ha(values.to_numpy(float))
    text = [f"{a:,.2f} 亩（{b:,.2f} 公顷）" for a, b in zip(mu, ha, strict=True)]
    return pd.Series(text, index=area_m2.index).where(values.notna(), "")


def _text(values: pd.Series) -> pd.Series:
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "boolean":
        return values.map({True: "是", False: "否"}).where(values.notna(), "")
    if kind in ("string", "empty"):
        return values.astype(object).where(values.notna(), "")
    out = values.astype(object).where(values.notna(), "")
    return out.map(lambda v: {True: "是", False: "否"}.get(v, v) if isinstance(v, bool) else str(v))


def layer_popup(kind: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Popup properties of a displayed layer and the order of its fields.

    Parameters
    ----------
    kind : str
        Layer kind.
    frame : pandas.DataFrame
        From :func:`maps.display.display_frame` (``features`` > 1 marks a
        dissolved cell).

    Returns
    -------
    properties : pandas.DataFrame
        Text columns named by their Chinese label.
    fields : list of str
        Labels in popup order.
    """
    title = kind_title(kind)
    merged = frame["features"].to_numpy() > 1
    names = _text(frame["name"]) if "name" in frame else pd.Series("", index=frame.index)
    names = names.where(names != "", title)
    names = names.where(~merged, f"{title}（合并显示）")
    props = {TOOLTIP: names, "编号": _text(frame["id"]) if "id" in frame else ""}
    for label, column in _KIND_FIELDS.get(kind, []):
        props[label] = _text(frame[column]) if column in frame else ""
    if "area_m2" in frame:
        props["面积"] = fmt_area(frame["area_m2"])
    props["图斑数"] = pd.Series(
        np.where(merged, frame["features"].astype(str) + " 个（显示时按网格合并）", ""),
        index=frame.index,
    )
    out = pd.DataFrame(props, index=frame.index)
    return out, [label for label in out.columns if label != TOOLTIP]


def conflict_popup(conflicts: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Popup properties of conflicts (columns of ``conflicts.gpkg``) and their field order."""

    def feature(side: str) -> pd.Series:
        kinds = conflicts[f"{side}_kind"].astype(str)
        kind = kinds.map({k: kind_title(k) for k in kinds.unique()}).to_numpy(str)
        name = _text(conflicts[f"{side}_name"]).to_numpy(str)
        ident = _text(conflicts[f"{side}_id"]).to_numpy(str)
        suffix = np.where(ident != "", np.char.add(np.char.add("（", ident), "）"), "")
        text = np.char.add(np.char.add(kind, "："), np.where(name != "", name, "—"))
        return pd.Series(np.char.add(text, suffix), index=conflicts.index, dtype=object)

    distance = pd.to_numeric(conflicts["distance_m"], errors="coerce")
    props = {
        "规则": _text(conflicts["rule_title"]),
        "严重程度": conflicts["severity"].map(lambda s: SEVERITY_TITLES.get(s, s)),
        "面积": fmt_area(conflicts["area_m2"]),
        "县区": _text(conflicts["county"]),
        "乡镇": _text(conflicts["township"]),
        "主体功能区": _text(conflicts["function_type"]),
        "要素一": feature("left"),
        "要素二": feature("right"),
        "距离": pd.Series(
            [f"{d:,.0f} 米" if np.isfinite(d) else "" for d in distance.to_numpy(float)],
            index=conflicts.index,
        ),
        "说明": _text(conflicts["detail"]).map(lambda d: BREACH_DETAILS.get(d, d)),
        "依据": _text(conflicts["citation"]),
        "规则编号": _text(conflicts["rule_id"]),
        "冲突编号": _text(conflicts["conflict_id"]),
    }
    out = pd.DataFrame(props, index=conflicts.index)
    return out, [key for key in props if key != "规则"]
