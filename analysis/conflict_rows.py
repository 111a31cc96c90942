"""Conflict rows: a rule's breaches split by township, with areas, names and a stable id.

Each row carries both features' kinds, ids and names, the township (county,
function type) its piece lies in, the ellipsoidal area in m², 亩 and 公顷,
the share of each feature the piece takes, a point on the piece in CGCS2000
and in the working CRS, the rule and its citation, and an id made from the
rule and the row's key (same input, same id).
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

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
    "left_share_pct",
    "right_share_pct",
    "distance_m",
    "county",
    "township",
    "function_type",
    "centre_lon",
    "centre_lat",
    "centre_x",
    "centre_y",
    "citation",
    "pack",
)
#: Chinese display name of each column (the field aliases of ``conflicts.gpkg``
#: and the exports).
CONFLICT_ALIASES = {
    "conflict_id": "冲突编号",
    "rule_id": "规则编号",
    "rule_title": "规则",
    "rule_title_en": "规则（英文）",
    "severity": "严重程度",
    "relation": "关系",
    "detail": "情形",
    "left_kind": "左图层类型",
    "left_id": "左要素编号",
    "left_name": "左要素名称",
    "right_kind": "右图层类型",
    "right_id": "右要素编号",
    "right_name": "右要素名称",
    "area_m2": "面积（平方米）",
    "area_mu": "面积（亩）",
    "area_ha": "面积（公顷）",
    "left_share_pct": "占左要素面积（%）",
    "right_share_pct": "占右要素面积（%）",
    "distance_m": "距离（米）",
    "county": "县",
    "township": "乡镇",
    "function_type": "乡镇级主体功能区",
    "centre_lon": "中心经度（CGCS2000，度）",
    "centre_lat": "中心纬度（CGCS2000，度）",
    "centre_x": "中心横坐标（米）",
    "centre_y": "中心纵坐标（米）",
    "citation": "依据",
    "pack": "规则包",
}
#: Breach details whose piece lies in the right feature too (so it takes a
#: share of it); other pieces lie outside it (``outside``), near it
#: (``within_distance``) or in a raster's zone (``exceeds``), or there is no
#: right feature (``gap``, ``outside_region``).
_IN_RIGHT = frozenset({"overlap", "double_cover"})
_CGCS2000 = CRS.from_epsg(4490)


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


def _share_pct(
    frame: gpd.GeoDataFrame | None, index: np.ndarray, area: np.ndarray, crs: CRS
) -> np.ndarray:
    """Each piece's area as a percentage of its feature's ellipsoidal area; NaN without one."""
    share = np.full(index.size, np.nan)
    if frame is None or not index.size:
        return share
    has = index >= 0
    features, where = np.unique(index[has], return_inverse=True)
    whole = ellipsoidal_area(frame.geometry.values[features], crs)[where]
    with np.errstate(divide="ignore", invalid="ignore"):
        share[has] = np.where(whole > 0, 100.0 * area[has] / whole, np.nan)
    return np.round(share, 4)


def centre_columns(geoms: np.ndarray, crs: CRS) -> dict[str, np.ndarray]:
    """A point on each geometry's surface, in CGCS2000 and in ``crs``.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        In ``crs``.
    crs : pyproj.CRS
        Working CRS (metres).

    Returns
    -------
    dict of str to numpy.ndarray
        ``centre_lon``, ``centre_lat`` (EPSG:4490, degrees, 6 decimals) and
        ``centre_x``, ``centre_y`` (``crs``, metres, 2 decimals) of
        :func:`shapely.point_on_surface`, which lies inside the geometry even
        where its centroid would not.
    """
    points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    x, y = shapely.get_x(points), shapely.get_y(points)
    lon, lat = Transformer.from_crs(crs, _CGCS2000, always_xy=True).transform(x, y)
    return {
        "centre_lon": np.round(lon, 6),
        "centre_lat": np.round(lat, 6),
        "centre_x": np.round(x, 2),
        "centre_y": np.round(y, 2),
    }


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
        features' ids and the township. ``left_share_pct`` is the piece's
        area as a percentage of its left feature's; ``right_share_pct`` of its
        right feature's where the piece lies in it (details in
        :data:`_IN_RIGHT`), else NaN, as both are where the side has no
        feature or a feature without area (a line).
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
    table["left_share_pct"] = _share_pct(breaches.left, breaches.li[row], area, crs)
    in_right = np.isin(table["detail"].to_numpy(), list(_IN_RIGHT))
    right_index = np.where(in_right, breaches.ri[row], -1)
    table["right_share_pct"] = _share_pct(breaches.right, right_index, area, crs)
    for column, values in centre_columns(geoms, crs).items():
        table[column] = values
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
    return in_row_order(frame)


#: The columns a rule's rows are ordered by. The conflict id (made from the
#: source fids too) comes last and breaks ties of features without an id, so
#: rows combined from partitions (:mod:`analysis.partition_eval`) sort the same.
ROW_ORDER = (
    "detail",
    "left_kind",
    "left_id",
    "right_kind",
    "right_id",
    "county",
    "township",
    "conflict_id",
)


def in_row_order(rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A rule's conflict rows sorted by :data:`ROW_ORDER` (as text), renumbered from 0."""
    order = np.lexsort([rows[c].astype(str).to_numpy() for c in reversed(ROW_ORDER)])
    return rows.iloc[order].reset_index(drop=True)
