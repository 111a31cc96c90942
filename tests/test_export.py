"""GIS export: every format read back by a second reader (Debian's GDAL, pyarrow).

Areas are compared with ``pyproj.Geod`` on what the second reader returns in
EPSG:4326, against ``pyproj.Geod`` on the source features.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner
from pyproj import CRS, Geod, Transformer

from engine_cases import EPSG, box, write_project
from geoplan.analysis.cli import cli
from geoplan.geo.export import short_names

GEOD = Geod(ellps="GRS80")
LONG_NOTE = "园区规划说明" * 25  # 150 characters: 450 bytes in UTF-8, 300 in GBK
PARK_NAMES = ["巴中经济开发区", "平昌县化工园区"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    parks = gpd.GeoDataFrame(
        {
            "BSM": ["P1", "P2"],
            "MC": PARK_NAMES,
            "LX": ["经开区", "化工园区"],
            "SFHG": [False, True],
            "说明": [LONG_NOTE, "短说明"],
        },
        geometry=[box(0, 0, 800, 600), box(2000, 0, 2600, 700)],
        crs=EPSG,
    )
    towns = gpd.GeoDataFrame(
        {
            "BSM": ["T1", "T2"],
            "XZMC": ["兴隆镇", "白衣镇"],
            "XZQMC": ["恩阳区", "平昌县"],
            "ZTGNQ": ["城镇化地区", "农产品主产区"],
        },
        geometry=[box(-1000, -1000, 1500, 3000), box(1500, -1000, 4000, 3000)],
        crs=EPSG,
    )
    farm = gpd.GeoDataFrame(
        {"BSM": ["F1", "F2"]},
        geometry=[box(500, 400, 1200, 900), box(2500, 500, 3000, 900)],
        crs=EPSG,
    )
    return write_project(folder, {"parks": parks, "townships": towns, "permanent_farmland": farm})


def _export(project: Path, out: Path, *args: str):
    return CliRunner().invoke(cli, ["export", str(project), "--out", str(out), *args])


def _ogr_features(path: Path, layer: str, *open_options: str) -> list[dict]:
    """Features read by Debian's ogr2ogr (GDAL 3.6, not pyogrio's), in EPSG:4326."""
    command = ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(path), layer, "-t_srs", "EPSG:4326"]
    done = subprocess.run([*command, *open_options], capture_output=True, check=True, text=True)
    return json.loads(done.stdout)["features"]


def _ogr_epsg(path: Path, layer: str) -> int | None:
    info = subprocess.run(
        ["ogrinfo", "-so", str(path), layer], capture_output=True, check=True, text=True
    ).stdout
    wkt = info[info.find("PROJCRS") if "PROJCRS" in info else info.find("GEOGCRS") :]
    return CRS.from_wkt(wkt.split("\nData axis")[0]).to_epsg() if "CRS[" in wkt else None


def _geod_area(geoms) -> float:
    return sum(abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(g))[0]) for g in geoms)


def _source(project: Path) -> dict[str, gpd.GeoDataFrame]:
    gpkg = project.parent / "case.gpkg"
    return {layer: gpd.read_file(gpkg, layer=layer) for layer in ("parks", "permanent_farmland")}


FORMATS = {
    "gpkg": ("project.gpkg", "{layer}", 4545),
    "gdb": ("project.gdb", "{layer}", 4545),
    "shp": ("{layer}.shp", "{layer}", 4545),
    "fgb": ("{layer}.fgb", "{layer}", 4545),
    "geojson": ("{layer}.geojson", "{layer}", 4326),
    "kml": ("{layer}.kml", "{layer}", 4326),
    "csv": ("{layer}.csv", "{layer}", None),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_reads_back_with_a_second_reader(project, tmp_path, fmt):
    result = _export(project, tmp_path, "--format", fmt)
    assert result.exit_code == 0, result.output
    file_pattern, layer_pattern, epsg = FORMATS[fmt]
    for layer, source in _source(project).items():
        path = tmp_path / file_pattern.format(layer=layer)
        name = layer_pattern.format(layer=layer)
        options = []
        if fmt == "csv":
            prj = (tmp_path / f"{layer}.prj").read_text(encoding="utf-8")
            assert CRS.from_wkt(prj).to_epsg() == 4545
            options = ["-s_srs", str(tmp_path / f"{layer}.prj"), "-oo", "GEOM_POSSIBLE_NAMES=WKT"]
        else:
            assert _ogr_epsg(path, name) == epsg
        features = _ogr_features(path, name, *options)
        assert len(features) == len(source)
        got = _geod_area(shapely.geometry.shape(f["geometry"]) for f in features)
        assert got == pytest.approx(_geod_area(source.to_crs(4326).geometry), rel=1e-4)
        if layer == "parks":
            values = json.dumps([f["properties"] for f in features], ensure_ascii=False)
            assert all(name in values for name in PARK_NAMES)


def test_geoparquet_reads_back_with_pyarrow(project, tmp_path):
    assert _export(project, tmp_path, "--format", "parquet").exit_code == 0
    table = pq.read_table(tmp_path / "parks.parquet")
    meta = json.loads(table.schema.metadata[b"geo"])
    column = meta["primary_column"]
    crs = CRS.from_json_dict(meta["columns"][column]["crs"])
    assert crs.to_epsg() == 4545
    geoms = shapely.from_wkb(table.column(column).to_numpy(zero_copy_only=False))
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    lonlat = shapely.transform(geoms, lambda c: np.column_stack(to_lonlat.transform(*c.T)))
    source = _source(project)["parks"]
    assert _geod_area(lonlat) == pytest.approx(_geod_area(source.to_crs(4326).geometry), rel=1e-4)
    assert table.column("name").to_pylist() == PARK_NAMES


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_shapefile_keeps_chinese_and_says_what_it_cut(project, tmp_path, encoding):
    result = _export(project, tmp_path, "--format", "shp", "--encoding", encoding)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "parks.cpg").read_text().strip().upper() == encoding.upper().replace(
        "-", "-"
    )
    dbf = (tmp_path / "parks.dbf").read_bytes()
    assert "平昌县化工园区".encode(encoding) in dbf

    # The 150-character note is over 254 bytes in both encodings: cut, named, kept.
    assert "说明" in result.output and "long_text.csv" in result.output and "P1" in result.output
    features = _ogr_features(tmp_path / "parks.shp", "parks")
    cut = next(f["properties"]["说明"] for f in features if f["properties"]["id"] == "P1")
    assert LONG_NOTE.startswith(cut) and len(cut.encode(encoding)) <= 254
    with open(tmp_path / "parks.long_text.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == [{"id": "P1", "field": "说明", "value": LONG_NOTE}]

    with open(tmp_path / "townships.fields.csv", encoding="utf-8", newline="") as f:
        fields = {row["shapefile_field"]: row["field"] for row in csv.DictReader(f)}
    assert fields["function_t"] == "function_type"
    town_fields = _ogr_features(tmp_path / "townships.shp", "townships")[0]["properties"]
    assert town_fields["function_t"] in ("城镇化地区", "农产品主产区")
    assert all(len(name) <= 10 for name in town_fields)


def test_short_names_are_unique_and_at_most_10_characters():
    names = short_names(["function_type", "function_typo", "function_t", "id", "a" * 30])
    assert names["id"] == "id" and names["function_t"] == "function_t"
    assert len(set(names.values())) == 5 and all(len(v) <= 10 for v in names.values())


def test_export_refuses_to_overwrite_and_writes_nothing_on_bad_input(project, tmp_path):
    assert _export(project, tmp_path, "--format", "geojson").exit_code == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    again = _export(project, tmp_path, "--format", "geojson")
    assert again.exit_code == 2 and "--overwrite" in again.output
    bad = _export(project, tmp_path / "new", "--format", "kml", "--conflicts", str(project))
    assert bad.exit_code == 2 and "project.toml" in bad.output
    assert not (tmp_path / "new").exists() or list((tmp_path / "new").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_check_exports_into_its_output_folder(project, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["check", str(project), "--out", str(out), "--export", "gpkg", "--dst-crs", "EPSG:4490"],
    )
    assert result.exit_code in (0, 1), result.output
    exported = out / "export" / "geoplan.gpkg"
    assert _ogr_epsg(exported, "parks") == 4490
    assert len(_ogr_features(exported, "conflicts")) == len(
        gpd.read_file(out / "conflicts.gpkg", layer="conflicts")
    )
    with sqlite3.connect(exported) as db:
        styled = {r[0] for r in db.execute("SELECT f_table_name FROM layer_styles")}
    assert styled == {"parks", "townships", "permanent_farmland", "conflicts"}


def test_crs_is_a_deprecated_alias_of_dst_crs(project, tmp_path):
    result = _export(project, tmp_path, "--format", "gpkg", "--crs", "EPSG:4490")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("geoplan: warning: --crs is deprecated")
    assert "use --dst-crs" in result.stderr.splitlines()[0]
    assert _ogr_epsg(tmp_path / "project.gpkg", "parks") == 4490


def _query(url: str, text: str, *params):
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute(text, params).fetchall()


@pytest.mark.postgis
def test_postgis_export_creates_indexed_tables_with_intact_values(project, postgis_url):
    args = ["--to", postgis_url, "--schema", "plan_a", "--table-prefix", "bz_"]
    result = CliRunner().invoke(cli, ["export", str(project), *args])
    assert result.exit_code == 0, result.output
    assert "plan_a.bz_parks" in result.output

    rows = _query(
        postgis_url,
        "SELECT name, ST_SRID(geom), GeometryType(geom),"
        " ST_Area(ST_Transform(geom, 4326)::geography) FROM plan_a.bz_parks ORDER BY id",
    )
    assert [r[0] for r in rows] == PARK_NAMES
    assert {r[1] for r in rows} == {4545} and {r[2] for r in rows} == {"MULTIPOLYGON"}
    source = _source(project)["parks"].to_crs(4326)
    expected = [
        abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(g))[0]) for g in source.geometry
    ]
    assert [r[3] for r in rows] == pytest.approx(expected, rel=1e-4)
    assert (
        _query(postgis_url, 'SELECT "说明" FROM plan_a.bz_parks WHERE id = %s', "P1")[0][0]
        == LONG_NOTE
    )
    indexes = _query(
        postgis_url,
        "SELECT tablename FROM pg_indexes WHERE schemaname = 'plan_a' AND indexdef LIKE '%%gist%%'",
    )
    assert {r[0] for r in indexes} >= {
        "bz_parks",
        "bz_townships",
        "bz_permanent_farmland",
        "bz_conflicts",
    }


@pytest.mark.postgis
def test_postgis_export_refuses_existing_tables_and_bad_names(project, postgis_url):
    args = ["--to", postgis_url, "--schema", "plan_b"]
    assert CliRunner().invoke(cli, ["export", str(project), *args]).exit_code == 0
    _query_commit = "UPDATE plan_b.parks SET name = 'kept' WHERE id = 'P1'"
    import psycopg

    with psycopg.connect(postgis_url) as connection:
        connection.execute(_query_commit)
    again = CliRunner().invoke(cli, ["export", str(project), *args])
    assert again.exit_code == 2 and "exists" in again.output and "--overwrite" in again.output
    assert _query(postgis_url, "SELECT name FROM plan_b.parks WHERE id = 'P1'")[0][0] == "kept"
    replaced = CliRunner().invoke(cli, ["export", str(project), *args, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert (
        _query(postgis_url, "SELECT name FROM plan_b.parks WHERE id = 'P1'")[0][0] == PARK_NAMES[0]
    )

    for option, value in (
        ("--schema", 'x"; DROP TABLE plan_b.parks; --'),
        ("--table-prefix", "A-"),
    ):
        bad = CliRunner().invoke(cli, ["export", str(project), "--to", postgis_url, option, value])
        assert bad.exit_code == 2 and "lower-case letters" in bad.output
    assert _query(postgis_url, "SELECT count(*) FROM plan_b.parks")[0][0] == 2


@pytest.mark.postgis
def test_postgis_unreachable_is_a_clear_error(project):
    url = "postgresql://nobody:secret@127.0.0.1:9/none"
    result = CliRunner().invoke(cli, ["export", str(project), "--to", url])
    assert result.exit_code == 2
    assert "cannot connect" in result.output and "secret" not in result.output
