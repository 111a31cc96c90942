"""The findings of two checks side by side: resolved, new, changed or unchanged.

A finding of the old check that the new one no longer has is *resolved*;
one only the new check has is *new*; a matched pair (:mod:`.matching`) is
*changed* when its ground moved by more than :data:`GEOMETRY_TOLERANCE_M2`
(area of the symmetric difference), else *unchanged*. A changed finding
whose area grew by more than the tolerance has *grown*.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.analysis.revisions.matching import geometry_changed, match_rows
from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.units import m2_to_mu
from geoplan.layers.vocabulary import SEVERITY_RANK

#: Symmetric difference (m², planar, working CRS) above which a matched finding changed.
GEOMETRY_TOLERANCE_M2 = 1.0
#: The classes, in the order documents list them.
CHANGES = ("new", "changed", "resolved", "unchanged")
CHANGE_TITLES = {"new": "新增", "changed": "变化", "resolved": "已解决", "unchanged": "未变"}
#: Columns taken from the finding itself (the new one where both exist).
DESCRIBED = (
    "rule_id",
    "rule_title",
    "severity",
    "county",
    "township",
    "left_kind",
    "left_id",
    "left_name",
    "right_kind",
    "right_id",
    "right_name",
    "citation",
)


def _describe(frame: gpd.GeoDataFrame, rows: np.ndarray) -> pd.DataFrame:
    cols = [c for c in DESCRIBED if c in frame.columns]
    part = pd.DataFrame(frame.iloc[rows][cols]).reset_index(drop=True)
    for c in DESCRIBED:
        if c not in part.columns:
            part[c] = ""
    return part[list(DESCRIBED)]


def _side(
    change: str,
    describe: pd.DataFrame,
    geoms: np.ndarray,
    old: pd.DataFrame | None,
    new: pd.DataFrame | None,
    match: np.ndarray | None,
) -> gpd.GeoDataFrame:
    n = len(describe)
    none = np.full(n, None, dtype=object)
    nan = np.full(n, np.nan)
    table = describe.assign(
        change=change,
        match=match if match is not None else none,
        old_conflict_id=old["conflict_id"].to_numpy() if old is not None else none,
        new_conflict_id=new["conflict_id"].to_numpy() if new is not None else none,
        old_area_m2=old["area_m2"].to_numpy(float) if old is not None else nan,
        new_area_m2=new["area_m2"].to_numpy(float) if new is not None else nan,
    )
    return gpd.GeoDataFrame(table, geometry=list(geoms))


def compare_findings(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """Class every finding of two checks as resolved, new, changed or unchanged.

    Parameters
    ----------
    old, new : geopandas.GeoDataFrame
        The conflicts of the old and the new check, in one projected CRS.
    crs : pyproj.CRS
        That CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per finding: ``change``, ``match`` (``id``, ``geometry`` or
        None for unmatched), ``old_conflict_id``, ``new_conflict_id``, the
        rule, severity, place and features (of the new finding where there
        is one), ``old_area_m2``, ``new_area_m2``, ``area_change_m2`` and
        ``area_change_mu`` (new − old, unmatched sides count 0), ``grown``,
        and the geometry (the old one for resolved findings). Ordered by
        :data:`CHANGES`, severity, then area.
    """
    old = old.reset_index(drop=True)
    new = new.reset_index(drop=True)
    m = match_rows(
        old["conflict_id"].to_numpy(),
        new["conflict_id"].to_numpy(),
        old.geometry.to_numpy(),
        new.geometry.to_numpy(),
        old["rule_id"].to_numpy(),
        new["rule_id"].to_numpy(),
    )
    gone, added = m.unmatched(len(old), len(new))
    moved = geometry_changed(
        old.geometry.to_numpy()[m.old], new.geometry.to_numpy()[m.new], GEOMETRY_TOLERANCE_M2
    )
    parts = []
    for change, keep in (("changed", moved), ("unchanged", ~moved)):
        o, n = m.old[keep], m.new[keep]
        parts.append(
            _side(
                change,
                _describe(new, n),
                new.geometry.to_numpy()[n],
                old.iloc[o],
                new.iloc[n],
                m.method[keep],
            )
        )
    parts.append(
        _side(
            "new",
            _describe(new, added),
            new.geometry.to_numpy()[added],
            None,
            new.iloc[added],
            None,
        )
    )
    parts.append(
        _side(
            "resolved",
            _describe(old, gone),
            old.geometry.to_numpy()[gone],
            old.iloc[gone],
            None,
            None,
        )
    )
    table = pd.concat(parts, ignore_index=True)
    change = table["new_area_m2"].fillna(0.0) - table["old_area_m2"].fillna(0.0)
    table["area_change_m2"] = change
    table["area_change_mu"] = m2_to_mu(change)
    table["grown"] = (table["change"] == "changed") & (change > GEOMETRY_TOLERANCE_M2)
    result = gpd.GeoDataFrame(table, geometry="geometry", crs=crs)
    return _ordered(result)


def _ordered(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    order = pd.DataFrame(
        {
            "c": table["change"].map({c: i for i, c in enumerate(CHANGES)}),
            "s": -table["severity"].map(SEVERITY_RANK).fillna(-1),
            "a": -table[["old_area_m2", "new_area_m2"]].max(axis=1),
            "id": table["new_conflict_id"].fillna(table["old_conflict_id"]),
        }
    ).sort_values(["c", "s", "a", "id"], kind="stable")
    return table.loc[order.index].reset_index(drop=True)


def land_area_m2(table: gpd.GeoDataFrame) -> float:
    """Ellipsoidal area (m²) of the union of the rows' geometries: ground counted once."""
    if len(table) == 0:
        return 0.0
    union = table.geometry.union_all()
    return float(ellipsoidal_area([union], table.crs)[0])
