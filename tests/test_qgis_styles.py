"""GeoPackages geoplan writes open in a real QGIS (Debian's 3.22) drawn as map.html draws them."""

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from geoplan.layers.catalog import KINDS
from geoplan.maps.style import (
    CHEMICAL_PARK_STYLE,
    FUNCTION_TYPE_STYLES,
    LAYER_STYLES,
    PROTECTED_CATEGORY_STYLES,
    SEVERITY_STYLES,
)

PROBE = Path(__file__).with_name("qgis_probe.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # the one Debian's python3-qgis is built for


def qgis(path: Path, *layers: str) -> dict:
    """How QGIS draws ``layers`` of ``path`` when it opens them (tests/qgis_probe.py)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(path.parent)}
    done = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), str(path), *layers],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def alpha(opacity: float) -> int:
    return round(opacity * 255)


def rules_by_label(info: dict) -> dict:
    return {rule["label"]: rule for rule in info["rules"]}


pytestmark = pytest.mark.qgis


def test_every_layer_of_layers_gpkg_has_a_default_style(demo_out):
    path = demo_out / "layers.gpkg"
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, useAsDefault FROM layer_styles"
        ).fetchall()
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
    layers = [name for name, kind in pyogrio.list_layers(path) if kind is not None]
    assert sorted(r[0] for r in rows) == sorted(layers) and len(layers) == 14
    assert {r[1:] for r in rows} == {("geom", 1)}

    drawn = qgis(path, *layers)
    for name in layers:
        info = drawn[name]
        assert info["valid"], name
        if "rules" in info:
            continue
        style = LAYER_STYLES[name]
        if KINDS[name].family == "line":
            assert (info["class"], info["stroke"]) == ("SimpleLine", style.color)
            assert info["stroke_alpha"] == alpha(style.opacity)
        elif style.fill is None:
            assert info["brush"] == 0 and info["stroke"] == style.color  # outline only
        else:
            assert (info["fill"], info["fill_alpha"]) == (style.fill, alpha(style.fill_opacity))
        assert info["stroke_mm"] == pytest.approx(style.weight * 25.4 / 96, abs=0.006)


def test_townships_parks_and_protected_areas_by_class(demo_out):
    path = demo_out / "layers.gpkg"
    drawn = qgis(path, "townships", "parks", "protected_areas")
    towns = gpd.read_file(path, layer="townships")
    parks = gpd.read_file(path, layer="parks")

    rules = rules_by_label(drawn["townships"])
    counts = towns["function_type"].value_counts()
    for function_type, style in FUNCTION_TYPE_STYLES.items():
        assert rules[function_type]["fill"] == style.fill
        assert rules[function_type]["features"] == counts[function_type]  # 45 / 59 / 35
    assert rules["其他"]["features"] == 0
    assert drawn["townships"]["labels"] == "name"

    rules = rules_by_label(drawn["parks"])
    assert rules["化工园区"]["fill"] == CHEMICAL_PARK_STYLE.fill
    assert rules["化工园区"]["features"] == int(parks["chemical"].sum()) > 0
    assert rules["其他"]["features"] == len(parks) - int(parks["chemical"].sum())

    protected = gpd.read_file(path, layer="protected_areas")
    rules = rules_by_label(drawn["protected_areas"])
    expected = protected["category"].value_counts().to_dict() | {"其他": 0}
    assert {label: r["features"] for label, r in rules.items()} == expected
    for category, style in PROTECTED_CATEGORY_STYLES.items():
        assert rules[category]["fill"] == style.fill


def test_conflicts_by_severity(demo_out):
    path = demo_out / "conflicts.gpkg"
    conflicts = gpd.read_file(path, layer="conflicts")
    rules = rules_by_label(qgis(path, "conflicts")["conflicts"])
    counts = conflicts["severity"].value_counts()
    for severity, title in {"prohibited": "禁止", "restricted": "限制", "notice": "提示"}.items():
        assert rules[title]["fill"] == SEVERITY_STYLES[severity].fill
        assert rules[title]["stroke"] == SEVERITY_STYLES[severity].color
        assert rules[title]["features"] == counts[severity]
    assert rules["其他"]["features"] == 0


def test_older_gdal_reads_without_warnings(demo_out):
    for name in ("layers.gpkg", "conflicts.gpkg"):
        done = subprocess.run(
            ["ogrinfo", "-so", "-al", str(demo_out / name)], capture_output=True, text=True
        )
        assert done.returncode == 0 and done.stderr == "", done.stderr
