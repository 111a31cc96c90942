"""The map's working tools: panes, the findings panel, search, identify, measure, print.

Each is a :class:`maps.slots.DataElement` whose script calls a function of
``static/geoplan-*.js`` with its JSON slot; add them after the layer control
(which registers the layers those functions look through), except
:class:`Panes`, which comes before the layers.
"""

from __future__ import annotations

import base64
import json
import zlib

import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from pyproj import CRS

from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES
from geoplan.maps.display import DisplayOptions, to_display_crs
from geoplan.maps.slots import DataElement, data_template, script_json

#: Layer groups of the layer tree, bottom to top, with the kinds each holds.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("底图", ()),
    ("地形", ()),
    ("三区", ("zone_ecological", "zone_agricultural", "zone_urban")),
    ("现状", ("townships", "cultivated_land", "rivers", "tailings", "construction", "counties")),
    ("三线", ("permanent_farmland", "ecological_redline", "urban_boundary")),
    ("自然保护地", ("protected_areas", "water_source_protection")),
    ("园区", ("parks",)),
    ("冲突", ()),
)
BASEMAP, TERRAIN, CONFLICTS = "底图", "地形", "冲突"


def group_of(kind: str) -> str:
    """The layer-tree group of a layer kind (现状 for kinds no group names)."""
    for title, kinds in GROUPS:
        if kind in kinds:
            return title
    return "现状"


def pane_of(group: str) -> str:
    """The Leaflet pane a group's layers are drawn in (its opacity is the group's)."""
    return f"geoplan-pane-{[title for title, _ in GROUPS].index(group)}"


def _script(function: str, *, with_map: bool = True) -> str:
    target = "{{ this._parent.get_name() }}, " if with_map else ""
    return f'geoplan.{function}({target}geoplan.data("{{{{ this.get_name() }}}}_data"));'


class Panes(DataElement, MacroElement):
    """One pane per layer group, stacked in :data:`GROUPS` order above Leaflet's overlay pane."""

    _template = data_template(_script("panes"))

    def __init__(self):
        super().__init__()
        self._name = "Panes"
        self.data_json = script_json(
            [{"name": pane_of(title), "title": title} for title, _ in GROUPS]
        )


def findings_rows(conflicts: gpd.GeoDataFrame, display: DisplayOptions, latitude: float) -> list:
    """The findings panel's rows, by severity (prohibited first) then area (largest first).

    Each row: conflict_id, severity, rule title, county, township, area (m²),
    latitude and longitude (degrees) of a point inside it (where the symbol
    of a small prohibited finding is drawn and its popup opens).
    """
    order = {severity: i for i, severity in enumerate(SEVERITIES)}
    frame = conflicts.assign(
        _order=conflicts["severity"].map(order).fillna(len(order)),
        _area=conflicts["area_m2"].astype(float),
    ).sort_values(["_order", "_area"], ascending=[True, False], kind="stable")
    points = gpd.GeoDataFrame(
        geometry=shapely.point_on_surface(frame.geometry.values), crs=frame.crs
    )
    points = to_display_crs(points, display, latitude=latitude).geometry.values
    text = frame[["conflict_id", "severity", "rule_title", "county", "township"]].astype(str)
    text = text.where(
        frame[["conflict_id", "severity", "rule_title", "county", "township"]].notna(), ""
    )
    return [
        [*values, round(float(area), 2), round(float(y), 6), round(float(x), 6)]
        for values, area, x, y in zip(
            text.itertuples(index=False, name=None),
            frame["_area"],
            shapely.get_x(points),
            shapely.get_y(points),
            strict=True,
        )
    ]


class Findings(DataElement, MacroElement):
    """The findings panel (``geoplan.findings``) and the symbols of small prohibited findings.

    Parameters
    ----------
    rows : list
        From :func:`findings_rows`.
    """

    _template = data_template(_script("findings"))

    def __init__(self, rows: list):
        super().__init__()
        self._name = "Findings"
        severities = [[s, SEVERITY_TITLES[s]] for s in SEVERITIES]
        self.data_json = script_json({"severities": severities, "rows": rows})


