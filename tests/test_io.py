"""Vector I/O through GDAL: every format round-trips, encodings are decided from bytes."""

import struct
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from conftest import LONLAT_BOXES, NAMES, lonlat_to, write_gbk_shapefile_without_cpg
from geoplan.geo.errors import EncodingError, LayerReadError, OutputExistsError
from geoplan.geo.outputs import atomic_output
from geoplan.geo.vector_read import list_layers, read_vector
from geoplan.geo.vector_write import write_layers, write_vector


@pytest.fixture
def frame():
    return gpd.GeoDataFrame(
        {"名称": NAMES, "BSM": ["A1", "A2", "A3", "A4"], "n": [1, 2, 3, 2**40]},
        geometry=lonlat_to(4545, LONLAT_BOXES),
        crs=4545,
    )


@pytest.mark.parametrize(
    "name", ["x.gpkg", "x.shp", "x.geojson", "x.fgb", "x.kml", "x.gdb", "x.parquet"]
)
def test_round_trip(tmp_path, frame, name):
    path = write_vector(frame, tmp_path / name, layer="x")
    back = read_vector(path, "x" if name.endswith((".gpkg", ".gdb")) else None).frame
    assert len(back) == 4
    names = back["名称"]
    if name.endswith(".fgb"):  # the spatial index orders features along a Hilbert curve
        back = back.set_index("BSM").loc[list(frame["BSM"])]
        names = back["名称"]
    assert list(names) == NAMES
    expected_crs = 4326 if name.endswith((".geojson", ".kml")) else 4545
    assert back.crs.to_epsg() == expected_crs
    got = back.to_crs(4545).geometry.values
    assert np.allclose(shapely.area(got), shapely.area(frame.geometry.values), rtol=1e-6)
    if name.endswith(".gdb"):
        # 64-bit integers stay integers (TARGET_ARCGIS_VERSION)
        assert back["n"].dtype.kind == "i" and back["n"].iloc[3] == 2**40


def test_gbk_shapefile_without_cpg(tmp_path, frame):
    path = write_gbk_shapefile_without_cpg(frame, tmp_path / "gbk.shp", prj=True)
    raw = (tmp_path / "gbk.dbf").read_bytes()
    assert "巴州区".encode("gbk") in raw and not (tmp_path / "gbk.cpg").exists()
    # GDAL alone decodes it as Latin-1 mojibake ...
    assert "°ÍÖÝÇø" in list(pyogrio.read_dataframe(path).iloc[:, 0])
    # ... geoplan decides from the bytes
    source = read_vector(path)
    assert list(source.frame["名称"]) == NAMES
    assert source.encoding == "gb18030" and source.encoding_how == "gb18030 bytes"


def test_cpg_wins_and_utf8_without_cpg(tmp_path, frame):
    path = tmp_path / "u.shp"
    pyogrio.write_dataframe(frame, path, encoding="UTF-8")
    assert read_vector(path).encoding_how == "cpg"
    (tmp_path / "u.cpg").unlink()
    source = read_vector(path)
    assert source.encoding_how == "utf-8 bytes"
    assert list(source.frame["名称"]) == NAMES


def test_zipped_gbk_shapefile(tmp_path, frame):
    write_gbk_shapefile_without_cpg(frame, tmp_path / "gbk.shp", prj=True)
    archive = tmp_path / "delivery.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(tmp_path.glob("gbk.*")):
            z.write(f, f"交付/{f.name}")
    source = read_vector(archive)
    assert list(source.frame["名称"]) == NAMES
    assert source.frame.crs.to_epsg() == 4545


def test_unreadable_encoding(tmp_path, frame):
    path = tmp_path / "bad.shp"
    pyogrio.write_dataframe(frame[["BSM", "geometry"]], path)
    (tmp_path / "bad.cpg").unlink()
    dbf = bytearray((tmp_path / "bad.dbf").read_bytes())
    header_len = struct.unpack("<H", dbf[8:10])[0]
    dbf[header_len + 1 : header_len + 3] = b"\xff\xfe"  # invalid in UTF-8 and in GB18030
    (tmp_path / "bad.dbf").write_bytes(bytes(dbf))
    with pytest.raises(EncodingError, match=r"bad\.dbf: text is neither UTF-8 nor GBK"):
        read_vector(path)


def test_missing_file_and_layer(tmp_path, frame):
    with pytest.raises(LayerReadError, match=r"nope\.gpkg: no such file"):
        read_vector(tmp_path / "nope.gpkg")
    write_layers({"a": frame, "b": frame}, tmp_path / "two.gpkg")
    assert list_layers(tmp_path / "two.gpkg") == ["a", "b"]
    with pytest.raises(LayerReadError, match=r"two\.gpkg: no layer 'c'; its layers are: a, b"):
        read_vector(tmp_path / "two.gpkg", "c")
    with pytest.raises(LayerReadError, match="holds 2 layers"):
        read_vector(tmp_path / "two.gpkg")


def test_where_and_bad_where(tmp_path, frame):
    write_vector(frame, tmp_path / "w.gpkg", layer="w")
    assert len(read_vector(tmp_path / "w.gpkg", where="n = 2").frame) == 1
    with pytest.raises(LayerReadError, match="with where"):
        read_vector(tmp_path / "w.gpkg", where="no_such_field = 1")
    frame.to_parquet(tmp_path / "w.parquet")
    got = read_vector(tmp_path / "w.parquet", where="名称 = '通江县'").frame
    assert list(got["BSM"]) == ["A3"]


def test_no_overwrite_unless_asked(tmp_path, frame):
    path = write_vector(frame, tmp_path / "o.shp")
    with pytest.raises(OutputExistsError, match=r"o\.shp: exists"):
        write_vector(frame, path)
    write_vector(frame.iloc[:2], path, overwrite=True)
    assert len(read_vector(path).frame) == 2


def test_failed_write_leaves_nothing(tmp_path, frame):
    target = tmp_path / "partial.gpkg"
    with pytest.raises(RuntimeError), atomic_output(target) as staging:
        pyogrio.write_dataframe(frame, staging)
        raise RuntimeError("crash mid-run")
    assert list(tmp_path.iterdir()) == []
    # an existing output survives a failed replacement
    write_vector(frame, target)
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_output(target, overwrite=True) as staging:
        staging.write_bytes(b"half")
        raise RuntimeError("crash")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["partial.gpkg"]


def test_csv_with_wkt(tmp_path, frame):
    path = write_vector(frame, tmp_path / "c.csv")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("WKT,")
    assert "POLYGON ((" in text and "巴州区" in text
