"""The one palette: how each layer kind, class and severity is drawn.

The map and the reports' legends both read it. Colours follow the usage of
国土空间规划 maps planners know: 生态保护红线 in green, 永久基本农田 in
yellow, 城镇开发边界 as a purple line, the three zones in pale red, yellow
and green, water in blue. Conflicts are coloured by severity, red to blue,
and drawn above everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Style:
    """How a polygon or line is drawn.

    Attributes
    ----------
    color : str
        Outline (or line) colour, ``#rrggbb``.
    fill : str or None
        Fill colour; None draws the outline only.
    weight : float
        Outline width (CSS pixels).
    fill_opacity : float
    opacity : float
        Outline opacity.
    dash : str or None
        SVG dash pattern, e.g. ``"6 4"``.
    """

    color: str
    fill: str | None = None
    weight: float = 1.0
    fill_opacity: float = 0.45
    opacity: float = 1.0
    dash: str | None = None

    def leaflet(self) -> dict[str, object]:
        """The Leaflet path options."""
        options: dict[str, object] = {
            "color": self.color,
            "weight": self.weight,
            "opacity": self.opacity,
            "fill": self.fill is not None,
        }
        if self.fill is not None:
            options |= {"fillColor": self.fill, "fillOpacity": self.fill_opacity}
        if self.dash:
            options["dashArray"] = self.dash
        return options


#: Layer kinds in drawing order, bottom first, with their style.
LAYER_STYLES: dict[str, Style] = {
    "zone_ecological": Style("#7fbf7b", "#c7e9c0", 0.5, 0.55),
    "zone_agricultural": Style("#d9c27a", "#fbeeb0", 0.5, 0.55),
    "zone_urban": Style("#e08a8a", "#f7c1c1", 0.5, 0.65),
    "townships": Style("#8c8c8c", "#ffffff", 0.6, 0.0),
    "cultivated_land": Style("#c9b458", "#f3e6a2", 0.3, 0.6),
    "permanent_farmland": Style("#b59a00", "#f5d800", 0.4, 0.6),
    "ecological_redline": Style("#1a9641", "#4dac26", 1.2, 0.35),
    "protected_areas": Style("#00665e", "#35978f", 1.5, 0.15, dash="6 4"),
    "water_source_protection": Style("#2166ac", "#92c5de", 1.2, 0.35, dash="2 3"),
    "tailings": Style("#8c510a", "#bf812d", 1.2, 0.6),
    "construction": Style("#7f2704", "#fdae6b", 1.2, 0.5),
    "urban_boundary": Style("#8e24aa", None, 2.5),
    "parks": Style("#8c510a", "#d8b365", 1.5, 0.6),
    "rivers": Style("#3182bd", weight=2.0, opacity=0.9),
    "counties": Style("#252525", None, 2.2, opacity=0.85),
}

#: Fill of a township by its 乡镇级主体功能区.
FUNCTION_TYPE_STYLES: dict[str, Style] = {
    "城镇化地区": Style("#8c8c8c", "#f4a582", 0.6, 0.35),
    "农产品主产区": Style("#8c8c8c", "#fee08b", 0.6, 0.35),
    "重点生态功能区": Style("#8c8c8c", "#a6d96a", 0.6, 0.35),
}

#: Protected areas by category.
PROTECTED_CATEGORY_STYLES: dict[str, Style] = {
    "自然保护区": Style("#00665e", "#01665e", 1.8, 0.2, dash="6 4"),
    "自然公园": Style("#35978f", "#80cdc1", 1.5, 0.2, dash="2 4"),
}

#: Parks: chemical parks stand out in magenta.
CHEMICAL_PARK_STYLE = Style("#c51b7d", "#de77ae", 2.5, 0.7)


@dataclass(frozen=True)
class Classes:
    """Features of a kind drawn by the value of one column.

    Attributes
    ----------
    column : str
    styles : dict of str to Style
        Value (as text: a boolean ``True`` is ``"True"``) → style; other
        values get the kind's style.
    titles : dict of str to str
        Legend titles of values that are not their own title.
    """

    column: str
    styles: dict[str, Style]
    titles: dict[str, str] = field(default_factory=dict)


#: Conflicts by severity, most severe first.
SEVERITY_STYLES: dict[str, Style] = {
    "prohibited": Style("#b2182b", "#d6604d", 2.0, 0.75),
    "restricted": Style("#e66101", "#fdb863", 2.0, 0.75),
    "notice": Style("#2c7bb6", "#abd9e9", 1.5, 0.7),
}

#: Kinds whose features are drawn by class.
CLASS_STYLES: dict[str, Classes] = {
    "townships": Classes("function_type", FUNCTION_TYPE_STYLES),
    "protected_areas": Classes("category", PROTECTED_CATEGORY_STYLES),
    "parks": Classes("chemical", {"True": CHEMICAL_PARK_STYLE}, {"True": "化工园区"}),
}

#: A conflict under the pointer.
HIGHLIGHT_STYLE = Style("#000000", "#ffff33", 3.0, 0.9)

#: Map background when no basemap is chosen.
BACKGROUND = "#f4f3ef"


def kind_style(kind: str) -> Style:
    """The style of a layer kind (a neutral grey outline for kinds not listed)."""
    return LAYER_STYLES.get(kind, Style("#636363", "#bdbdbd", 1.0, 0.3))
