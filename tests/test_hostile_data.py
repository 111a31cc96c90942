"""Issue 13, section 3: broken data never passes as a clean check.

Each hostile input is built from the embedded 巴中 dataset (a copy of its
project and GeoPackage, one layer rewritten) or from small synthetic layers,
written through GDAL. Errors are checked through the real ``geoplan`` in a
subprocess: exit 2, one ``geoplan: error:`` line naming the file, layer and
feature, no traceback, and the previous outputs left as they were.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely import affinity

from conftest import LONLAT_BOXES, lonlat_to
from engine_cases import EPSG, box, rule, write_project
from geoplan.analysis.engine import evaluate
from geoplan.analysis.rules import parse_pack
from geoplan.geo.errors import CRSError, GeometryError, LayerReadError
from geoplan.geo.repair import repair_geometries
from geoplan.geo.vector_read import read_vector
from geoplan.geo.vector_write import write_layers
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.inventory import inventory
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project
from geoplan.layers.region import FAR_KM, box_distance_km, misplaced_layers

GEOPLAN = Path(sys.executable).with_name("geoplan")
EMBEDDED = PROJECT_FILE.parent
PREVIOUS = '{"previous": "run"}'
RED = '{ kind = "ecological_redline" }'
FARM = '{ kind = "permanent_farmland" }'


# ---------------------------------------------------------------- helpers


def _embedded_copy(root: Path) -> Path:
    """A copy of the embedded project (project file, GeoPackage, DEM) in ``root``."""
    shutil.copytree(EMBEDDED / "data", root / "data")
    shutil.copy(PROJECT_FILE, root / "project.toml")
    return root / "project.toml"


def _repoint(project: Path, kind: str, body: str) -> None:
    """Replace the ``[layers.KIND]`` table of a project file by ``body``."""
    text = project.read_text(encoding="utf-8")
    table = re.compile(rf"^\[layers\.{kind}\]\n(?:[a-z_]+ = [^\n]*\n)*", re.MULTILINE)
    assert table.search(text), kind
    project.write_text(table.sub(f"[layers.{kind}]\n{body}\n", text), encoding="utf-8")


def _embedded_parks() -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(EMBEDDED / "data" / "bazhong.gpkg", layer="CYYQ")


def _geoplan(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(GEOPLAN), *map(str, args)], capture_output=True, text=True, timeout=900
    )


def _previous_outputs(root: Path) -> Path:
    out = root / "out"
    out.mkdir()
    (out / "report.json").write_text(PREVIOUS, encoding="utf-8")
    return out


def _assert_refused(proc: subprocess.CompletedProcess, out: Path, *needles: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("geoplan: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert [p.name for p in out.iterdir()] == ["report.json"]
    assert (out / "report.json").read_text(encoding="utf-8") == PREVIOUS
    return lines[0]


def _shapefile_records(shp: Path) -> list[tuple[int, int]]:
    """(offset, shape type) of every record of a ``.shp``, read from its ``.shx``."""
    shx = shp.with_suffix(".shx").read_bytes()
    data = shp.read_bytes()
    records = []
    for i in range((len(shx) - 100) // 8):
        offset = struct.unpack(">i", shx[100 + 8 * i : 104 + 8 * i])[0] * 2
        kind = struct.unpack("<i", data[offset + 8 : offset + 12])[0] if offset < len(data) else -1
        records.append((offset, kind))
    return records


def _truncate(shp: Path, keep: float) -> None:
    data = shp.read_bytes()
    shp.write_bytes(data[: int(len(data) * keep)])


# ------------------------------------------------ hostile embedded layers


def _truncated_shapefile(data: Path) -> tuple[str, tuple[str, ...]]:
    shp = data / "parks.shp"
    pyogrio.write_dataframe(_embedded_parks(), shp, encoding="UTF-8")
    _truncate(shp, 0.6)
    cut = sum(offset >= shp.stat().st_size for offset, _ in _shapefile_records(shp))
    assert 0 < cut < 24
    return 'path = "data/parks.shp"', ("parks.shp", "records are unreadable", "of 24 records")


def _all_null(data: Path) -> tuple[str, tuple[str, ...]]:
    parks = _embedded_parks()
    parks.geometry = [None] * len(parks)
    pyogrio.write_dataframe(parks, data / "parks.gpkg", layer="CYYQ")
    return 'path = "data/parks.gpkg"', (
        "parks.gpkg",
        "none of its 24 features has a usable polygon geometry",
        "missing or empty geometry: 24",
    )


def _points_in_polygon_layer(data: Path) -> tuple[str, tuple[str, ...]]:
    parks = _embedded_parks()
    parks.geometry = parks.geometry.centroid
    pyogrio.write_dataframe(parks, data / "parks.gpkg", layer="CYYQ")
    return 'path = "data/parks.gpkg"', (
        "parks.gpkg",
        "none of its 24 features has a usable polygon geometry",
        "point has no polygon part: 24",
    )


def _declared_utm_33n(data: Path) -> tuple[str, tuple[str, ...]]:
    parks = _embedded_parks().set_crs(32633, allow_override=True)
    pyogrio.write_dataframe(parks, data / "parks.gpkg", layer="CYYQ")
    return 'path = "data/parks.gpkg"', (
        "parks.gpkg: parks read in EPSG:32633 lies at lon 1",
        "from the region of counties (lon 106.",
        f"more than {FAR_KM:g} km",
        'crs = "EPSG:..." in [layers.parks]',
    )


def _nan_coordinate(data: Path) -> tuple[str, tuple[str, ...]]:
    parks = _embedded_parks()
    ring = shapely.get_coordinates(parks.geometry.iloc[5])
    ring[2] = np.nan
    parks.loc[5, "geometry"] = shapely.Polygon(ring)
    pyogrio.write_dataframe(parks, data / "parks.gpkg", layer="CYYQ")
    return 'path = "data/parks.gpkg"', (
        "parks.gpkg",
        f"feature 6 (id {parks.loc[5, 'BSM']!r})",  # GeoPackage fids start at 1
        "not finite numbers (NaN or infinite)",
    )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize(
    "build",
    [_truncated_shapefile, _all_null, _points_in_polygon_layer, _declared_utm_33n, _nan_coordinate],
)
def test_broken_layer_in_the_embedded_project_is_bad_input(tmp_path, build):
    project = _embedded_copy(tmp_path)
    body, needles = build(tmp_path / "data")
    _repoint(project, "parks", body)
    out = _previous_outputs(tmp_path)
    proc = _geoplan("-q", "check", project, "--out", out, "--overwrite")
    _assert_refused(proc, out, *needles)


# ------------------------------------------------------- truncated Shapefile


def test_cut_short_shapefile_is_refused_and_a_null_shape_record_is_not(tmp_path):
    parks = _embedded_parks()
    parks.loc[3, "geometry"] = None  # a null shape record, written in the file
    shp = tmp_path / "parks.shp"
    pyogrio.write_dataframe(parks, shp, encoding="UTF-8")
    assert _shapefile_records(shp)[3][1] == 0  # shape type 0: null shape, inside the file

    whole = read_vector(shp)
    assert len(whole.frame) == 24 and whole.frame.geometry.isna().sum() == 1

    zipped = tmp_path / "parks.zip"
    _truncate(shp, 0.5)
    with zipfile.ZipFile(zipped, "w") as archive:
        for part in sorted(tmp_path.glob("parks.*")):
            if part != zipped:
                archive.write(part, part.name)
    damaged = sum(offset >= shp.stat().st_size for offset, _ in _shapefile_records(shp))
    # GDAL alone hands the cut records back as features without geometry
    assert pyogrio.read_dataframe(shp).geometry.isna().sum() >= damaged + 1
    for source, name in ((shp, r"parks\.shp"), (zipped, r"parks\.zip!parks\.shp")):
        with pytest.raises(LayerReadError, match=rf"{name}: \d+ of 24 records are unreadable"):
            read_vector(source)


def test_a_null_shape_record_is_dropped_and_logged_not_refused(tmp_path):
    frame = gpd.GeoDataFrame({"BSM": ["a", "b"]}, geometry=[box(0, 0, 100, 100), None], crs=EPSG)
    pyogrio.write_dataframe(frame, tmp_path / "farm.shp", encoding="UTF-8")
    project = tmp_path / "project.toml"
    project.write_text('[layers.permanent_farmland]\npath = "farm.shp"\n', encoding="utf-8")
    layer = load_project(read_project(project)).layers["permanent_farmland"]
    assert list(layer.frame["id"]) == ["a"] and layer.dropped == 1


# --------------------------------------------- every geometry unusable


@pytest.mark.parametrize(
    ("geoms", "why"),
    [
        ([None, None, shapely.Polygon()], "missing or empty geometry: 3"),
        ([shapely.Point(1, 1), shapely.LineString([(0, 0), (5, 5)])], "has no polygon part: 1"),
    ],
)
def test_a_layer_with_no_usable_geometry_is_an_error(tmp_path, geoms, why):
    red = gpd.GeoDataFrame(
        {"BSM": [str(i) for i in range(len(geoms))]},
        geometry=[affinity.translate(g, 380_000, 3_530_000) if g else g for g in geoms],
        crs=EPSG,
    )
    project = write_project(
        tmp_path, {"ecological_redline": red, "permanent_farmland": [box(0, 0, 10, 10)]}
    )
    with pytest.raises(GeometryError, match=r"case\.gpkg:ecological_redline: none of its") as err:
        load_project(read_project(project))
    assert why in str(err.value)


# -------------------------------------------------------- misplaced layers


def test_region_is_the_counties_else_the_other_layers():
    bazhong = (106.3, 31.2, 107.8, 32.8)
    europe = (13.5, 31.6, 13.7, 31.8)
    near = (107.9, 32.0, 108.0, 32.1)  # ~10 km east of the counties: fine
    assert box_distance_km(bazhong, near) == pytest.approx(9.45, rel=0.05)
    assert box_distance_km(bazhong, bazhong) == 0.0
    found = misplaced_layers({"counties": bazhong, "parks": europe, "rivers": near})
    assert [(m.kind, m.region_of) for m in found] == [("parks", "counties")]
    assert found[0].distance_km > 8000
    # counties themselves in the wrong CRS, while two other layers agree
    found = misplaced_layers({"counties": europe, "parks": bazhong, "rivers": near})
    assert [(m.kind, m.region_of) for m in found] == [("counties", "the other layers")]
    # no counties: the layer far from every other one
    found = misplaced_layers({"parks": europe, "rivers": near, "townships": bazhong})
    assert [(m.kind, m.region_of) for m in found] == [("parks", "the other layers")]
    assert found[0].region == (106.3, 31.2, 108.0, 32.8)
    assert misplaced_layers({"parks": europe}) == []


def _give_crs(project: Path, kind: str, crs: str) -> None:
    text = project.read_text(encoding="utf-8")
    text = text.replace(f'layer = "{kind}"\n', f'layer = "{kind}"\ncrs = "{crs}"\n')
    project.write_text(text, encoding="utf-8")


def test_a_layer_given_a_far_crs_without_counties_names_the_region_of_the_others(tmp_path):
    layers = {
        "ecological_redline": [box(0, 0, 1000, 1000)],
        "urban_boundary": [box(5000, 0, 6000, 1000)],
        "permanent_farmland": [box(0, 0, 5, 5)],
    }
    project = write_project(tmp_path, layers)
    _give_crs(project, "permanent_farmland", "EPSG:4547")  # zone 38: ~570 km east of 巴中
    with pytest.raises(CRSError) as err:
        load_project(read_project(project))
    message = str(err.value)
    assert "case.gpkg:permanent_farmland: permanent_farmland read in EPSG:4547 lies at" in message
    assert "lon 112." in message and "region of the other layers (lon 106." in message
    assert "[layers.permanent_farmland]" in message

    del layers["urban_boundary"]  # two layers that disagree: both are named
    project = write_project(tmp_path, layers)
    _give_crs(project, "permanent_farmland", "EPSG:4547")
    with pytest.raises(CRSError, match=f"the layers lie more than {FAR_KM:g} km apart") as err:
        load_project(read_project(project))
    assert "ecological_redline (EPSG:4545) at lon 106." in str(err.value)
    assert "permanent_farmland (EPSG:4547) at lon 112." in str(err.value)


def test_a_layer_whose_crs_puts_it_nowhere_on_the_globe(tmp_path):
    far = gpd.GeoDataFrame(
        {"BSM": ["P1"], "MC": ["园区"]}, geometry=[shapely.box(4e9, 4e9, 4.1e9, 4.1e9)], crs=EPSG
    )
    project = write_project(tmp_path, {"parks": far})
    _give_crs(project, "parks", "EPSG:32633")
    with pytest.raises(CRSError, match="parks read in EPSG:32633 has coordinates that are nowhere"):
        load_project(read_project(project))


# ------------------------------------------------------ NaN coordinates


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_coordinates_name_the_feature(bad):
    broken = shapely.Polygon([(0, 0), (1, 0), (bad, 1), (0, 0)])
    geoms = [shapely.box(0, 0, 1, 1), None, broken, broken]
    with pytest.raises(GeometryError) as err:
        repair_geometries(
            geoms,
            family="polygon",
            source="f.gpkg:x",
            feature_ids=[11, 12, 13, 14],
            ids=["a", None, "c", "d"],
        )
    assert str(err.value).startswith("f.gpkg:x feature 13 (id 'c'): coordinates are not finite")
    assert "2 features have such coordinates" in str(err.value)


# ---------------------------------------------------------- duplicate ids


def test_repeated_ids_are_told_apart_and_conflicts_point_at_the_right_feature(tmp_path, caplog):
    farm = gpd.GeoDataFrame(
        {"BSM": ["F1", "F1", "F2"]},
        geometry=[box(0, 0, 100, 100), box(500, 0, 600, 50), box(2000, 0, 2100, 100)],
        crs=EPSG,
    )
    project = write_project(
        tmp_path, {"ecological_redline": [box(-50, -50, 700, 200)], "permanent_farmland": farm}
    )
    with caplog.at_level("WARNING"):
        loaded = load_project(read_project(project))
    assert any(
        "case.gpkg:permanent_farmland: 2 features share the ids 'F1'" in m for m in caplog.messages
    )
    frame = loaded.frame("permanent_farmland")
    assert list(frame["id"]) == ["F1#1", "F1#2", "F2"]  # GeoPackage fids 1, 2, 3
    assert list(frame["source_fid"]) == [1, 2, 3]
    assert any(
        "told apart as id#<source feature id>" in n
        for n in loaded.layers["permanent_farmland"].notes
    )

    rules = list(parse_pack(rule("must_not_overlap", FARM, RED), "test").rules)
    conflicts = evaluate(loaded, rules).conflicts
    assert sorted(conflicts["left_id"]) == ["F1#1", "F1#2"]
    by_id = frame.set_index("id").geometry
    for row in conflicts.itertuples():
        assert by_id[row.left_id].buffer(1e-6).contains(row.geometry)
        assert row.area_m2 == pytest.approx(by_id[row.left_id].area, rel=1e-3)


@pytest.mark.slow
def test_repeated_park_ids_in_the_embedded_project(tmp_path):
    project = _embedded_copy(tmp_path)
    parks = _embedded_parks()
    parks["BSM"] = parks["BSM"].iloc[0]  # every park has the same id
    pyogrio.write_dataframe(parks, tmp_path / "data" / "parks.gpkg", layer="CYYQ")
    _repoint(project, "parks", 'path = "data/parks.gpkg"')
    out = tmp_path / "out"
    proc = _geoplan("check", project, "--out", out)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    assert "parks.gpkg: 24 features share the ids 'CYYQ0001'" in proc.stderr

    loaded = pyogrio.read_dataframe(out / "layers.gpkg", layer="parks")
    assert loaded["id"].is_unique
    source = pyogrio.read_dataframe(tmp_path / "data" / "parks.gpkg", fid_as_index=True)
    conflicts = pyogrio.read_dataframe(out / "conflicts.gpkg", layer="conflicts")
    rows = conflicts[conflicts["left_kind"] == "parks"]  # parks are the left side of their rules
    fids = [park_id.partition("#")[2] for park_id in rows["left_id"]]
    assert rows["left_id"].str.startswith("CYYQ0001#").all()
    assert len(set(fids)) >= 2
    for fid, geom in zip(fids, rows.geometry, strict=True):
        # the breach lies in the park it names, joined back to the source by feature id
        assert source.geometry[int(fid)].buffer(0.01).contains(geom)


# --------------------------------------------------------- column names


def test_source_fields_named_like_geoplan_columns_are_kept_under_src_names(tmp_path):
    lonlat = LONLAT_BOXES[0]
    props = {
        "BSM": "R1",
        "area_m2": 3.5,
        "source_fid": 77,
        "layer_kind": "x",
        "fid": 9,
        "geometry": "中心",
        "_geoplan_row": 4,
        "AREA_M2": 8.0,
    }
    # written by hand: a GeoDataFrame cannot hold a "geometry" attribute
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(lonlat)}
        ],
    }
    (tmp_path / "red.geojson").write_text(json.dumps(collection), encoding="utf-8")
    project = tmp_path / "project.toml"
    project.write_text('[layers.ecological_redline]\npath = "red.geojson"\n', encoding="utf-8")
    loaded = load_project(read_project(project))
    frame = loaded.frame("ecological_redline")
    assert frame.loc[0, "src_area_m2"] == 3.5
    assert frame.loc[0, "src_source_fid"] == 77
    assert frame.loc[0, "src_layer_kind"] == "x"
    assert frame.loc[0, "src_fid"] == 9
    assert frame.loc[0, "src__geoplan_row"] == 4
    assert frame.loc[0, "src_geometry"] == "中心"
    assert frame.loc[0, "src_src_AREA_M2"] == 8.0
    assert frame.loc[0, "area_m2"] == pytest.approx(
        float(gpd.GeoSeries([lonlat], crs=4326).to_crs(EPSG).area.iloc[0]), rel=0.01
    )
    assert frame.loc[0, "source_fid"] == 0
    notes = inventory(loaded)[0]["notes"]
    assert "source field area_m2 kept as src_area_m2: geoplan writes area_m2 itself" in notes
    assert "source field geometry kept as src_geometry: geoplan writes geometry itself" in notes
    write_layers({"ecological_redline": frame}, tmp_path / "layers.gpkg")
    back = pyogrio.read_dataframe(tmp_path / "layers.gpkg")
    assert back.loc[0, "src_fid"] == 9 and back.loc[0, "src_area_m2"] == 3.5


# --------------------------------------------------------------- encoding


_TRADITIONAL = ["巴中經濟開發區", "平昌縣化工園區", "通江縣產業園", "南江縣農業園區"]
_JAPANESE = ["巴中経済開発区", "平昌化学工業団地", "通江産業団地", "南江農業公園"]


def _parks_shapefile(path: Path, names: list[str], encoding: str) -> Path:
    parks = gpd.GeoDataFrame(
        {"BSM": [f"P{i}" for i in range(len(names))], "YQMC": names},
        geometry=lonlat_to(4545, LONLAT_BOXES),
        crs=4545,
    )
    pyogrio.write_dataframe(parks, path, encoding=encoding)
    path.with_suffix(".cpg").unlink()
    return path


@pytest.mark.parametrize(("names", "encoding"), [(_TRADITIONAL, "big5"), (_JAPANESE, "shift_jis")])
def test_text_that_is_not_gbk_is_warned_about_with_the_encoding_to_give(tmp_path, names, encoding):
    _parks_shapefile(tmp_path / "parks.shp", names, encoding)
    project = tmp_path / "project.toml"
    project.write_text('[layers.parks]\npath = "parks.shp"\n', encoding="utf-8")
    proc = _geoplan("layers", project)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "looks garbled" in line]
    assert len(warnings) == 1, proc.stderr
    assert "parks.shp" in warnings[0] and "field 'YQMC' read as gb18030" in warnings[0]
    assert f'encoding = "{encoding}"' in warnings[0]

    project.write_text(
        f'[layers.parks]\npath = "parks.shp"\nencoding = "{encoding}"\n', encoding="utf-8"
    )
    loaded = load_project(read_project(project))
    assert list(loaded.frame("parks")["name"]) == names
    assert not any("garbled" in n for n in loaded.layers["parks"].notes)


def test_gbk_text_is_not_warned_about(tmp_path):
    names = ["巴中经济开发区", "平昌县化工园区", "通江县产业园", "南江县农业园区"]
    _parks_shapefile(tmp_path / "parks.shp", names, "GBK")
    source = read_vector(tmp_path / "parks.shp")
    assert source.encoding == "gb18030" and source.notes == []
    assert list(source.frame["YQMC"]) == names
