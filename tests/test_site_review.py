"""Site review on the embedded Bazhong dataset: verdicts, areas taken, distances, the memo.

Areas and distances are checked against an independent computation: the
GeoPackage read with geopandas, a geopandas overlay and pyproj.Geod; the
command runs as a real subprocess for exit codes and messages.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docx
import geopandas as gpd
import jsonschema
import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from geoplan.analysis.run import CheckOptions, project_rules
from geoplan.analysis.site import check_site
from geoplan.analysis.site_memo import SITE_SCHEMA_PATH
from geoplan.analysis.site_review import site_model
from geoplan.geo.boundary_points import read_boundary_points
from geoplan.geo.boundary_points_write import write_boundary_points
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project

GPKG = PROJECT_FILE.parent / "data" / "bazhong.gpkg"
GEOPLAN = Path(sys.executable).with_name("geoplan")
GEOD = Geod(ellps="GRS80")
TO_LONLAT = Transformer.from_crs(4545, 4490, always_xy=True)
#: 壁州街道 (通江县), 385 m from 通江河, on 永久基本农田 (EPSG:4545).
CHEMICAL = shapely.box(424_521, 3_527_898, 425_221, 3_528_598)
#: Inside 巴州区清江镇镇区's 城镇开发边界, far from rivers, farmland and red lines.
URBAN = shapely.box(398_845, 3_537_218, 399_145, 3_537_518)
#: 300 km west of the city.
OUTSIDE = shapely.box(124_521, 3_527_898, 125_221, 3_528_598)
CHEMICAL_VALUES = {"kind": "化工园区", "chemical": "是"}


def _geod_area(geom: shapely.Geometry) -> float:
    lonlat = shapely.transform(
        shapely.segmentize(geom, 50.0), lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T))
    )
    return abs(GEOD.geometry_area_perimeter(lonlat)[0])


@pytest.fixture(scope="module")
def bazhong():
    project = read_project(PROJECT_FILE)
    _, rules = project_rules(project, CheckOptions())
    return load_project(project), rules


def _review(bazhong, geom, values=None):
    loaded, rules = bazhong
    site = gpd.GeoDataFrame({"name": ["拟建"]}, geometry=[geom], crs=loaded.crs)
    result = check_site(loaded, site, rules, values=values)
    return site_model(result, project="巴中市", values=values)


def test_chemical_park_near_a_river_is_not_feasible_with_distance_and_farmland(bazhong):
    model = _review(bazhong, CHEMICAL, CHEMICAL_VALUES)
    assert model["verdict"]["status"] == "fail" and model["verdict"]["title"] == "不可行"
    rules = {r["rule_id"]: r for r in model["rules"]}
    # the distance, against the rivers read straight from the GeoPackage
    rivers = gpd.read_file(GPKG, layer="HL")
    gaps = rivers.distance(CHEMICAL)
    river = rules["parks-chemical-river"]
    assert river["status"] == "fail" and river["status_title"] == "不符合"
    assert river["distance_m"] == pytest.approx(gaps.min(), abs=0.1)
    assert river["features"] == [{"kind": "rivers", "id": "HL0003", "name": "通江河"}]
    distance = next(d for d in model["distances"] if d["rule_id"] == "parks-chemical-river")
    assert distance["distance_m"] == pytest.approx(gaps.min(), abs=0.1)
    assert distance["required_m"] == 1000 and distance["kept"] is False
    # the farmland taken, against a geopandas overlay and pyproj.Geod
    farmland = gpd.read_file(GPKG, layer="YJJBNT", bbox=CHEMICAL.bounds)
    overlay = gpd.overlay(farmland, gpd.GeoDataFrame(geometry=[CHEMICAL], crs=4545))
    expected = sum(_geod_area(g) for g in overlay.geometry)
    assert expected > 100_000
    assert rules["parks-outside-farmland"]["area_m2"] == pytest.approx(expected, rel=1e-4)
    layer = next(t for t in model["taken"]["layers"] if t["kind"] == "permanent_farmland")
    assert layer["area_m2"] == pytest.approx(expected, rel=1e-4)
    assert layer["area_mu"] == pytest.approx(expected * 15 / 10_000, rel=1e-4)
    assert layer["share_of_site"] == pytest.approx(expected / _geod_area(CHEMICAL), rel=1e-3)
    patches = {f["id"]: f for f in model["taken"]["features"] if f["kind"] == "permanent_farmland"}
    assert set(patches) == set(overlay["BSM"])
    for row in overlay.itertuples():
        whole = farmland.loc[farmland["BSM"] == row.BSM].geometry.iloc[0]
        assert patches[row.BSM]["share_of_feature"] == pytest.approx(
            _geod_area(row.geometry) / _geod_area(whole), abs=1e-4
        )
    # the land classes (from 耕地, the land-survey layer the demo has): of the
    # whole site, and of the farmland it takes, each against an overlay with GD
    classes = model["taken"]["land_classes"]
    assert classes["source"] == "cultivated_land"
    cultivated = gpd.read_file(GPKG, layer="GD", bbox=CHEMICAL.bounds)
    on_site = gpd.overlay(cultivated, gpd.GeoDataFrame(geometry=[CHEMICAL], crs=4545))
    expected_site = on_site.assign(a=[_geod_area(g) for g in on_site.geometry])
    got = {c["land_class"]: c["gross_area_m2"] for c in classes["site"]}
    assert got == pytest.approx(expected_site.groupby("DLBM")["a"].sum().to_dict(), rel=1e-4)
    assert {c["land_class_name"] for c in classes["site"]} <= {"水田", "旱地", "水浇地"}
    taken_farmland = gpd.overlay(cultivated, overlay[["geometry"]])
    expected_rule = taken_farmland.assign(a=[_geod_area(g) for g in taken_farmland.geometry])
    got = {
        c["land_class"]: c["gross_area_m2"]
        for c in classes["by_rule"]
        if c["rule_id"] == "parks-outside-farmland"
    }
    assert got == pytest.approx(expected_rule.groupby("DLBM")["a"].sum().to_dict(), rel=1e-4)
    assert model["townships"][0]["name"] == "壁州街道"
    assert model["terrain"]["slope_mean"] > 0


def test_site_inside_the_urban_boundary_is_feasible_with_every_rule_met(bazhong):
    model = _review(bazhong, URBAN)
    assert model["verdict"] == model["verdict"] | {"status": "pass", "title": "可行"}
    assert len(model["rules"]) >= 14
    assert {r["status"] for r in model["rules"]} == {"pass"}
    assert {r["status_title"] for r in model["rules"]} == {"符合"}
    # protected areas with no feature near the site: met, not "not checked"
    reserve = next(r for r in model["rules"] if r["rule_id"] == "parks-outside-reserve")
    assert reserve["status"] == "pass" and reserve["skipped_reason"] is None
    assert [r["rule_id"] for r in model["not_applicable"]] == ["parks-chemical-river"]
    jsonschema.validate(model, json.loads(SITE_SCHEMA_PATH.read_text(encoding="utf-8")))


def _geoplan(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(GEOPLAN), *map(str, args)], capture_output=True, text=True)


def test_site_outside_the_city_is_one_clear_line():
    chemical = ["--set", "kind=化工园区", "--set", "chemical=是"]
    done = _geoplan("site", PROJECT_FILE, "--wkt", OUTSIDE.wkt, "--src-crs", "EPSG:4545", *chemical)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # no warnings before it
    assert lines[0].startswith("geoplan: error: 选址不在项目范围内：")
    assert "dem.tif" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_memo_from_a_boundary_points_file_of_two_parcels(tmp_path):
    zone36 = CRS.from_epsg(4524)
    to_zone = Transformer.from_crs(4545, zone36, always_xy=True)
    parcels = [
        (shapely.transform(g, lambda xy: np.column_stack(to_zone.transform(*xy.T))), attrs)
        for g, attrs in (
            (CHEMICAL, {"地块编号": "DK1", "地块名称": "<img src=x onerror=alert(1)>"}),
            (URBAN, {"地块编号": "DK2", "地块名称": "清江地块"}),
        )
    ]
    site_file = tmp_path / "拟建化工园区.txt"
    write_boundary_points(site_file, parcels, zone36, precision_m=0.01)
    out = tmp_path / "memo"
    args = ["site", PROJECT_FILE, site_file, "--set", "kind=化工园区", "--set", "chemical=是"]
    done = _geoplan(*args, "--out", out)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["【结论】", lines[1]] and lines[1].startswith("结论：不可行")
    assert "米，要求 ≥ 1,000 米" in done.stdout
    assert done.stdout.index("【占用情况】") < done.stdout.index("【距离】")
    assert done.stdout.index("【距离】") < done.stdout.index("【地形】")
    model = json.loads((out / "site.json").read_text(encoding="utf-8"))
    jsonschema.validate(model, json.loads(SITE_SCHEMA_PATH.read_text(encoding="utf-8")))
    assert [(p["id"], p["verdict"]) for p in model["parcel_verdicts"]] == [
        ("DK1", "fail"),
        ("DK2", "pass"),
    ]
    assert model["site"]["area_m2"] == pytest.approx(
        _geod_area(CHEMICAL) + _geod_area(URBAN), rel=1e-4
    )
    html = (out / "site.html").read_text(encoding="utf-8")
    assert "不可行" in html and "<img src=x" not in html and "&lt;img src=x" in html
    text = "\n".join(p.text for p in docx.Document(out / "site.docx").paragraphs)
    assert "结论：不可行" in text and "判定规则" in text
    assert (out / "site.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = read_boundary_points(out / "site.txt")
    assert [p.attributes["地块编号"] for p in back.parcels] == ["DK1", "DK2"]
    assert back.parcels[1].geometry.area == pytest.approx(parcels[1][0].area, rel=1e-6)
    # a failing run leaves the memo as it was
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    done = _geoplan(
        "site",
        PROJECT_FILE,
        "--wkt",
        OUTSIDE.wkt,
        "--src-crs",
        "EPSG:4545",
        "--out",
        out,
        "--overwrite",
    )
    assert done.returncode == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
