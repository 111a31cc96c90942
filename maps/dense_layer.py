"""A dense layer for the page: its overview, its chunks per cell, its ids and styles.

See :mod:`maps.dense` for how the features are packed and
``static/geoplan-dense.js`` for how the page draws them.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.layers.vocabulary import kind_title
from geoplan.maps.dense import (
    cell_keys,
    deflated,
    overview_cell_m,
    overview_frame,
    pack_cells,
    pack_ids,
    varints,
)
from geoplan.maps.display import (
    DisplayOptions,
    display_decimals,
    display_geometries,
    display_scale,
    pixel_size_m,
    to_display_crs,
)
from geoplan.maps.map_layers import DenseLayer
from geoplan.maps.packing import pack_features
from geoplan.maps.popups import TOOLTIP
from geoplan.maps.style import CLASS_STYLES, Style, kind_style

#: Popup label of a dense feature's class.
CLASS_LABEL = "类别"

#: Side of a conflict layer's grid cells, in multiples of ``dissolve_cell_m``.
CONFLICT_CELLS = 4
#: Size classes of a conflict layer's cells: spans below 1 m, 1–2 m … above 2**14 m.
SIZE_CLASSES = 16


def _size_class(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Each feature's size class: ⌈log2⌉ of the longer side of its extent (m), 0–15."""
    bounds = shapely.bounds(frame.geometry.values)
    span = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    return np.clip(np.ceil(np.log2(np.maximum(span, 1.0))), 0, SIZE_CLASSES - 1).astype(np.int64)


def class_column(kind: str) -> str | None:
    """The column whose values choose a feature's style, if the kind has classes."""
    return CLASS_STYLES[kind].column if kind in CLASS_STYLES else None


def class_styles(kind: str, values: pd.Series) -> tuple[list[Style], np.ndarray]:
    """The kind's styles (its own first, then one per class) and each value's index."""
    base = kind_style(kind)
    if kind not in CLASS_STYLES:
        return [base], np.zeros(len(values), int)
    table = CLASS_STYLES[kind].styles
    keys = list(table)
    index = values.astype(str).map(lambda v: keys.index(v) + 1 if v in keys else 0)
    return [base, *table.values()], index.to_numpy(int)


def is_dense(frame: gpd.GeoDataFrame, options: DisplayOptions) -> bool:
    """Whether a layer is drawn as a dense layer: many polygons or lines."""
    if len(frame) <= options.dissolve_above:
        return False
    family = frame.geometry.geom_type.str.replace("Multi", "")
    return bool(family.isin(["Polygon", "LineString"]).all() and family.nunique() == 1)


