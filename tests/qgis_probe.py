"""Open GeoPackage layers in QGIS and print how QGIS will draw them, as JSON.

Run with the system Python that has Debian's ``python3-qgis`` (not the
project's virtual environment)::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py FILE.gpkg LAYER...

Per layer: whether it is valid, the field aliases QGIS shows, the renderer
QGIS applied on loading, its rules (label, filter, fill and stroke colour
with alpha, stroke width in mm, and how many features the rule draws), the
single symbol's colours, and the label field.
"""

import json
import os
import sys

from qgis.core import QgsApplication, QgsFeatureRequest, QgsVectorLayer


def symbol_info(symbol):
    layer = symbol.symbolLayer(0)
    info = {"class": layer.layerType()}
    if layer.layerType() == "SimpleLine":
        info |= {"stroke": layer.color().name(), "stroke_alpha": layer.color().alpha()}
        info["stroke_mm"] = layer.width()
    else:
        info |= {"fill": layer.color().name(), "fill_alpha": layer.color().alpha()}
        info |= {"stroke": layer.strokeColor().name(), "stroke_mm": layer.strokeWidth()}
        info["brush"] = int(layer.brushStyle())
    return info


def count(layer, expression):
    return sum(1 for _ in layer.getFeatures(QgsFeatureRequest().setFilterExpression(expression)))


def probe(path, name):
    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    renderer = layer.renderer()
    info = {
        "valid": layer.isValid(),
        "features": layer.featureCount(),
        "renderer": renderer.type(),
        "labels": layer.labelsEnabled() and layer.labeling().settings().fieldName,
        "aliases": {f.name(): f.alias() for f in layer.fields() if f.alias()},
    }
    if renderer.type() == "RuleRenderer":
        rules = []
        for rule in renderer.rootRule().children():
            expression = rule.filterExpression()
            matched = None if rule.isElse() else count(layer, expression)
            rules.append(
                {"label": rule.label(), "filter": expression, "features": matched}
                | symbol_info(rule.symbol())
            )
        drawn = sum(r["features"] for r in rules if r["features"] is not None)
        for r in rules:
            if r["features"] is None:
                r["features"] = layer.featureCount() - drawn
        info["rules"] = rules
    else:
        info |= symbol_info(renderer.symbol())
    return info


app = QgsApplication([], False)
app.initQgis()
result = {name: probe(sys.argv[1], name) for name in sys.argv[2:]}
print(json.dumps(result, ensure_ascii=False), flush=True)
os._exit(0)  # QGIS 3.22 can crash while tearing down; the answer is out
