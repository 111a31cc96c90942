"""The map's layers, each listed in the layer control: tiles, images, labels, vector features."""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd
import shapely
from jinja2 import Template

from geoplan.maps.display import DisplayOptions, to_display_crs
from geoplan.maps.slots import DataElement, data_template, script_json, script_safe


def _made_by(function: str) -> Template:
    """The template of a layer that ``geoplan.<function>`` (``static/geoplan.js``) makes."""
    return data_template(
        "var {{ this.get_name() }} = geoplan."
        + function
        + '(geoplan.data("{{ this.get_name() }}_data"));'
    )


class MapLayer(DataElement, folium.map.Layer):
    """A layer of the layer control; its name reaches the page only through its slot.

    Parameters
    ----------
    name : str
        Name in the layer control (plain text).
    overlay : bool
        A checkbox overlay (True) or a radio-button base layer.
    show : bool
        Visible when the map opens.

    Attributes
    ----------
    group : str
        Its group in the layer tree (:data:`maps.map_tools.GROUPS`).
    kind : str
        Layer kind it draws ("" for others); search and identify use it.
    legend : dict or None
        ``heading`` (optional) and ``rows`` (label, swatch CSS, line) shown
        in the legend while the layer is on the map.
    """

    def __init__(self, name: str, *, overlay: bool = True, show: bool = True):
        # folium's own name field stays the generated one: nothing of the data in it.
        super().__init__(name=None, overlay=overlay, control=True, show=show)
        self.control_name = name
        self.group = "现状"
        self.kind = ""
        self.legend: dict | None = None

    def placed(self, group: str, *, kind: str = "", legend: dict | None = None) -> MapLayer:
        """Set the layer's tree group, kind and legend; returns the layer."""
        self.group, self.kind, self.legend = group, kind, legend
        return self


class TileLayer(MapLayer):
    """A basemap's tile layer (``geoplan.tiles``).

    Parameters
    ----------
    url : str
        XYZ template (checked by :func:`maps.basemaps.basemap`).
    attribution : str
        Plain text.
    subdomains : str
    max_zoom : int
    name : str
    overlay : bool
        An annotation layer over the base tiles.
    pane : str
        Leaflet pane it is drawn in.
    """

    _template = _made_by("tiles")

    def __init__(
        self,
        url: str,
        attribution: str,
        subdomains: str,
        max_zoom: int,
        name: str,
        overlay: bool,
        pane: str = "tilePane",
    ):
        super().__init__(name, overlay=overlay)
        self._name = "TileLayer"
        self.data_json = script_json(
            {
                "url": url,
                "attribution": attribution,
                "subdomains": subdomains,
                "maxZoom": int(max_zoom),
                "pane": pane,
            }
        )


class ImageOverlay(MapLayer):
    """An image stretched over ``bounds`` (``geoplan.image``).

    Parameters
    ----------
    url : str
        ``data:`` URI of the image.
    bounds : list of list of float
        ``[[south, west], [north, east]]`` (degrees).
    opacity : float
    name : str
    show : bool
    pane : str
        Leaflet pane it is drawn in.
    """

    _template = _made_by("image")

    def __init__(
        self,
        url: str,
        bounds: list[list[float]],
        opacity: float,
        name: str,
        show: bool,
        pane: str = "overlayPane",
    ):
        super().__init__(name, show=show)
        self._name = "ImageOverlay"
        self.data_json = script_json(
            {"url": url, "bounds": bounds, "opacity": float(opacity), "pane": pane}
        )


class Labels(MapLayer):
    """Permanent text labels at points, shown from ``min_zoom`` on; a layer of its own.

    Parameters
    ----------
    rows : list of (float, float, str)
        Latitude, longitude (degrees) and text.
    name : str
    min_zoom : int
    show : bool
    """

    _template = data_template(
        """
        var {{ this.get_name() }} = L.layerGroup();
        geoplan.labels({{ this._parent.get_name() }}, {{ this.get_name() }},
                       geoplan.data("{{ this.get_name() }}_data"));
        """
    )

    def __init__(
        self, rows: list[tuple[float, float, str]], name: str, min_zoom: int, show: bool = True
    ):
        super().__init__(name, show=show)
        self._name = "Labels"
        self.data_json = script_json({"rows": rows, "minZoom": int(min_zoom)})


class GeoJsonLayer(MapLayer):
    """A vector overlay drawn by ``geoplan.layer`` (``static/geoplan.js``).

    Unlike :class:`folium.GeoJson` the features go into the page packed
    (:mod:`maps.packing`), styles are looked up by the feature's ``_s``
    index, and popups merge the fields shared by many features (``_r``
    index into ``shared``) only when they open. The features are read with
    ``JSON.parse``, several times faster than the JavaScript parser reads
    the same literal.

    Parameters
    ----------
    features_json : str
        Features packed by :func:`maps.packing.pack_features`.
    spec : mapping
        ``styles`` (Leaflet path options by ``_s``), ``title`` (property
        name), ``tooltip`` (property name, or names joined with " · "),
        ``fields`` (popup rows in order), optional
        ``shared`` (property sets by ``_r``), ``highlight`` (path options
        under the pointer) and ``pane`` (Leaflet pane).
    name : str
        Name in the layer control (plain text).
    show : bool
        Visible when the map opens.
    """

    _template = _made_by("layer")

    def __init__(self, features_json: str, spec: Mapping, name: str, show: bool = True):
        super().__init__(name, show=show)
        self._name = "GeoJsonLayer"
        self.data_json = (
            f'{{"features":{script_safe(features_json)},"spec":{script_json(dict(spec))}}}'
        )


class DenseLayer(MapLayer):
    """A layer of many features drawn by ``geoplan.dense`` (``static/geoplan-dense.js``).

    Parameters
    ----------
    content_json : str
        ``spec``, ``t``, ``s``, ``cells``, ``ids``, ``cellOf`` (or
        ``points``) and ``overview`` (:func:`maps.dense_layer.dense_layer`,
        :func:`maps.dense_layer.dense_conflicts`), as JSON.
    name : str
    show : bool
    """

    _template = _made_by("dense")

    def __init__(self, content_json: str, name: str, show: bool = True):
        super().__init__(name, show=show)
        self._name = "DenseLayer"
        self.data_json = script_safe(content_json)


def township_labels(
    frame: gpd.GeoDataFrame, display: DisplayOptions, latitude: float, min_zoom: int
) -> Labels:
    """The townships' names at a point inside each, shown from ``min_zoom`` on."""
    points = gpd.GeoDataFrame(
        {"name": frame["name"].astype(str)},
        geometry=shapely.point_on_surface(frame.geometry.values),
        crs=frame.crs,
    )
    points = to_display_crs(points, display, latitude=latitude)
    rows = [
        (round(y, 5), round(x, 5), name)
        for x, y, name in zip(
            shapely.get_x(points.geometry.values),
            shapely.get_y(points.geometry.values),
            points["name"],
            strict=True,
        )
    ]
    return Labels(rows, name="乡镇名称", min_zoom=min_zoom)
