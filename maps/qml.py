"""The map's palette as QGIS styles (``.qml``), stored in the GeoPackages geoplan writes.

A planner who opens ``layers.gpkg`` or ``conflicts.gpkg`` in QGIS gets the
colours of ``map.html``: townships by 乡镇级主体功能区 and labelled,
protected areas by category, chemical parks in magenta, conflicts by
severity (see :mod:`maps.style`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import replace

from geoplan.geo.layer_styles import LayerStyle
from geoplan.layers.catalog import KINDS
from geoplan.layers.vocabulary import SEVERITY_TITLES
from geoplan.maps.style import CLASS_STYLES, SEVERITY_STYLES, Classes, Style, kind_style

#: Millimetres per CSS pixel (96 dpi): the map's widths in QGIS units.
MM_PER_PX = 25.4 / 96
#: QGIS version the documents declare; 3.22 (Debian 12) reads them.
QGIS_VERSION = "3.22.0"

#: A conflicts layer is drawn by severity.
CONFLICT_CLASSES = Classes("severity", SEVERITY_STYLES)


def _rgba(hex_color: str, opacity: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{round(opacity * 255)}"


def _fill_properties(style: Style) -> dict[str, str]:
    return {
        "color": _rgba(style.fill or style.color, style.fill_opacity if style.fill else 0.0),
        "style": "solid" if style.fill else "no",
        "outline_color": _rgba(style.color, style.opacity),
        "outline_style": "dash" if style.dash else "solid",
        "outline_width": f"{style.weight * MM_PER_PX:.2f}",
        "outline_width_unit": "MM",
        "joinstyle": "round",
    }


def _line_properties(style: Style) -> dict[str, str]:
    return {
        "line_color": _rgba(style.color, style.opacity),
        "line_style": "dash" if style.dash else "solid",
        "line_width": f"{style.weight * MM_PER_PX:.2f}",
        "line_width_unit": "MM",
        "capstyle": "round",
        "joinstyle": "round",
    }


def _symbol(parent: ET.Element, name: str, style: Style, family: str) -> None:
    line = family == "line"
    symbol = ET.SubElement(
        parent,
        "symbol",
        {"type": "line" if line else "fill", "name": name, "alpha": "1", "clip_to_extent": "1"},
    )
    layer = ET.SubElement(
        symbol,
        "layer",
        {
            "class": "SimpleLine" if line else "SimpleFill",
            "enabled": "1",
            "pass": "0",
            "locked": "0",
        },
    )
    properties = _line_properties(style) if line else _fill_properties(style)
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    for key, value in properties.items():
        ET.SubElement(options, "Option", {"type": "QString", "name": key, "value": value})
    for key, value in properties.items():  # the pre-3.22 form, for older QGIS
        ET.SubElement(layer, "prop", {"k": key, "v": value})


def quoted_string(value: str) -> str:
    """A QGIS expression string literal of ``value``, as ``QgsExpression.quotedString``."""
    for char, escaped in (("'", "''"), ("\\", "\\\\"), ("\n", "\\n"), ("\t", "\\t")):
        value = value.replace(char, escaped)
    return f"'{value}'"


def quoted_column(name: str) -> str:
    """A QGIS expression field reference, as ``QgsExpression.quotedColumnRef``."""
    return '"' + name.replace('"', '""') + '"'


def _labels(root: ET.Element, column: str) -> None:
    root.set("labelsEnabled", "1")
    labeling = ET.SubElement(root, "labeling", {"type": "simple"})
    settings = ET.SubElement(labeling, "settings", {"calloutType": "simple"})
    text = ET.SubElement(
        settings,
        "text-style",
        {
            "fieldName": column,
            "isExpression": "0",
            "fontFamily": "Noto Sans CJK SC",
            "fontSize": "9",
            "fontSizeUnit": "Point",
            "textColor": "37,37,37,255",
            "textOpacity": "1",
        },
    )
    ET.SubElement(
        text,
        "text-buffer",
        {
            "bufferDraw": "1",
            "bufferSize": "0.8",
            "bufferSizeUnits": "MM",
            "bufferColor": "255,255,255,255",
            "bufferOpacity": "0.85",
        },
    )
    ET.SubElement(settings, "placement", {"placement": "1"})  # over the centroid
    ET.SubElement(settings, "rendering", {"obstacle": "1"})


def layer_qml(
    kind: str,
    family: str,
    *,
    classes: Classes | None = None,
    label: str | None = None,
    aliases: Mapping[str, str] | None = None,
) -> str:
    """A QGIS style document drawing a layer as ``map.html`` does.

    Parameters
    ----------
    kind : str
        Layer kind (its default style); ``"conflicts"`` for a conflicts layer.
    family : {"polygon", "line"}
    classes : maps.style.Classes, optional
        Column and the style of each of its values; a value ``"True"`` means
        the column is true. Default: the kind's classes in
        :data:`maps.style.CLASS_STYLES`.
    label : str, optional
        Column to label features with.
    aliases : mapping of str to str, optional
        Column → its display name in QGIS's attribute table and forms (QGIS
        3.22 with GDAL 3.6 reads no GeoPackage field alias of its own).

    Returns
    -------
    str
        A ``.qml`` document.
    """
    categories = "Symbology|Labeling" + ("|Fields" if aliases else "")
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": categories})
    classes = classes or CLASS_STYLES.get(kind)
    base = kind_style(kind)
    if classes is None:
        renderer = ET.SubElement(root, "renderer-v2", {"type": "singleSymbol"})
        _symbol(ET.SubElement(renderer, "symbols"), "0", base, family)
    else:
        column, styles, titles = classes.column, classes.styles, classes.titles
        renderer = ET.SubElement(root, "renderer-v2", {"type": "RuleRenderer"})
        rules = ET.SubElement(renderer, "rules", {"key": "root"})
        symbols = ET.SubElement(renderer, "symbols")
        values = list(styles)
        for i, value in enumerate(values):
            if value == "True":
                expression = quoted_column(column)
            else:
                expression = f"{quoted_column(column)} = {quoted_string(value)}"
            ET.SubElement(
                rules,
                "rule",
                {
                    "key": f"r{i}",
                    "symbol": str(i),
                    "label": titles.get(value, value),
                    "filter": expression,
                },
            )
            _symbol(symbols, str(i), styles[value], family)
        other = str(len(values))
        ET.SubElement(
            rules, "rule", {"key": "else", "symbol": other, "label": "其他", "filter": "ELSE"}
        )
        _symbol(symbols, other, base, family)
    if label is not None:
        _labels(root, label)
    if aliases:
        names = ET.SubElement(root, "aliases")
        for column, alias in aliases.items():
            ET.SubElement(names, "alias", {"field": column, "name": alias})
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )


def kind_layer_style(kind: str, aliases: Mapping[str, str] | None = None) -> LayerStyle:
    """The default QGIS style of a loaded layer of ``kind`` (a key of ``KINDS``)."""
    label = "name" if kind == "townships" else None
    return LayerStyle(
        name=f"geoplan {kind}",
        qml=layer_qml(kind, KINDS[kind].family, label=label, aliases=aliases),
        description=f"{KINDS[kind].title}: the colours of geoplan's map.html",
    )


def conflicts_layer_style(aliases: Mapping[str, str] | None = None) -> LayerStyle:
    """The default QGIS style of a conflicts layer: by severity, most severe drawn as in the map."""
    return LayerStyle(
        name="geoplan conflicts",
        qml=layer_qml(
            "conflicts",
            "polygon",
            classes=replace(CONFLICT_CLASSES, titles=dict(SEVERITY_TITLES)),
            aliases=aliases,
        ),
        description="冲突图斑，按严重程度着色",
    )


def geopackage_styles(
    layers: Iterable[str], aliases: Mapping[str, Mapping[str, str]] | None = None
) -> dict:
    """Default styles for the layers of a GeoPackage geoplan wrote.

    Parameters
    ----------
    layers : iterable of str
        Layer names: layer kinds and ``conflicts``; other names get no style.
    aliases : mapping of str to mapping of str to str, optional
        Layer name → {column → display name}, stored in the styles.

    Returns
    -------
    dict of str to geo.layer_styles.LayerStyle
    """
    styles = {}
    for name in layers:
        if name == "conflicts":
            styles[name] = conflicts_layer_style((aliases or {}).get(name))
        elif name in KINDS:
            styles[name] = kind_layer_style(name, (aliases or {}).get(name))
    return styles
