"""Vector I/O through GDAL: every format round-trips, encodings are decided from bytes."""

import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from conftest import LONLAT_BOXES, NAMES, lonlat_to, write_gbk_shapefile_without_cpg
from geoplan.geo.errors import EncodingError, LayerReadError, OutputExistsError
from geoplan.geo.geoparquet import read_row_groups_in_box
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


BAZHONG_GPKG = Path(__file__).parents[1] / "layers" / "bazhong" / "data" / "bazhong.gpkg"


@pytest.mark.parametrize("layer", ["XZQ_XZ", "HL", "YJJBNT"])
@pytest.mark.parametrize("fmt", ["gpkg", "shp", "parquet"])
def test_bbox_reads_exactly_the_features_meeting_the_box(tmp_path, layer, fmt):
    """``bbox`` gives the features whose geometry intersects the box, whole, ids kept."""
    whole = pyogrio.read_dataframe(BAZHONG_GPKG, layer=layer, fid_as_index=True)
    path = BAZHONG_GPKG
    if fmt == "shp":
        path = tmp_path / f"{layer}.shp"
        whole.to_file(path, layer=layer, encoding="utf-8")
        whole = pyogrio.read_dataframe(path, fid_as_index=True)
    elif fmt == "parquet":
        path = tmp_path / f"{layer}.parquet"
        whole.to_parquet(path)  # no covering column: read whole, then filtered
        whole = gpd.read_parquet(path).reset_index(drop=True)  # ids are row numbers
    xmin, ymin, xmax, ymax = whole.total_bounds
    corner = (xmin + 0.37 * (xmax - xmin), ymin + 0.2 * (ymax - ymin))
    box = (*corner, corner[0] + 0.19 * (xmax - xmin), corner[1] + 0.23 * (ymax - ymin))
    shape = shapely.box(*box)
    expected = {fid for fid, g in whole.geometry.items() if g is not None and g.intersects(shape)}
    envelopes = set(whole.index[whole.geometry.envelope.intersects(shape)])
    got = read_vector(path, layer if fmt == "gpkg" else None, bbox=box).frame
    assert set(got.index) == expected and 0 < len(expected) < len(whole)
    if layer != "YJJBNT":  # irregular shapes: some envelopes meet the box, their geometry not
        assert envelopes > expected
    # whole features, not clipped
    assert shapely.equals_exact(got.geometry.values, whole.geometry.loc[got.index].values).all()


def test_bbox_with_where_and_bad_box(tmp_path):
    whole = pyogrio.read_dataframe(BAZHONG_GPKG, layer="XZQ_XZ", fid_as_index=True)
    box = (380000.0, 3500000.0, 420000.0, 3560000.0)
    first = whole.columns[0]
    value = whole[first].iloc[0]
    meets = whole.geometry.intersects(shapely.box(*box))
    expected = set(whole.index[meets & (whole[first] != value)])
    got = read_vector(BAZHONG_GPKG, "XZQ_XZ", where=f"{first} <> '{value}'", bbox=box).frame
    assert set(got.index) == expected and expected
    for bad in [(1.0, 2.0, 0.0, 3.0), (0.0, 0.0, float("nan"), 1.0), (1.0, 2.0)]:
        with pytest.raises(LayerReadError, match="bbox"):
            read_vector(BAZHONG_GPKG, "XZQ_XZ", bbox=bad)


def test_bbox_skips_geoparquet_row_groups_and_keeps_row_numbers(tmp_path):
    farm = pyogrio.read_dataframe(BAZHONG_GPKG, layer="YJJBNT")
    farm = farm.iloc[np.argsort(farm.geometry.centroid.x.to_numpy(), kind="stable")]
    path = tmp_path / "farm.parquet"
    farm.to_parquet(path, write_covering_bbox=True, row_group_size=1000)
    whole = gpd.read_parquet(path).reset_index(drop=True)  # ids are row numbers
    xmin, ymin, xmax, ymax = whole.total_bounds
    box = (xmin + 0.4 * (xmax - xmin), ymin, xmin + 0.5 * (xmax - xmin), ymax)
    expected = whole[whole.geometry.intersects(shapely.box(*box))]
    read = read_row_groups_in_box(path, box)
    assert len(expected) < len(read) < len(whole) / 2  # most row groups were skipped
    got = read_vector(path, bbox=box).frame
    assert list(got.index) == list(expected.index)
    assert list(got.columns) == list(whole.columns) and got.crs == whole.crs
    assert got.drop(columns="geometry").equals(expected.drop(columns="geometry"))
    assert shapely.equals_exact(got.geometry.values, expected.geometry.values).all()
