"""folium elements of the offline map: assets, title, legend, labels, layers, control, scale.

No value from the data is ever seen by a template engine. branca renders an
element's macros and then compiles their output *again* as a Jinja template
(``MacroElement.render`` wraps it in an ``Element``), so any text inside the
markup a macro writes would be evaluated — ``{{ … }}`` in a township's name
would run Python. The templates here hold only fixed code and the elements'
generated names. Each element's data go into a *slot*: an empty element
named after it (``<script type="application/json" id="…_data">``, or the
page's ``<style>``, ``<script>`` and ``<title>``) that :func:`fill_slots`
fills by exact string operations once folium has rendered the page.
``static/geoplan.js`` reads the JSON slots and puts every text into the DOM
as text (``textContent``; HTML-escaped for the Leaflet APIs that take HTML).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import ClassVar

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from geoplan.maps.assets import leaflet
from geoplan.maps.style import Style

# The slot of an element's data; the macro is part of every data element's template.
_DATA_SLOT = (
    "{% macro html(this, kwargs) %}"
    '<script type="application/json" id="{{ this.get_name() }}_data"></script>'
    "{% endmacro %}"
)


def script_safe(text: str) -> str:
    """JSON text made safe inside a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_json(value: object) -> str:
    """``value`` as compact UTF-8 JSON that is safe inside a ``<script>`` element."""
    return script_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _static(name: str) -> str:
    return resources.files("geoplan.maps").joinpath("static", name).read_text(encoding="utf-8")


def _json_slot(element: Element, content: str = "") -> str:
    return f'<script type="application/json" id="{element.get_name()}_data">{content}</script>'


class DataElement:
    """Mixin of an element whose data are put into its slot after rendering.

    Subclasses set ``data_json`` (JSON made safe by :func:`script_safe`) and
    start their template with the data slot; the page reads it with
    ``geoplan.data("<name>_data")``.
    """

    data_json: str = "null"

    def slots(self) -> dict[str, str]:
        """The element's empty slots in the rendered page and what fills each."""
        return {_json_slot(self): _json_slot(self, self.data_json)}


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def fill_slots(page: str, root: Element) -> str:
    """Fill the slots of ``root``'s data elements into its rendered ``page``.

    Each empty slot is found in the page as rendered (never in data already
    filled in) and must occur exactly once.

    Raises
    ------
    RuntimeError
        A slot is missing from the page or occurs more than once (a bug).
    """
    slots: dict[str, str] = {}
    for element in _walk(root):
        if isinstance(element, DataElement):
            slots.update(element.slots())
    found = []
    for empty in slots:
        start = page.find(empty)
        if start < 0 or page.find(empty, start + 1) >= 0:
            raise RuntimeError(f"map slot {empty!r} does not occur exactly once in the page")
        found.append((start, empty))
    parts, end = [], 0
    for start, empty in sorted(found):
        parts += [page[end:start], slots[empty]]
        end = start + len(empty)
    parts.append(page[end:])
    return "".join(parts)


class OfflineMap(folium.Map):
    """A folium map that links nothing: its assets come from :class:`InlineAssets`."""

    default_js: ClassVar[list[tuple[str, str]]] = []
    default_css: ClassVar[list[tuple[str, str]]] = []


class InlineAssets(DataElement, MacroElement):
    """Leaflet and geoplan's own JS and CSS, inlined into the page header."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style id="{{ this.get_name() }}_css"></style>
        <script id="{{ this.get_name() }}_js"></script>
        {% endmacro %}
        """
    )

    def __init__(self, background: str):
        super().__init__()
        self._name = "InlineAssets"
        lib = leaflet()
        self.css = "\n".join(
            [lib.css, _static("geoplan.css"), f".leaflet-container {{ background: {background}; }}"]
        )
        self.js = "\n".join([lib.js, _static("geoplan.js")])
        for part in (self.css, self.js):
            if "</script" in part.lower() or "</style" in part.lower():
                raise ValueError("an inlined asset contains a closing tag")

    def slots(self) -> dict[str, str]:
        """The empty ``<style>`` and ``<script>`` and the same holding the assets."""
        name = self.get_name()
        return {
            f'<style id="{name}_css"></style>': f'<style id="{name}_css">{self.css}</style>',
            f'<script id="{name}_js"></script>': f'<script id="{name}_js">{self.js}</script>',
        }


class Title(DataElement, MacroElement):
    """The map's title and a second line (dataset, run date), top centre; the page title."""

    _template = Template(
        _DATA_SLOT
        + """
        {% macro header(this, kwargs) %}
        <title id="{{ this.get_name() }}_title"></title>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        geoplan.title({{ this._parent.get_name() }}, geoplan.data("{{ this.get_name() }}_data"));
        {% endmacro %}
        """
    )

    def __init__(self, title: str, subtitle: str):
        super().__init__()
        self._name = "Title"
        self.title = title
        self.data_json = script_json({"title": title, "subtitle": subtitle})

    def slots(self) -> dict[str, str]:
        """The data slot and the document's ``<title>`` (escaped text)."""
        empty = f'<title id="{self.get_name()}_title"></title>'
        filled = f'<title id="{self.get_name()}_title">{html.escape(self.title)}</title>'
        return {**super().slots(), empty: filled}