def dense_layer(
    kind: str,
    frame: gpd.GeoDataFrame,
    options: DisplayOptions,
    latitude: float,
    *,
    name: str,
    show: bool,
    pane: str,
) -> DenseLayer:
    """One layer of many features as a :class:`maps.map_layers.DenseLayer`.

    Parameters
    ----------
    kind : str
        Layer kind.
    frame : geopandas.GeoDataFrame
        The loaded layer in its working (projected, metric) CRS, with ``id``.
    options : DisplayOptions
        ``detail_from_zoom`` (where the features replace the overview),
        ``dissolve_cell_m`` (the chunks' grid) and the display step
        (:func:`maps.display.display_scale` for ``detail_zoom``).
    latitude : float
        Latitude (degrees) the pixel size is computed at.
    name, show, pane
        Its name in the layer control, whether it is on at first, its pane.
    """
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()].reset_index(drop=True)
    column = class_column(kind)
    values = frame[column] if column in frame else pd.Series("", index=frame.index)
    styles, index = class_styles(kind, values)

    overview = overview_frame(
        frame, by=column if column in frame else None, cell_m=overview_cell_m(frame)
    )
    shown = to_display_crs(
        overview, options, detailed=np.zeros(len(overview), bool), latitude=latitude
    )
    o_styles, o_index = class_styles(
        kind, shown[column] if column in shown else pd.Series("", index=shown.index)
    )
    # The overview is drawn on canvas tiles (identify-all tests the features
    # themselves): it carries its styles, no popups.
    decimals = display_decimals(options, latitude, detailed=False)
    styled = [{"_s": int(i)} if i else {} for i in o_index]
    overview_json = pack_features(shown.geometry.values, styled, decimals)

    # Simplified to half a pixel at detail_zoom, as the layers drawn as vectors are.
    # (a quadrilateral cannot lose a vertex: only longer outlines are simplified).
    simple = frame.geometry.values.copy()
    long = shapely.get_num_coordinates(simple) > 8
    tolerance = pixel_size_m(options.detail_zoom, latitude) / 2
    simple[long] = shapely.simplify(simple[long], tolerance, preserve_topology=True)
    drawn = display_geometries(frame.set_geometry(simple), options)
    keys = cell_keys(frame, options.dissolve_cell_m)
    scale = display_scale(options, latitude, detailed=False)
    family, cells, _ = pack_cells(drawn, index, keys, scale)
    ids = frame["id"].astype(str) if "id" in frame else pd.Series("", index=frame.index)
    order = np.argsort(keys, kind="stable")
    cell_of = np.empty(len(frame), np.int64)
    cell_of[order] = np.cumsum(np.r_[True, keys[order][1:] != keys[order][:-1]]) - 1
    title = kind_title(kind)
    classes = list(CLASS_STYLES[kind].styles) if kind in CLASS_STYLES else []
    spec = {
        "styles": [style.leaflet() for style in styles],
        "title": TOOLTIP,
        "kindTitle": title,
        "fields": ["编号", CLASS_LABEL] if classes else ["编号"],
        "classField": CLASS_LABEL if classes else None,
        "classes": classes,
        "detailZoom": options.detail_from_zoom,
        "pane": pane,
        "overview": {
            "styles": [style.leaflet() for style in o_styles],
            "pane": pane,
        },
    }
    content = {
        "spec": spec,
        "t": family,
        "s": scale,
        "cells": cells,
        "ids": pack_ids(ids.tolist()),
        "cellOf": deflated(varints(cell_of)),
    }
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return DenseLayer(text[:-1] + f',"overview":{overview_json}}}', name=name, show=show)


def dense_conflicts(
    table: gpd.GeoDataFrame,
    rows: np.ndarray,
    style: Style,
    options: DisplayOptions,
    latitude: float,
    *,
    name: str,
    pane: str,
    symbols: bool,
    fields: list[str],
) -> DenseLayer:
    """The conflicts of one severity as a dense layer; popups from the conflicts' table.

    Parameters
    ----------
    table : geopandas.GeoDataFrame
        Every conflict, in the order of the conflicts' table
        (:func:`maps.conflict_table.conflict_table`), projected CRS.
    rows : numpy.ndarray of int
        Positions (increasing) of this layer's conflicts in ``table``.
    style : Style
    options : DisplayOptions
    latitude : float
    name, pane
        Its name in the layer control and its pane.
    symbols : bool
        Draw a symbol on each conflict smaller than a few pixels.
    fields : list of str
        Popup fields in order (below the rule, the popup's title).
    """
    frame = table.iloc[rows]
    # At the dense layers' step (half a pixel at detail_zoom), not the vector
    # conflicts' (conflict_zoom): tens of thousands of them, in a third fewer bytes.
    scale = display_scale(options, latitude, detailed=False)
    drawn = display_geometries(frame, options)
    points = gpd.GeoDataFrame(
        geometry=shapely.point_on_surface(frame.geometry.values), crs=frame.crs
    )
    points = to_display_crs(points, options, latitude=latitude).geometry.values
    # Conflicts are drawn from zoom 0: a cell's chunk is inflated only when one
    # of its features is drawn as an outline (3 px with symbols, else 1 px), so
    # the cells are also split by size (spans of 1, 2, 4 … m apart) and the
    # smallest are drawn from their points until zoomed in.
    keys = cell_keys(frame, options.dissolve_cell_m * CONFLICT_CELLS) * SIZE_CLASSES
    keys += _size_class(frame)
    family, cells, packed = pack_cells(
        drawn,
        np.zeros(len(rows), int),
        keys,
        scale,
        rows,
        np.column_stack([shapely.get_x(points), shapely.get_y(points)]),
    )
    spec = {
        "styles": [style.leaflet()],
        "title": "规则",
        "fields": fields,
        "findings": True,
        "symbols": symbols,
        "detailZoom": 0,
        "pane": pane,
    }
    content = {
        "spec": spec,
        "t": family,
        "s": scale,
        "cells": cells,
        "points": packed,
        "overview": None,
    }
    return DenseLayer(json.dumps(content, ensure_ascii=False, separators=(",", ":")), name=name)
