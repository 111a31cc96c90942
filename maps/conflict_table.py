"""Every conflict's popup and findings-panel fields as one deflated, columnar table.

A city has tens of thousands of conflicts: as JSON objects their popups and
the findings panel's rows would take more of the file than their shapes.
Here each field is one column in the findings order (severity, then area
from the largest), a column of few distinct values as those values and an
index per row, and the whole compressed with zlib (``geoplan.findings``,
``static/geoplan-findings.js``, inflates it after the first frame has been
painted; the panel's list is built when it is first opened). A
conflict's place in the table is its number in the dense conflict layers
(:mod:`maps.dense`).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.layers.vocabulary import SEVERITIES
from geoplan.maps.dense import deflated
from geoplan.maps.display import DisplayOptions, to_display_crs
from geoplan.maps.popups import conflict_popup

#: Decimal places of a degree of the points where a finding's symbol and popup go.
POINT_DECIMALS = 5


def findings_order(conflicts: pd.DataFrame) -> np.ndarray:
    """Row positions in findings order: severity (prohibited first), then area (largest first)."""
    order = {severity: i for i, severity in enumerate(SEVERITIES)}
    rank = conflicts["severity"].map(order).fillna(len(order)).to_numpy()
    area = conflicts["area_m2"].astype(float).to_numpy()
    return np.lexsort((-area, rank))


def _column(values: pd.Series) -> list | dict:
    codes, uniques = pd.factorize(values.astype(str), sort=False)
    if len(uniques) * 4 < len(values):
        return {"v": list(uniques), "i": codes.tolist()}
    return values.astype(str).tolist()


def conflict_table(
    conflicts: gpd.GeoDataFrame, display: DisplayOptions, latitude: float
) -> tuple[np.ndarray, str]:
    """The conflicts' table, deflated.

    Parameters
    ----------
    conflicts : geopandas.GeoDataFrame
        Rows with the columns of ``conflicts.gpkg``, in a projected CRS.
    display : DisplayOptions
    latitude : float

    Returns
    -------
    order : numpy.ndarray of int
        The conflicts' row positions in table order (:func:`findings_order`).
    table : str
        Base64 of the zlib-compressed JSON ``{"fields": popup labels in
        order, "columns": {label: column}, "idAfterRule" (冲突编号 holds
        what follows "<规则编号>-"), "severity", "area" (m², 0.1), "lat",
        "lon" (integers of 10⁻⁵ degree), "s"}``; a column is a list of
        texts, or ``{"v": texts, "i": index per row}``.
    """
    order = findings_order(conflicts)
    frame = conflicts.iloc[order]
    props, fields = conflict_popup(frame)
    points = gpd.GeoDataFrame(
        geometry=shapely.point_on_surface(frame.geometry.values), crs=frame.crs
    )
    points = to_display_crs(points, display, latitude=latitude).geometry.values
    scale = 10**POINT_DECIMALS
    # 面积 is written by the page from "area", as maps.popups.fmt_area does
    columns = {label: _column(props[label]) for label in ["规则", *fields] if label != "面积"}
    # A conflict id is its rule's id, "-" and a hash: only the hash is sent.
    prefix = props["规则编号"].astype(str) + "-"
    ids = props["冲突编号"].astype(str)
    by_rule = bool(len(ids)) and bool(
        pd.Series([i.startswith(p) for i, p in zip(ids, prefix, strict=True)]).all()
    )
    if by_rule:
        columns["冲突编号"] = [i[len(p) :] for i, p in zip(ids, prefix, strict=True)]
    content = {
        "fields": ["规则", *fields],
        "columns": columns,
        "idAfterRule": by_rule,
        "severity": _column(frame["severity"]),
        "area": np.round(frame["area_m2"].astype(float).to_numpy(), 1).tolist(),
        "s": scale,
        "lat": np.rint(shapely.get_y(points) * scale).astype(np.int64).tolist(),
        "lon": np.rint(shapely.get_x(points) * scale).astype(np.int64).tolist(),
    }
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return order, deflated(text.encode("utf-8"))
