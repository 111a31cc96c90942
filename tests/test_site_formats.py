"""Site formats: 界址点坐标 text files, point tables, DXF and KMZ, read from files written here."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from engine_cases import EPSG, box, write_project
from geoplan.geo.boundary_points import BoundaryPointsError, read_boundary_points
from geoplan.geo.boundary_points_write import boundary_points_text, write_boundary_points
from geoplan.geo.cad_read import read_dxf_polygons
from geoplan.geo.point_tables import PointTableError, read_point_table
from geoplan.geo.survey_crs import survey_crs

GEOD = Geod(ellps="GRS80")
GEOPLAN = Path(sys.executable).with_name("geoplan")


@pytest.fixture
def site_project(tmp_path) -> str:
    """Farmland and a red line near the local origin of ``engine_cases``."""
    return str(
        write_project(
            tmp_path,
            {
                "ecological_redline": [box(0, 0, 1000, 1000)],
                "permanent_farmland": [box(-1000, 0, -500, 500)],
                "townships": gpd.GeoDataFrame(
                    {"XZMC": ["甲镇"], "XZQMC": ["巴州区"], "ZTGNQ": ["城镇化地区"]},
                    geometry=[box(-5000, -5000, 5000, 5000)],
                    crs=EPSG,
                ),
            },
        )
    )


# Two parcels in 3° zone 36 (CM 108°E), Y with the zone number, 精度 0.01 m:
# 一号地块 a 400 m × 300 m rectangle with a 100 m × 50 m hole (圈号 2),
# 二号地块 a triangle. Points in the order surveyors list them, closed by J1.
TWO_PARCELS = """\
[属性描述]
格式版本号=1.01
数据产生单位=巴中市某勘测院
数据产生日期=2026-11-30
坐标系=2000国家大地坐标系
几度分带=3
投影类型=高斯克吕格
计量单位=米
带号=36
精度=0.01
转换参数=,,,,,,
[地块坐标]
10,11.5000,DK-01,一号地块,面,,工业用地,0601,@
J1,1,3530000.00,36420000.00
J2,1,3530000.00,36420400.00
J3,1,3530300.00,36420400.00
J4,1,3530300.00,36420000.00
J1,1,3530000.00,36420000.00
J5,2,3530100.00,36420100.00
J6,2,3530150.00,36420100.00
J7,2,3530150.00,36420200.00
J8,2,3530100.00,36420200.00
J5,2,3530100.00,36420100.00
4,2.0000,DK-02,二号地块,面,,仓储用地,,@
J1,1,3531000.00,36421000.00
J2,1,3531000.00,36421200.00
J3,1,3531200.00,36421000.00
J1,1,3531000.00,36421000.00
"""


def _write(path, text: str, encoding: str = "gbk") -> str:
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return str(path)


def _geod_area(geom: shapely.Geometry, epsg: int) -> float:
    to_lonlat = Transformer.from_crs(epsg, 4490, always_xy=True)
    lonlat = shapely.transform(geom, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(lonlat, 0.0005))[0])


def test_two_parcels_with_a_hole_read_back_to_their_polygons(tmp_path):
    read = read_boundary_points(_write(tmp_path / "用地红线.txt", TWO_PARCELS))
    assert read.encoding == "gb18030"
    assert read.crs.to_epsg() == 4524  # CGCS2000 3° zone 36, zone-prefixed eastings
    assert read.crs.name == "CGCS2000 / 3-degree Gauss-Kruger zone 36"
    first, second = read.parcels
    assert first.attributes["地块编号"] == "DK-01" and first.name == "一号地块"
    assert first.attributes["地块用途"] == "工业用地"
    assert len(first.geometry.interiors) == 1
    expected = shapely.Polygon(
        [(36420000, 3530000), (36420400, 3530000), (36420400, 3530300), (36420000, 3530300)],
        [[(36420100, 3530100), (36420100, 3530150), (36420200, 3530150), (36420200, 3530100)]],
    )
    assert first.geometry.equals(expected)
    # the header's 地块面积 (公顷) within its rounding and 精度 × perimeter
    for parcel in read.parcels:
        stated_m2 = float(parcel.attributes["地块面积"]) * 10_000
        assert parcel.geometry.area == pytest.approx(
            stated_m2, abs=0.5 + parcel.geometry.length * 0.01
        )
        # ellipsoidal area: GK plane area is larger by the scale factor (< 0.1 % here)
        assert _geod_area(parcel.geometry, 4524) == pytest.approx(parcel.geometry.area, rel=1e-3)
    assert second.geometry.area == pytest.approx(20_000.0)
    assert read.notes and "CGCS2000" in read.notes[0]


def test_stated_area_off_is_noted(tmp_path, caplog):
    text = TWO_PARCELS.replace("4,2.0000,DK-02", "4,2.5000,DK-02")
    read = read_boundary_points(_write(tmp_path / "off.txt", text))
    assert any("line 24" in n and "2.5000" in n and "2.0000" in n for n in read.notes)


def test_eastings_without_the_zone_take_the_zone_from_the_header(tmp_path):
    text = TWO_PARCELS.replace(",3642", ",42")
    read = read_boundary_points(_write(tmp_path / "plain.txt", text, "utf-8"))
    assert read.encoding == "utf-8"
    assert read.crs.to_epsg() == 4545  # CM 108°E
    assert read.parcels[1].geometry.area == pytest.approx(20_000.0)


def _swapped(text: str) -> str:
    lines = []
    for line in text.splitlines():
        parts = line.split(",")
        if len(parts) == 4 and parts[0].startswith("J"):
            parts[2], parts[3] = parts[3], parts[2]
        lines.append(",".join(parts))
    return "\n".join(lines) + "\n"


def test_swapped_axes_are_detected(tmp_path):
    path = _write(tmp_path / "swapped.txt", _swapped(TWO_PARCELS))
    with pytest.raises(BoundaryPointsError, match="X and Y are swapped") as info:
        read_boundary_points(path)
    assert "swapped.txt" in str(info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("10,11.5000", "11,11.5000"), "line 13: 界址点数 11 but 10 point lines follow"),
        (
            ("J3,1,3530300.00,36420400.00", "J3,1,3530300.00,三六"),
            "line 16: Y '三六' is not a number",
        ),
        (("J2,1,3531000.00,36421200.00", "J2,1,3531000.00"), "line 26: a point line is"),
        (("[地块坐标]", "[坐标]"), "no [地块坐标] section"),
        (("DK-02,二号地块,面", "DK-02,二号地块,线"), "line 24: 图形属性 线"),
        (("J7,2,3530150.00,36420200.00", "J7,2,3530150.00,36420900.00"), "line 13: the parcel"),
    ],
)
def test_bad_files_name_the_file_and_line(tmp_path, change, message):
    path = _write(tmp_path / "bad.txt", TWO_PARCELS.replace(*change))
    with pytest.raises(BoundaryPointsError) as info:
        read_boundary_points(path)
    assert str(info.value).startswith(path)
    assert message in str(info.value)


def test_written_file_is_gbk_crlf_and_reads_back(tmp_path):
    read = read_boundary_points(_write(tmp_path / "in.txt", TWO_PARCELS))
    parcels = [(p.geometry, p.attributes) for p in read.parcels]
    out = tmp_path / "out.txt"
    write_boundary_points(out, parcels, read.crs, precision_m=0.01)
    data = out.read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    text = data.decode("gbk")
    assert "[属性描述]" in text and "带号=36" in text and "精度=0.01" in text
    assert "10,11.5000,DK-01,一号地块,面,,工业用地,,@" in text
    again = read_boundary_points(out)
    assert again.crs == read.crs
    for a, b in zip(read.parcels, again.parcels, strict=True):
        assert a.geometry.normalize().equals_exact(b.geometry.normalize(), 0.005)
        assert a.attributes["地块名称"] == b.attributes["地块名称"]


def test_writer_keeps_values_from_breaking_the_line():
    geom = shapely.box(36_420_000, 3_530_000, 36_420_100, 3_530_100)
    text = boundary_points_text([(geom, {"地块名称": "甲,乙@\n丙"})], CRS.from_epsg(4524))
    parcel_line = text.split("\r\n")[12]
    assert parcel_line.endswith(",@") and parcel_line.count(",") == 8
    assert "甲 乙 丙" in parcel_line


def test_epsg_codes_of_the_zones_are_the_named_ones():
    x, y = np.array([3_530_000.0]), np.array([35_420_000.0])
    assert survey_crs(x, y, source="t").name == "CGCS2000 / 3-degree Gauss-Kruger zone 35"
    plain = survey_crs(x, y - 35e6, source="t", zone="35")
    assert plain.name == "CGCS2000 / 3-degree Gauss-Kruger CM 105E"
    xian = survey_crs(x, y, source="t", datum="1980西安坐标系")
    assert xian.name == "Xian 1980 / 3-degree Gauss-Kruger zone 35"
    six = survey_crs(x, y - 17e6, source="t", band="6")
    assert six.name == "CGCS2000 / Gauss-Kruger zone 18"


CSV = """点号,X坐标,Y坐标,圈号,地块编号
J1,3530000.00,36420000.00,1,A
J2,3530000.00,36420400.00,1,A
J3,3530300.00,36420400.00,1,A
J4,3530300.00,36420000.00,1,A
J5,3530100.00,36420100.00,2,A
J6,3530150.00,36420100.00,2,A
J7,3530150.00,36420200.00,2,A
J8,3530100.00,36420200.00,2,A
K1,3531000.00,36421000.00,1,B
K2,3531000.00,36421200.00,1,B
K3,3531200.00,36421000.00,1,B
"""


def test_csv_point_list_in_gbk(tmp_path):
    crs, parcels = read_point_table(_write(tmp_path / "points.csv", CSV))
    assert crs.to_epsg() == 4524
    assert [p.attributes["地块名称"] for p in parcels] == ["A", "B"]
    assert parcels[0].geometry.area == pytest.approx(400 * 300 - 100 * 50)
    assert parcels[1].geometry.area == pytest.approx(20_000.0)


def test_xlsx_point_list_without_zone_prefix(tmp_path):
    import pandas as pd

    rows = [line.split(",") for line in CSV.splitlines()]
    frame = pd.DataFrame(rows[1:], columns=["点号", "X", "Y", "圈号", "地块"])
    frame["Y"] = (frame["Y"].astype(float) - 36e6).round(2)
    path = tmp_path / "points.xlsx"
    frame.to_excel(path, index=False)
    with pytest.raises(PointTableError, match="no zone number"):
        read_point_table(path)
    crs, parcels = read_point_table(path, zone="36")
    assert crs.to_epsg() == 4545
    assert sum(p.geometry.area for p in parcels) == pytest.approx(115_000 + 20_000)


def test_swapped_csv_is_detected(tmp_path):
    text = CSV.replace("点号,X坐标,Y坐标", "点号,Y坐标,X坐标")
    with pytest.raises(PointTableError, match="swapped"):
        read_point_table(_write(tmp_path / "swapped.csv", text))


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_dxf_made_with_gdal_gives_its_closed_polylines(tmp_path):
    path = tmp_path / "site.dxf"
    ring = shapely.box(420_000, 3_530_000, 420_400, 3_530_300)
    frame = gpd.GeoDataFrame(
        {"Layer": ["红线", "标注"]},
        geometry=[ring.exterior, shapely.LineString([(0, 0), (10, 10)])],
    )
    pyogrio.write_dataframe(frame, path, driver="DXF")
    read = read_dxf_polygons(path)
    assert len(read) == 1
    assert read.geometry.iloc[0].area == pytest.approx(ring.area)


def test_cli_reads_kmz_and_txt_and_refuses_a_swapped_file(tmp_path, site_project):
    # a KMZ from a survey app: one placemark polygon in WGS 84
    site = box(-800, -200, 1400, 400)
    kml = tmp_path / "doc.kml"
    gpd.GeoDataFrame({"Name": ["园区"]}, geometry=[site], crs=4545).to_crs(4326).to_file(
        kml, driver="KML"
    )
    kmz = tmp_path / "site.kmz"
    with zipfile.ZipFile(kmz, "w") as archive:
        archive.write(kml, "doc.kml")
    cli = [str(GEOPLAN), "site", site_project]
    done = subprocess.run([*cli, str(kmz), "--json"], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # on farmland and in the red line
    assert '"status": "fail"' in done.stdout
    swapped = tmp_path / "swapped.txt"
    _write(swapped, _swapped(TWO_PARCELS))
    done = subprocess.run([*cli, str(swapped)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith(f"geoplan: error: {swapped}: X and Y are swapped")
    assert len(done.stderr.strip().splitlines()) == 1


def test_coords_writes_chosen_findings_as_parcels(tmp_path):
    pieces = [box(0, 0, 300, 200), box(1000, 0, 1100, 100), box(2000, 0, 2050, 50)]
    conflicts = gpd.GeoDataFrame(
        {
            "conflict_id": ["c-1", "c-2", "c-3"],
            "rule_id": ["parks-outside-farmland", "parks-outside-farmland", "parks-in-urban"],
            "rule_title": ["园区占用永久基本农田"] * 2 + ["园区超出城镇开发边界"],
            "left_name": ["甲园区", "乙园区", "丙园区"],
            "right_name": ["", "", ""],
            "right_id": ["NT1", "NT2", ""],
        },
        geometry=pieces,
        crs=EPSG,
    )
    source = tmp_path / "conflicts.gpkg"
    conflicts.to_file(source, layer="conflicts")
    out = tmp_path / "findings.txt"
    done = subprocess.run(
        [str(GEOPLAN), "coords", source, out, "--rule", "parks-outside-farmland"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    read = read_boundary_points(out)
    assert read.crs.to_epsg() == 4524  # zone 36 with the zone number, of EPSG:4545 data
    assert [p.attributes["地块编号"] for p in read.parcels] == ["c-1", "c-2"]
    assert read.parcels[0].attributes["地块名称"] == "园区占用永久基本农田 甲园区 / NT1"
    back = Transformer.from_crs(4524, EPSG, always_xy=True)
    for parcel, piece in zip(read.parcels, pieces, strict=False):
        xy = shapely.get_coordinates(parcel.geometry)
        moved = shapely.Polygon(np.column_stack(back.transform(xy[:, 0], xy[:, 1])))
        assert moved.symmetric_difference(piece).area < 1.0
    done = subprocess.run(
        [str(GEOPLAN), "coords", source, out, "--id", "c-9"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"geoplan: error: {source}: no feature with id c-9"


def test_site_export_coords_round_trips(tmp_path, site_project):
    out = tmp_path / "site.txt"
    wkt = box(-2000, -2000, -1500, -1500).wkt
    done = subprocess.run(
        [
            str(GEOPLAN),
            "site",
            site_project,
            "--wkt",
            wkt,
            "--src-crs",
            "EPSG:4545",
            "--export-coords",
            out,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (parcel,) = read_boundary_points(out).parcels
    assert parcel.geometry.area == pytest.approx(500 * 500, rel=1e-6)  # same zone: same plane
