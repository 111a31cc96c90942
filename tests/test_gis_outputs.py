"""GIS outputs in the planner's language: field aliases, source fields, Chinese field names,
conflict centres and shares (issue 15 §8).

Aliases are read back three ways: GDAL 3.12 (the one pyogrio bundles, through
``geo.field_aliases.read_field_aliases``), the ``gpkg_data_columns`` table
itself (sqlite3), Debian's GDAL 3.6 ``ogrinfo`` (FileGDB), and QGIS 3.22.
Centres and shares are checked against pyproj directly.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import jsonschema
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer
from test_qgis_styles import qgis

from conftest import LONLAT_BOXES, lonlat_to, write_gbk_shapefile_without_cpg
from geoplan.analysis.conflict_rows import CONFLICT_ALIASES, CONFLICT_COLUMNS
from geoplan.analysis.engine import evaluate
from geoplan.analysis.output_stage import ExportOptions, export_to, style_geopackage
from geoplan.analysis.reports.conflict_records import ConflictRecords
from geoplan.analysis.rules import pack_rules, select_rules
from geoplan.geo.field_aliases import read_field_aliases
from geoplan.geo.vector_write import write_layers
from geoplan.layers.catalog import KINDS
from geoplan.layers.export import layer_field_aliases, write_loaded_layers
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project

DEMO = Path(__file__).parents[1] / "layers" / "bazhong"
SCHEMA = Path(__file__).parents[1] / "analysis" / "schemas" / "report.schema.json"
GEOD = Geod(ellps="GRS80")
WORKING = 4545


def geod_area(geoms, crs) -> np.ndarray:
    """Ellipsoidal areas (m²) by pyproj.Geod, on the geometries brought to EPSG:4490."""
    lonlat = gpd.GeoSeries(list(geoms), crs=crs).to_crs(4490)
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in lonlat])


def gpkg_data_columns(path: Path, layer: str) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT column_name, name FROM gpkg_data_columns WHERE table_name = ?", (layer,)
        ).fetchall()
    return dict(rows)


def ogrinfo_aliases(path: Path, layer: str) -> dict[str, str]:
    """Aliases as Debian's GDAL 3.6 ``ogrinfo`` lists them: ``f: Type, alternative name="…"``."""
    out = subprocess.run(
        ["ogrinfo", "-so", str(path), layer], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        if 'alternative name="' in line:
            found[line.split(":")[0].strip()] = line.split('alternative name="')[1].rstrip('"')
    return found


# ---------------------------------------------------------------- aliases, small files


@pytest.fixture
def small(tmp_path) -> dict:
    geoms = lonlat_to(WORKING, LONLAT_BOXES[:2])
    frame = gpd.GeoDataFrame(
        {"conflict_id": ["a-1", "a-2"], "area_mu": [1.5, 2.25], "BSM": ["B1", "B2"]},
        geometry=list(geoms),
        crs=WORKING,
    )
    aliases = {"conflict_id": "冲突编号", "area_mu": "面积（亩）", "missing": "无此字段"}
    return {"frame": frame, "aliases": aliases, "tmp": tmp_path}


@pytest.mark.parametrize("suffix", [".gpkg", ".gdb"])
def test_aliases_written_and_read_back_by_gdal(small, suffix):
    path = small["tmp"] / f"out{suffix}"
    write_layers({"conflicts": small["frame"]}, path, aliases={"conflicts": small["aliases"]})
    expected = {"conflict_id": "冲突编号", "area_mu": "面积（亩）"}
    assert read_field_aliases(path, "conflicts") == expected
    assert pyogrio.read_dataframe(path).columns.tolist()[:3] == ["conflict_id", "area_mu", "BSM"]
    if suffix == ".gpkg":
        assert gpkg_data_columns(path, "conflicts") == expected
    else:
        assert ogrinfo_aliases(path, "conflicts") == expected


@pytest.mark.qgis
def test_qgis_shows_the_aliases(small):
    gpkg, gdb = small["tmp"] / "out.gpkg", small["tmp"] / "out.gdb"
    for path in (gpkg, gdb):
        write_layers({"conflicts": small["frame"]}, path, aliases={"conflicts": small["aliases"]})
    style_geopackage(gpkg, ["conflicts"])  # QGIS 3.22 reads GeoPackage aliases from the style
    expected = {"conflict_id": "冲突编号", "area_mu": "面积（亩）"}
    assert expected.items() <= CONFLICT_ALIASES.items()
    assert qgis(gpkg, "conflicts")["conflicts"]["aliases"] == expected
    assert qgis(gdb, "conflicts")["conflicts"]["aliases"] == expected


# ---------------------------------------------------------------- Chinese field names


def chinese_delivery(folder: Path, *, cpg: bool) -> Path:
    """A project of two GBK Shapefiles with the field names hand-made deliveries use."""
    folder.mkdir()
    farm = gpd.GeoDataFrame(
        {
            "图斑编号": ["JBNT-0007", "JBNT-0012"],
            "地类编码": ["0101", "0103"],
            "地类名称": ["水田", "旱地"],
            "图斑面积": [0.0, 0.0],
        },
        geometry=list(lonlat_to(WORKING, LONLAT_BOXES[:2])),
        crs=WORKING,
    )
    farm["图斑面积"] = geod_area(farm.geometry, WORKING).round(2)
    farm.loc[1, "图斑面积"] *= 1.10  # one stored area 10 % off
    redline = gpd.GeoDataFrame(
        {"红线编号": ["HX-3"], "红线名称": ["米仓山红线"]},
        geometry=list(lonlat_to(WORKING, [shapely.box(106.33, 31.82, 106.42, 31.90)])),
        crs=WORKING,
    )
    for name, frame in (("永久基本农田", farm), ("生态保护红线", redline)):
        path = folder / f"{name}.shp"
        if cpg:
            pyogrio.write_dataframe(frame, path, encoding="GBK")
        else:
            write_gbk_shapefile_without_cpg(frame, path, prj=True)
    (folder / "project.toml").write_text(
        '[project]\nname = "测试"\nworking_crs = "EPSG:4545"\n'
        '[layers.permanent_farmland]\npath = "永久基本农田.shp"\n'
        '[layers.ecological_redline]\npath = "生态保护红线.shp"\n',
        encoding="utf-8",
    )
    return folder / "project.toml"


@pytest.mark.parametrize("cpg", [True, False], ids=["cpg", "no-cpg"])
def test_chinese_field_names_are_mapped(tmp_path, cpg):
    project_file = chinese_delivery(tmp_path / "delivery", cpg=cpg)
    dbf = (tmp_path / "delivery" / "永久基本农田.dbf").read_bytes()
    assert "图斑编号".encode("gbk") in dbf
    assert (tmp_path / "delivery" / "永久基本农田.cpg").exists() is cpg
    project = read_project(project_file)
    loaded = load_project(project)
    farm = loaded.layers["permanent_farmland"]
    assert farm.field_sources["id"] == "图斑编号" and farm.field_sources["area"] == "图斑面积"
    assert farm.frame["id"].tolist() == ["JBNT-0007", "JBNT-0012"]
    assert farm.frame["land_class"].tolist() == ["0101", "0103"]
    assert farm.frame["land_class_name"].tolist() == ["水田", "旱地"]
    assert farm.stored_area_off == 1  # the stored-area check ran on 图斑面积
    assert loaded.frame("ecological_redline")["name"].tolist() == ["米仓山红线"]
    # the source fields stay beside the standard ones, with their source values
    assert farm.frame["图斑编号"].tolist() == ["JBNT-0007", "JBNT-0012"]

    rules = [r for r in pack_rules(list(project.rules.packs)) if r.id == "lines-redline-farmland"]
    conflicts = evaluate(loaded, rules).conflicts
    assert len(conflicts) == 1
    row = conflicts.iloc[0]
    assert (row["left_id"], row["right_id"]) == ("JBNT-0007", "HX-3")
    # the piece's share of each feature, against pyproj.Geod on the source geometries
    farm_geom = lonlat_to(WORKING, LONLAT_BOXES[:1])[0]
    red_geom = lonlat_to(WORKING, [shapely.box(106.33, 31.82, 106.42, 31.90)])[0]
    piece = geod_area([shapely.intersection(farm_geom, red_geom)], WORKING)[0]
    assert row["area_m2"] == pytest.approx(piece, rel=1e-4)
    whole = geod_area([farm_geom, red_geom], WORKING)
    assert row["left_share_pct"] == pytest.approx(100 * piece / whole[0], rel=1e-4)
    assert row["right_share_pct"] == pytest.approx(100 * piece / whole[1], rel=1e-4)


# ---------------------------------------------------------------- the demo project


@pytest.fixture(scope="module")
def demo_run():
    """The demo project loaded and its vector rules evaluated (no output stage)."""
    project = read_project(DEMO / "project.toml")
    loaded = load_project(project)
    rules = select_rules(
        pack_rules(list(project.rules.packs)),
        disabled=project.rules.disabled,
        min_area_m2=project.rules.min_area_m2,
    )
    rules = [r for r in rules if r.relation != "must_not_exceed"]  # raster rules need prepare
    return loaded, evaluate(loaded, rules).conflicts


def test_layers_keep_their_source_fields(demo_run, tmp_path):
    loaded, _ = demo_run
    path = write_loaded_layers(loaded, tmp_path / "layers.gpkg")
    source = DEMO / "data" / "bazhong.gpkg"
    for kind, table in (("permanent_farmland", "YJJBNT"), ("townships", "XZQ_XZ")):
        raw = pyogrio.read_dataframe(source, layer=table, fid_as_index=True)
        written = pyogrio.read_dataframe(path, layer=kind)
        assert {"BSM", *(c for c in raw.columns if c != "geometry")} <= set(written.columns)
        back = raw.loc[written["source_fid"].to_numpy()]
        for column in raw.columns.drop("geometry"):
            assert written[column].tolist() == back[column].tolist(), (kind, column)
        assert written["id"].tolist() == back["BSM"].tolist()
        assert read_field_aliases(path, kind) == {
            c: a for c, a in layer_field_aliases([kind])[kind].items() if c in written.columns
        }


def test_conflict_centres(demo_run):
    loaded, conflicts = demo_run
    assert list(conflicts.columns) == [*CONFLICT_COLUMNS, "geometry"]
    points = shapely.points(conflicts["centre_x"], conflicts["centre_y"])
    # on the piece (within the 2-decimal rounding of the coordinates)
    assert (shapely.distance(points, conflicts.geometry.values) <= 0.01).all()
    lon, lat = Transformer.from_crs(loaded.crs, 4490, always_xy=True).transform(
        conflicts["centre_x"].to_numpy(), conflicts["centre_y"].to_numpy()
    )
    assert np.abs(lon - conflicts["centre_lon"]).max() < 2e-6
    assert np.abs(lat - conflicts["centre_lat"]).max() < 2e-6
    assert conflicts["centre_lon"].between(106, 108).all()
    assert conflicts["centre_lat"].between(31, 33).all()


def test_conflict_shares_against_geod(demo_run):
    loaded, conflicts = demo_run
    frames = loaded.frames
    checked = 0
    for side in ("left", "right"):
        rows = conflicts[conflicts[f"{side}_share_pct"].notna()]
        sample = rows.groupby("rule_id").head(3)
        for _, row in sample.iterrows():
            frame = frames[row[f"{side}_kind"]]
            feature = frame.geometry[frame["id"] == row[f"{side}_id"]].to_numpy()
            assert feature.size == 1
            whole, piece = geod_area([feature[0], row.geometry], loaded.crs)
            assert row[f"{side}_share_pct"] == pytest.approx(100 * piece / whole, abs=1e-3)
            checked += 1
    assert checked > 30
    # no share of a right feature the piece does not lie in
    outside = conflicts["detail"].isin(["outside", "within_distance", "gap", "outside_region"])
    assert outside.any() and conflicts.loc[outside, "right_share_pct"].isna().all()
    assert conflicts.loc[conflicts["detail"] == "overlap", "right_share_pct"].notna().all()


def test_report_json_conflicts_validate(demo_run):
    _, conflicts = demo_run
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    items = {**schema["properties"]["conflicts"]["items"], "$defs": schema.get("$defs", {})}
    validator = jsonschema.Draft202012Validator(items)
    records = list(ConflictRecords.of(conflicts))
    for record in records:
        validator.validate(record)
    assert any(r["right_share_pct"] is None for r in records)
    assert all(isinstance(r["centre_lon"], float) for r in records)


def test_exports_carry_the_aliases(demo_run, tmp_path):
    loaded, conflicts = demo_run
    frames = {"permanent_farmland": loaded.frame("permanent_farmland"), "conflicts": conflicts}
    export_to(frames, tmp_path, ExportOptions(formats=("gdb", "shp", "gpkg")))
    gdb = tmp_path / "geoplan.gdb"
    expected = {c: CONFLICT_ALIASES[c] for c in CONFLICT_COLUMNS}
    assert read_field_aliases(gdb, "conflicts") == expected
    assert ogrinfo_aliases(gdb, "conflicts") == expected
    assert ogrinfo_aliases(gdb, "permanent_farmland")["land_class"] == "地类编码"
    assert gpkg_data_columns(tmp_path / "geoplan.gpkg", "conflicts") == expected
    with open(tmp_path / "conflicts.fields.csv", encoding="utf-8", newline="") as f:
        listed = {row["field"]: row["alias"] for row in csv.DictReader(f)}
    assert (
        listed["area_mu"] == "面积（亩）" and listed["centre_lon"] == CONFLICT_ALIASES["centre_lon"]
    )
    assert pd.isna(pyogrio.read_dataframe(tmp_path / "conflicts.shp")["right_shar"]).any()


@pytest.mark.qgis
def test_demo_outputs_in_qgis(demo_out):
    expected = {c: CONFLICT_ALIASES[c] for c in CONFLICT_COLUMNS}
    assert read_field_aliases(demo_out / "conflicts.gpkg", "conflicts") == expected
    drawn = qgis(demo_out / "conflicts.gpkg", "conflicts")["conflicts"]
    assert drawn["aliases"] == expected and drawn["features"] > 0
    layers = qgis(demo_out / "layers.gpkg", "townships", "permanent_farmland")
    assert layers["townships"]["aliases"]["function_type"] == "乡镇级主体功能区"
    assert layers["permanent_farmland"]["aliases"]["land_class"] == "地类编码"
    assert "BSM" not in layers["permanent_farmland"]["aliases"]
    titles = {f.name: f.title for f in KINDS["townships"].all_fields}
    assert read_field_aliases(demo_out / "layers.gpkg", "townships")["name"] == titles["name"]
