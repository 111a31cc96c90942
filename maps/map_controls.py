"""The map's controls: inlined assets, title, scale bar, and the layer tree with its legend.

Every element that shows data is a :class:`maps.slots.DataElement`.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import ClassVar

import folium
from branca.element import MacroElement
from jinja2 import Template

from geoplan.maps.assets import leaflet
from geoplan.maps.map_layers import MapLayer
from geoplan.maps.slots import DataElement, data_template, script_json
from geoplan.maps.style import Style

#: geoplan's scripts in load order (``geoplan.js`` defines the namespace the others extend).
SCRIPTS = (
    "geoplan.js",
    "geoplan-geodesy.js",
    "geoplan-tree.js",
    "geoplan-dense.js",
    "geoplan-findings.js",
    "geoplan-search.js",
    "geoplan-tools.js",
    "geoplan-links.js",
)


def _static(name: str) -> str:
    return resources.files("geoplan.maps").joinpath("static", name).read_text(encoding="utf-8")


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
            [
                lib.css,
                _static("geoplan.css"),
                f".leaflet-container {{ background: {background}; }}",
            ]
        )
        self.js = "\n".join([lib.js, *(_static(name) for name in SCRIPTS)])
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

    _template = data_template(
        'geoplan.title({{ this._parent.get_name() }}, geoplan.data("{{ this.get_name() }}_data"));',
        header='<title id="{{ this.get_name() }}_title"></title>',
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


def swatch(style: Style, line: bool = False) -> dict[str, str]:
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


def legend_rows(
    rows: list[tuple[str, Style, bool]], heading: str | None = None
) -> dict[str, object]:
    """A layer's legend (see :class:`maps.map_layers.MapLayer`) from label, style, line rows."""
    out: dict[str, object] = {
        "rows": [[label, swatch(style, line), line] for label, style, line in rows]
    }
    if heading:
        out["heading"] = heading
    return out


class LayerControl(DataElement, MacroElement):
    """The layer tree and legend over every :class:`MapLayer` of the map (add it after them).

    Overlays are grouped as :data:`maps.map_tools.GROUPS` (each group
    foldable, with its opacity); the legend shows the entries of the layers
    on the map. The page keeps the layers by name in ``<name>_layers``
    (``base_layers`` and ``overlays``), as folium's control does, and in
    ``geoplan.registry`` for the tools.

    Parameters
    ----------
    groups : list of (str, str)
        Group title and its pane, in tree order.
    headings : dict of str to str
        Legend heading of a group where it differs from its title.
    """

    _template = data_template(
        """
        var {{ this.get_name() }}_layers = geoplan.layerControl(
            {{ this._parent.get_name() }},
            [{{ this.layer_names | join(", ") }}],
            geoplan.data("{{ this.get_name() }}_data"));
        """
    )

    def __init__(self, groups: list[tuple[str, str]], headings: dict[str, str]):
        super().__init__()
        self._name = "LayerControl"
        self.groups = groups
        self.headings = headings
        self.layer_names: list[str] = []

    def render(self, **kwargs) -> None:
        """Collect the parent's layers, then render."""
        layers = [item for item in self._parent._children.values() if isinstance(item, MapLayer)]
        self.layer_names = [layer.get_name() for layer in layers]
        self.data_json = script_json(
            {
                "summary": "图例",
                "groups": [
                    {"title": title, "pane": pane, "heading": self.headings.get(title, title)}
                    for title, pane in self.groups
                ],
                "layers": [
                    {
                        "name": x.control_name,
                        "overlay": x.overlay,
                        "group": x.group,
                        "kind": x.kind,
                        "legend": x.legend,
                    }
                    for x in layers
                ],
            }
        )
        super().render(**kwargs)
