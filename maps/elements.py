"""folium elements of the offline map: inlined assets, title, legend, labels, scale.

Each renders only JavaScript and CSS that is inside the page. Text from the
data is handed to the page as JSON and put into the DOM as text
(``geoplan.text`` in ``static/geoplan.js``); the legend's HTML is built here
from escaped strings.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import ClassVar

import folium
from branca.element import MacroElement
from jinja2 import Template

from maps.assets import leaflet
from maps.style import Style


def script_safe(text: str) -> str:
    """JSON text made safe inside a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_json(value: object) -> str:
    """``value`` as compact UTF-8 JSON that is safe inside a ``<script>`` element."""
    return script_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _static(name: str) -> str:
    return resources.files("maps").joinpath("static", name).read_text(encoding="utf-8")


class OfflineMap(folium.Map):
    """A folium map that links nothing: its assets come from :class:`InlineAssets`."""

    default_js: ClassVar[list[tuple[str, str]]] = []
    default_css: ClassVar[list[tuple[str, str]]] = []


class InlineAssets(MacroElement):
    """Leaflet and geoplan's own JS and CSS, inlined into the page header."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        <script>{{ this.js }}</script>
        {% endmacro %}
        """
    )

    def __init__(self, background: str):
        super().__init__()
        self._name = "InlineAssets"
        lib = leaflet()
        own_css = _static("geoplan.css")
        # "</" would end the element early; it does not occur in either file.
        self.css = "\n".join(
            [lib.css, own_css, f".leaflet-container {{ background: {background}; }}"]
        )
        self.js = "\n".join([lib.js, _static("geoplan.js")])
        for part in (self.css, self.js):
            if "</script" in part.lower() or "</style" in part.lower():
                raise ValueError("an inlined asset contains a closing tag")


class Title(MacroElement):
    """The map's title and a second line (dataset, run date), top centre."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var box = geoplan.text("div", {{ this.title_json }}, "geoplan-title");
            box.appendChild(geoplan.text("small", {{ this.subtitle_json }}));
            {{ this._parent.get_name() }}.getContainer().appendChild(box);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, subtitle: str):
        super().__init__()
        self._name = "Title"
        self.title_json = script_json(title)
        self.subtitle_json = script_json(subtitle)


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


def _swatch(style: Style, line: bool = False) -> str:
    if line:
        dash = "dashed" if style.dash else "solid"
        return f'<i class="line" style="border-top: 3px {dash} {style.color}"></i>'
    fill = style.fill or "transparent"
    opacity = style.fill_opacity if style.fill else 0
    dash = "dashed" if style.dash else "solid"
    border = f"{max(1.0, min(style.weight, 3.0)):.0f}px {dash} {style.color}"
    background = _rgba(fill, opacity) if style.fill else "transparent"
    return f'<i style="background: {background}; border: {border}"></i>'


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha:.2f})"


class Legend(MacroElement):
    """The legend: sections of swatches with labels, bottom right, foldable.

    Parameters
    ----------
    sections : list of (str, list of (str, Style, bool))
        Heading, then entries of label, style and whether it is a line.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var box = document.createElement("details");
            box.className = "geoplan-legend";
            box.open = {{ this._parent.get_name() }}.getSize().y > 700;
            box.innerHTML = {{ this.html_json }};
            geoplan.control({{ this._parent.get_name() }}, box, "bottomleft");
        })();
        {% endmacro %}
        """
    )

    def __init__(self, sections: list[tuple[str, list[tuple[str, Style, bool]]]]):
        super().__init__()
        self._name = "Legend"
        parts = ["<summary>图例</summary>"]
        for heading, entries in sections:
            parts.append(f"<h4>{html.escape(heading)}</h4>")
            for label, style, line in entries:
                parts.append(f"<div>{_swatch(style, line)}{html.escape(label)}</div>")
        self.html_json = script_json("".join(parts))


class Labels(folium.map.Layer):
    """Permanent text labels at points, shown from ``min_zoom`` on; a layer of its own.

    Parameters
    ----------
    rows : list of (float, float, str)
        Latitude, longitude (degrees) and text.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        geoplan.labels({{ this._parent.get_name() }}, {{ this.get_name() }},
                       {{ this.rows_json }}, {{ this.min_zoom }});
        {% endmacro %}
        """
    )

    def __init__(
        self, rows: list[tuple[float, float, str]], name: str, min_zoom: int, show: bool = True
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "Labels"
        self.rows_json = script_json(rows)
        self.min_zoom = int(min_zoom)


class GeoJsonLayer(folium.map.Layer):
    """A vector overlay drawn by ``geoplan.layer`` (``static/geoplan.js``).

    Unlike :class:`folium.GeoJson` the features go into the page packed
    (:mod:`maps.packing`), styles are looked up by the feature's ``_s``
    index, and popups merge the fields shared by many features (``_r``
    index into ``shared``) only when they open.

    Parameters
    ----------
    features_json : str
        Features packed by :func:`maps.packing.pack_features`.
    spec : dict
        ``styles`` (Leaflet path options by ``_s``), ``title`` (property
        name), ``tooltip`` (property name, or names joined with " · "),
        ``fields`` (popup rows in order), optional
        ``shared`` (property sets by ``_r``) and ``highlight`` (path options
        under the pointer).
    name : str
        Name in the layer control (plain text; escaped here).
    show : bool
        Visible when the map opens.
    """

    # The data sits in a JSON script element: JSON.parse reads it several
    # times faster than the JavaScript parser reads the same literal.
    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <script type="application/json" id="{{ this.get_name() }}_data">
        {{- this.features_json -}}
        </script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoplan.layer(
            JSON.parse(document.getElementById("{{ this.get_name() }}_data").textContent),
            {{ this.spec_json }});
        {% endmacro %}
        """
    )

    def __init__(self, features_json: str, spec: dict, name: str, show: bool = True):
        super().__init__(name=html.escape(name), overlay=True, control=True, show=show)
        self._name = "GeoJsonLayer"
        self.features_json = script_safe(features_json)
        self.spec_json = script_json(spec)
