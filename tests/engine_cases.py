"""Helpers for engine tests: small projects written to real GeoPackages.

Coordinates are CGCS2000 / 3-degree Gauss-Krüger CM 108E (EPSG:4545) metres
near 巴中 (easting 380 km ≈ 106.7°E). Expected areas are computed
independently of geoplan: plain shapely overlays, then
``pyproj.Geod.geometry_area_perimeter`` on the geometry in EPSG:4490.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod, Transformer

from geoplan.analysis.engine import evaluate
from geoplan.analysis.rules import parse_pack
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project

X0, Y0 = 380_000.0, 3_530_000.0
EPSG = 4545
_GEOD = Geod(ellps="GRS80")
_TO_LONLAT = Transformer.from_crs(EPSG, 4490, always_xy=True)


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle given in metres from the local origin."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def geod_area(geom) -> float:
    """Ellipsoidal area (m²) by pyproj.Geod, independent of geo.area."""
    if geom is None or geom.is_empty:
        return 0.0
    dense = shapely.segmentize(geom, 100.0)
    lonlat = shapely.transform(
        dense, lambda c: np.column_stack(_TO_LONLAT.transform(c[:, 0], c[:, 1]))
    )
    area, _ = _GEOD.geometry_area_perimeter(shapely.orient_polygons(lonlat))
    return abs(area)


def write_project(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame | list]) -> Path:
    """Write each layer to one GeoPackage and a project file naming them.

    A list of geometries is turned into a layer with ids ``1, 2, …``.
    """
    gpkg = tmp_path / "case.gpkg"
    lines = ['[project]\nname = "case"\nworking_crs = "EPSG:4545"\n']
    for kind, value in layers.items():
        if not isinstance(value, gpd.GeoDataFrame):
            value = gpd.GeoDataFrame(
                {"BSM": [str(i + 1) for i in range(len(value))]}, geometry=list(value), crs=EPSG
            )
        value.to_file(gpkg, layer=kind, driver="GPKG")
        lines.append(f'[layers.{kind}]\npath = "case.gpkg"\nlayer = "{kind}"\n')
    project = tmp_path / "project.toml"
    project.write_text("\n".join(lines), encoding="utf-8")
    return project


def run_rules(project: Path, pack_text: str, **kwargs):
    """Load the project and evaluate an inline rule pack on it."""
    loaded = load_project(read_project(project))
    rules = list(parse_pack(pack_text, "test-pack").rules)
    return evaluate(loaded, rules, **kwargs)


def rule(relation: str, left: str, right: str | None = None, **extra) -> str:
    """The TOML text of a one-rule pack."""
    body = [
        "[[rules]]",
        'id = "R1"',
        'title = "测试规则"',
        'title_en = "test rule"',
        f'relation = "{relation}"',
        f"left = {left}",
        'severity = "prohibited"',
        'citation = { document = "《测试》", article = "第一条" }',
    ]
    if right is not None:
        body.append(f"right = {right}")
    body += [f"{k} = {v}" for k, v in extra.items()]
    return "\n".join(body) + "\n"