def patch_index(frame: gpd.GeoDataFrame, display: DisplayOptions, latitude: float) -> str:
    """Ids, points and extents of a dissolved layer's features, deflated, base64.

    The page draws such a layer merged by grid cell, so its patches' ids
    (图斑编号) are not in its features; search finds them here. The JSON
    (``ids``, ``xy``: a point inside each as differences of 10⁻⁵° integers,
    ``b``: the extent around that point, west, south, east, north offsets)
    is compressed with zlib (``DecompressionStream("deflate")`` reads it).
    """
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    shown = to_display_crs(frame[["id", "geometry"]], display, latitude=latitude)
    geoms = shown.geometry.values
    scale = 10**5
    point = np.rint(shapely.get_coordinates(shapely.point_on_surface(geoms)) * scale).astype(
        np.int64
    )
    bounds = np.rint(shapely.bounds(geoms) * scale).astype(np.int64)
    extent = np.column_stack(
        [
            point[:, 0] - bounds[:, 0],
            point[:, 1] - bounds[:, 1],
            bounds[:, 2] - point[:, 0],
            bounds[:, 3] - point[:, 1],
        ]
    )
    deltas = np.diff(point, axis=0, prepend=np.zeros((1, 2), np.int64))
    content = {
        "ids": shown["id"].astype(str).tolist(),
        "s": scale,
        "xy": deltas.ravel().tolist(),
        "b": extent.ravel().tolist(),
    }
    raw = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


class Search(DataElement, MacroElement):
    """The search box (``id="geoplan-search"``) and identify-all on click.

    Parameters
    ----------
    patches : dict of str to str
        Layer kind → :func:`patch_index` of its dissolved features.
    """

    _template = data_template(_script("search"))

    def __init__(self, patches: dict[str, str]):
        super().__init__()
        self._name = "Search"
        self.data_json = script_json({"patches": patches})


def gauss_kruger_zone(crs: CRS) -> dict | None:
    """Parameters of a transverse Mercator CRS on GRS80 for the page's readout, or None.

    ``lon0`` (degrees), ``k0``, ``x0`` and ``y0`` (false easting and
    northing, metres); None for other projections, ellipsoids or units.
    """
    operation = crs.coordinate_operation
    ellipsoid = crs.ellipsoid
    if (
        operation is None
        or operation.method_name != "Transverse Mercator"
        or ellipsoid is None
        or abs(ellipsoid.semi_major_metre - 6378137.0) > 1e-3
        or abs(ellipsoid.inverse_flattening - 298.257222101) > 1e-6
    ):
        return None
    params = {p.name: p for p in operation.params}
    wanted = {
        "lon0": ("Longitude of natural origin", "degree"),
        "k0": ("Scale factor at natural origin", "unity"),
        "x0": ("False easting", "metre"),
        "y0": ("False northing", "metre"),
    }
    if params.get("Latitude of natural origin") and params["Latitude of natural origin"].value:
        return None
    out: dict = {"name": crs.name, "epsg": crs.to_epsg()}
    for key, (name, unit) in wanted.items():
        if name not in params or params[name].unit_name != unit:
            return None
        out[key] = float(params[name].value)
    return out


class Tools(DataElement, MacroElement):
    """Measure, coordinate readout and A4 print (``geoplan.tools``).

    Parameters
    ----------
    title, subtitle : str
        Printed above the map image.
    zone : dict, optional
        From :func:`gauss_kruger_zone` for the working CRS.
    gcj02 : bool
        The drawn coordinates are shifted into GCJ-02; the readout and the
        measurements shift them back first.
    """

    _template = data_template(_script("tools"))

    def __init__(self, title: str, subtitle: str, zone: dict | None, gcj02: bool):
        super().__init__()
        self._name = "Tools"
        self.data_json = script_json(
            {"title": title, "subtitle": subtitle, "zone": zone, "gcj02": bool(gcj02)}
        )
