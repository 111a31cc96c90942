"""`geoplan layers` on a project that mixes formats and CRSs, and its bad-input errors."""

import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from conftest import LONLAT_BOXES, lonlat_to
from geoplan.analysis.cli import cli

GEOD = Geod(ellps="GRS80")


def geod_km2(geoms_lonlat) -> float:
    return (
        sum(abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(g))[0]) for g in geoms_lonlat)
        / 1e6
    )


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output, result.stderr


def test_inventory_json(mixed_project):
    code, out, _ = run("layers", mixed_project, "--json")
    assert code == 0, out
    rows = {r["kind"]: r for r in json.loads(out)}
    assert list(rows) == [
        "ecological_redline",
        "permanent_farmland",
        "zone_urban",
        "zone_agricultural",
        "protected_areas",
        "parks",
        "counties",
        "urban_boundary",
        "rivers",
    ]
    for r in rows.values():
        assert {
            "kind",
            "source",
            "source_crs",
            "features",
            "repaired",
            "dropped",
            "area_km2",
        } <= set(r)
    assert rows["ecological_redline"]["source"] == "data/生态保护红线.gdb:STBHHX"
    assert rows["ecological_redline"]["driver"] == "OpenFileGDB"
    # zone-prefixed eastings with no .prj: detected
    assert rows["permanent_farmland"]["source_crs"] == "EPSG:4523"
    assert any("gb18030" in n for n in rows["permanent_farmland"]["notes"])
    # one shared layer split by `where`
    assert rows["zone_urban"]["features"] == 1 and rows["zone_agricultural"]["features"] == 2
    assert rows["protected_areas"]["source_crs"] == "EPSG:4326"
    assert rows["counties"]["driver"] == "GeoParquet"
    assert rows["rivers"]["area_km2"] is None and rows["rivers"]["length_km"] > 100

    boxes = np.array(LONLAT_BOXES, dtype=object)
    expected = {
        "ecological_redline": geod_km2(boxes[:2]),
        "zone_urban": geod_km2(boxes[:1]),
        "zone_agricultural": geod_km2(boxes[1:3]),
        "protected_areas": geod_km2(boxes[2:]),
        "counties": geod_km2(boxes),
        "permanent_farmland": geod_km2([b.buffer(-0.01) for b in boxes[:3]]),
    }
    for kind, km2 in expected.items():
        assert rows[kind]["area_km2"] == pytest.approx(km2, rel=1e-4), kind
        assert rows[kind]["area_wanmu"] == pytest.approx(km2 * 1500 / 10000, rel=1e-4)


def test_inventory_table_shows_chinese_names(mixed_project):
    code, out, _ = run("layers", mixed_project)
    assert code == 0
    assert "working CRS EPSG:4545" in out
    assert "生态保护红线" in out and "永久基本农田" in out


def test_mapped_fields_and_loaded_layers(mixed_project):
    from geoplan.layers import load_project, read_project

    loaded = load_project(read_project(mixed_project))
    assert loaded.crs.to_epsg() == 4545
    farmland = loaded.frame("permanent_farmland")
    assert list(farmland["id"]) == ["F1", "F2", "F3"]
    assert list(farmland["ZLDWMC"]) == ["巴州区", "恩阳区", "通江县"]
    parks = loaded.frame("parks")
    assert list(parks["chemical"]) == [False, True]
    protected = loaded.frame("protected_areas")
    assert list(protected["category"]) == ["自然保护区", "自然公园"]
    assert all(f.crs.to_epsg() == 4545 for f in (farmland, parks, protected))


def test_repairs_and_stored_areas_reported(tmp_path):
    square = lonlat_to(4545, [shapely.box(107.0, 32.0, 107.01, 32.01)])[0]
    x0, y0, x1, y1 = square.bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    true_m2 = geod_km2([shapely.box(107.0, 32.0, 107.01, 32.01)]) * 1e6
    frame = gpd.GeoDataFrame(
        {"BSM": ["a", "b", "c", "d"], "MJ": [true_m2 / 10000, true_m2 / 10000 * 1.15, 0.0, 1.0]},
        geometry=[square, square, bowtie, None],
        crs=4545,
    )
    pyogrio.write_dataframe(frame, tmp_path / "f.gpkg", layer="YJJBNT")
    project = tmp_path / "p.toml"
    project.write_text('[layers.permanent_farmland]\npath = "f.gpkg"\n', encoding="utf-8")
    code, out, _ = run("layers", project, "--json")
    assert code == 0, out
    row = json.loads(out)[0]
    assert row["features_read"] == 4 and row["features"] == 3
    assert row["repaired"] == 1 and row["dropped"] == 1
    # MJ in hectares, detected; b is 15 % off, c (bow-tie, 0) too
    assert row["stored_area_field"] == "MJ" and row["stored_area_unit"] == "ha"
    assert row["stored_area_off"] == 2