class ScaleBar(MacroElement):
    """A metric scale bar."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 200}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "ScaleBar"


def _swatch(style: Style, line: bool = False) -> dict[str, str]:
    """CSS properties (camelCase, as ``element.style`` takes them) of a legend swatch."""
    dash = "dashed" if style.dash else "solid"
    if line:
        return {"borderTop": f"3px {dash} {style.color}"}
    border = f"{max(1.0, min(style.weight, 3.0)):.0f}px {dash} {style.color}"
    background = _rgba(style.fill, style.fill_opacity) if style.fill else "transparent"
    return {"background": background, "border": border}


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha:.2f})"


class Legend(DataElement, MacroElement):
    """The legend: sections of swatches with labels, bottom left, foldable.

    Parameters
    ----------
    sections : list of (str, list of (str, Style, bool))
        Heading, then entries of label, style and whether it is a line.
    """

    _template = Template(
        _DATA_SLOT
        + """
        {% macro script(this, kwargs) %}
        geoplan.legend({{ this._parent.get_name() }}, geoplan.data("{{ this.get_name() }}_data"));
        {% endmacro %}
        """
    )

    def __init__(self, sections: list[tuple[str, list[tuple[str, Style, bool]]]]):
        super().__init__()
        self._name = "Legend"
        self.data_json = script_json(
            {
                "summary": "图例",
                "sections": [
                    [heading, [[label, _swatch(style, line), line] for label, style, line in rows]]
                    for heading, rows in sections
                ],
            }
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
    """

    def __init__(self, name: str, *, overlay: bool = True, show: bool = True):
        # folium's own name field stays the generated one: nothing of the data in it.
        super().__init__(name=None, overlay=overlay, control=True, show=show)
        self.control_name = name


class LayerControl(DataElement, MacroElement):
    """The layer control, listing every :class:`MapLayer` of the map in order (add it last).

    The page keeps the layers by name in ``<name>_layers`` (``base_layers``
    and ``overlays``), as folium's control does.
    """

    _template = Template(
        _DATA_SLOT
        + """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_layers = geoplan.layerControl(
            {{ this._parent.get_name() }},
            [{{ this.layer_names | join(", ") }}],
            geoplan.data("{{ this.get_name() }}_data"));
        {% endmacro %}
        """
    )

    def __init__(self, collapsed: bool = False):
        super().__init__()
        self._name = "LayerControl"
        self.collapsed = collapsed
        self.layer_names: list[str] = []

    def render(self, **kwargs) -> None:
        """Collect the parent's layers, then render."""
        layers = [item for item in self._parent._children.values() if isinstance(item, MapLayer)]
        self.layer_names = [layer.get_name() for layer in layers]
        self.data_json = script_json(
            {
                "collapsed": self.collapsed,
                "layers": [{"name": x.control_name, "overlay": x.overlay} for x in layers],
            }
        )
        super().render(**kwargs)


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
    """

    _template = Template(
        _DATA_SLOT
        + """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoplan.tiles(geoplan.data("{{ this.get_name() }}_data"));
        {% endmacro %}
        """
    )

    def __init__(
        self, url: str, attribution: str, subdomains: str, max_zoom: int, name: str, overlay: bool
    ):
        super().__init__(name, overlay=overlay)
        self._name = "TileLayer"
        self.data_json = script_json(
            {
                "url": url,
                "attribution": attribution,
                "subdomains": subdomains,
                "maxZoom": int(max_zoom),
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
    """

    _template = Template(
        _DATA_SLOT
        + """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoplan.image(geoplan.data("{{ this.get_name() }}_data"));
        {% endmacro %}
        """
    )

    def __init__(self, url: str, bounds: list[list[float]], opacity: float, name: str, show: bool):
        super().__init__(name, show=show)
        self._name = "ImageOverlay"
        self.data_json = script_json({"url": url, "bounds": bounds, "opacity": float(opacity)})


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

    _template = Template(
        _DATA_SLOT
        + """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        geoplan.labels({{ this._parent.get_name() }}, {{ this.get_name() }},
                       geoplan.data("{{ this.get_name() }}_data"));
        {% endmacro %}
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
    index into ``shared``) only when they open.

    Parameters
    ----------
    features_json : str
        Features packed by :func:`maps.packing.pack_features`.
    spec : mapping
        ``styles`` (Leaflet path options by ``_s``), ``title`` (property
        name), ``tooltip`` (property name, or names joined with " · "),
        ``fields`` (popup rows in order), optional
        ``shared`` (property sets by ``_r``) and ``highlight`` (path options
        under the pointer).
    name : str
        Name in the layer control (plain text).
    show : bool
        Visible when the map opens.
    """

    # JSON.parse reads the features several times faster than the
    # JavaScript parser reads the same literal.
    _template = Template(
        _DATA_SLOT
        + """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoplan.layer(geoplan.data("{{ this.get_name() }}_data"));
        {% endmacro %}
        """
    )

    def __init__(self, features_json: str, spec: Mapping, name: str, show: bool = True):
        super().__init__(name, show=show)
        self._name = "GeoJsonLayer"
        self.data_json = (
            f'{{"features":{script_safe(features_json)},"spec":{script_json(dict(spec))}}}'
        )
