"""Conflict rows: a rule's breaches split by township, with areas, names and a stable id.

Each row carries both features' kinds, ids and names, the township (county,
function type) its piece lies in, the ellipsoidal area in m², 亩 and 公顷,
the rule and its citation, and an id made from the rule and the row's key
(same input, same id).
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geoplan.analysis.attribution import Units, split_by_unit
from geoplan.analysis.breaches import Breaches
from geoplan.analysis.rules import Rule
from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.units import m2_to_ha, m2_to_mu

#: Columns of the conflicts table, in order (``geometry`` last).
CONFLICT_COLUMNS = (
    "conflict_id",
    "rule_id",
    "rule_title",
    "rule_title_en",
    "severity",
    "relation",
    "detail",
    "left_kind",
    "left_id",
    "left_name",
    "right_kind",
    "right_id",
    "right_name",
    "area_m2",
    "area_mu",
    "area_ha",
    "distance_m",
    "county",
    "township",
    "function_type",
    "citation",
    "pack",
)


def _conflict_id(rule_id: str, key: pd.DataFrame) -> np.ndarray:
    texts = ("|".join(values) for values in key.astype(str).itertuples(index=False))
    return np.array(
        [f"{rule_id}-{hashlib.sha1(f'{rule_id}|{t}'.encode()).hexdigest()[:10]}" for t in texts],
        dtype=object,
    )


def _side_columns(frame: gpd.GeoDataFrame | None, index: np.ndarray, prefix: str) -> pd.DataFrame:
    n = index.size
    if frame is None:
        blank = np.full(n, "", dtype=object)
        return pd.DataFrame(
            {
                f"{prefix}_kind": blank,
                f"{prefix}_id": blank,
                f"{prefix}_name": blank,
                f"{prefix}_fid": blank,
            }
        )
    safe = np.where(index >= 0, index, 0)
    part = frame.iloc[safe]
    none = index < 0
    return pd.DataFrame(
        {
            f"{prefix}_kind": np.where(none, "", part["layer_kind"].to_numpy()),
            f"{prefix}_id": np.where(none, "", part["id"].to_numpy()),
            f"{prefix}_name": np.where(none, "", part["name"].to_numpy()),
            f"{prefix}_fid": np.where(none, "", part["source_fid"].astype(str).to_numpy()),
        }
    )


def conflict_rows(
    rule: Rule, breaches: Breaches, units: Units | None, crs: CRS
) -> gpd.GeoDataFrame:
    """Turn a rule's breaches into conflict rows, split by township.

    Parameters
    ----------
    rule : Rule
    breaches : Breaches
        After slivers were dropped.
    units : Units or None
        Townships or counties to split by; None leaves the names empty.
    crs : pyproj.CRS
        Working CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CONFLICT_COLUMNS` and the geometry, sorted by the
        features' ids and the township.
    """
    if units is not None and len(breaches):
        row, unit, geoms = split_by_unit(breaches.geoms, units)
        place = units.table.iloc[np.where(unit >= 0, unit, 0)].reset_index(drop=True)
        place.loc[unit < 0, :] = ""
    else:
        row, geoms = np.arange(len(breaches)), breaches.geoms
        place = pd.DataFrame(
            {
                f: np.full(row.size, "", dtype=object)
                for f in ("county", "township", "function_type")
            }
        )
    left = _side_columns(breaches.left, breaches.li[row], "left")
    right = _side_columns(breaches.right, breaches.ri[row], "right")
    area = ellipsoidal_area(geoms, crs)
    table = pd.concat([left, right, place[["county", "township", "function_type"]]], axis=1)
    table["detail"] = breaches.detail[row]
    table["distance_m"] = breaches.distance_m[row]
    table["area_m2"] = area
    table["area_mu"] = m2_to_mu(area)
    table["area_ha"] = m2_to_ha(area)
    key_columns = [
        "detail",
        "left_kind",
        "left_id",
        "left_fid",
        "right_kind",
        "right_id",
        "right_fid",
        "county",
        "township",
    ]
    table["conflict_id"] = _conflict_id(rule.id, table[key_columns])
    table["rule_id"] = rule.id
    table["rule_title"] = rule.title
    table["rule_title_en"] = rule.title_en
    table["severity"] = rule.severity
    table["relation"] = rule.relation
    table["citation"] = rule.citation.short()
    table["pack"] = rule.pack
    frame = gpd.GeoDataFrame(table[list(CONFLICT_COLUMNS)], geometry=geoms, crs=crs)
    order = np.lexsort([table[c].astype(str).to_numpy() for c in reversed(key_columns)])
    return frame.iloc[order].reset_index(drop=True)