def write_project(tmp_path, body: str):
    path = tmp_path / "p.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[layers.ecological_redline]\npath = "missing.gpkg"\n', r"missing\.gpkg: no such file"),
        (
            '[layers.zone_urban]\npath = "data/规划分区.gpkg"\nlayer = "三线"\n',
            r"规划分区\.gpkg: no layer '三线'; its layers are: 三区",
        ),
        (
            '[layers.farmland]\npath = "x.gpkg"\n',
            r"\[layers\.farmland\]: unknown layer kind 'farmland'",
        ),
        (
            '[layers.townships]\npath = "data/规划分区.gpkg"\n',
            r"townships needs field 'name'",
        ),
        (
            '[layers.zone_urban]\npath = "data/规划分区.gpkg"\nfields = { name = "XMMC" }\n',
            r"no field 'XMMC'",
        ),
        ('[layers.zone_urban]\npaht = "x.gpkg"\n', r"unknown key 'paht'"),
        ("[layers\n", r"not a valid TOML file"),
    ],
)
def test_bad_project_one_line_exit_2(mixed_project, body, message):
    import re

    project = write_project(mixed_project.parent, body)
    code, out, err = run("layers", project)
    assert code == 2
    assert re.search(message, err), err
    assert err.startswith("geoplan: error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_no_crs_and_no_zone_exit_2(tmp_path):
    frame = gpd.GeoDataFrame(geometry=[shapely.box(500_000, 3_500_000, 501_000, 3_501_000)])
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(frame, tmp_path / "plain.shp")
    project = write_project(tmp_path, '[layers.urban_boundary]\npath = "plain.shp"\n')
    code, _, err = run("layers", project)
    assert code == 2
    assert "plain.shp: no CRS and the coordinates" in err and "fit no known zone" in err


def test_bad_value_names_the_feature(tmp_path):
    frame = gpd.GeoDataFrame(
        {"XZMC": ["a", "b"], "XZQMC": ["c", "c"], "ZTGNQ": ["城镇化地区", "工业区"]},
        geometry=lonlat_to(4545, LONLAT_BOXES[:2]),
        crs=4545,
    )
    pyogrio.write_dataframe(frame, tmp_path / "t.gpkg")
    project = write_project(tmp_path, '[layers.townships]\npath = "t.gpkg"\n')
    code, _, err = run("layers", project)
    assert code == 2
    assert "t.gpkg feature 2: function_type (ZTGNQ) is '工业区'" in err


def test_layer_chosen_by_usual_name(tmp_path):
    """A bureau GeoPackage holding several tables needs no ``layer`` for the usual names."""
    boxes = lonlat_to(4545, LONLAT_BOXES)
    path = tmp_path / "三区三线.gpkg"
    for layer, geoms in (("stbhhx", boxes[:1]), ("YJJBNTTB", boxes[1:3]), ("CZKFBJ", boxes[3:])):
        frame = gpd.GeoDataFrame(
            {"BSM": [f"{layer}{i}" for i in range(len(geoms))]}, geometry=geoms
        )
        pyogrio.write_dataframe(frame.set_crs(4545), path, layer=layer)
    project = write_project(
        tmp_path,
        "".join(
            f'[layers.{kind}]\npath = "三区三线.gpkg"\n'
            for kind in ("ecological_redline", "permanent_farmland", "urban_boundary")
        ),
    )
    code, out, _ = run("layers", project, "--json")
    assert code == 0, out
    rows = {r["kind"]: r for r in json.loads(out)}
    assert rows["ecological_redline"]["source"].endswith("三区三线.gpkg:stbhhx")
    assert rows["permanent_farmland"]["source"].endswith("三区三线.gpkg:YJJBNTTB")
    assert [r["features"] for r in rows.values()] == [1, 2, 1]
    assert "layer YJJBNTTB chosen by its usual name" in rows["permanent_farmland"]["notes"]

    project = write_project(tmp_path, '[layers.protected_areas]\npath = "三区三线.gpkg"\n')
    code, _, err = run("layers", project)
    assert code == 2
    assert "holds 3 layers (stbhhx, YJJBNTTB, CZKFBJ) and none has a usual" in err
    assert "protected_areas name (ZRBHD)" in err and "[layers.protected_areas]" in err


def test_kinds_lists_what_the_loader_accepts(tmp_path):
    """Field names `geoplan kinds` lists are mapped without a field map."""
    code, out, _ = run("kinds", "--json")
    assert code == 0
    kinds = {d["kind"]: d for d in json.loads(out)}
    assert len(kinds) == 16 and kinds["townships"]["title"] == "乡镇（乡镇级主体功能区）"
    fields = {f["name"]: f for f in kinds["townships"]["fields"]}
    assert {n for n, f in fields.items() if f["required"]} == {"name", "county", "function_type"}

    # the last alias of each field, in lower case, on a real GeoPackage
    columns = {f["aliases"][-1].lower(): name for name, f in fields.items()}
    values = {
        "name": ["兴隆镇", "兴隆镇"],
        "county": ["恩阳区", "通江县"],
        "function_type": fields["function_type"]["allowed"][:2],
        "energy_rich": ["是", "否"],
        "heritage_rich": ["1", "0"],
        "area": [1.0, 2.0],
        "code": ["511903100", "511921100"],
        "id": ["a", "b"],
    }
    frame = gpd.GeoDataFrame(
        {col: values[name] for col, name in columns.items()},
        geometry=lonlat_to(4545, LONLAT_BOXES[:2]),
        crs=4545,
    )
    pyogrio.write_dataframe(frame, tmp_path / "t.gpkg", layer="XZQ")
    project = write_project(tmp_path, '[layers.townships]\npath = "t.gpkg"\n')
    code, out, err = run("layers", project, "--json")
    assert code == 0, err
    assert json.loads(out)[0]["fields"] == {name: col for col, name in columns.items()}

    code, out, _ = run("kinds", "townships")
    assert code == 0 and "usual tables: XZQ" in out and "ZTGNQ" in out
    code, _, err = run("kinds", "farmland")
    assert code == 2 and "unknown layer kind 'farmland'" in err
