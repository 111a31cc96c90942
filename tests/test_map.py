"""The offline map without a browser: GCJ-02, display geometry, the HTML, `geoplan map`."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod, Transformer

from engine_cases import EPSG, X0, Y0, box, write_project
from geoplan.analysis.cli import cli
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.maps.basemaps import BasemapError, basemap
from geoplan.maps.display import DisplayOptions, display_frame, pixel_size_m, to_display_crs
from geoplan.maps.gcj02 import wgs84_to_gcj02

BAZHONG_GPKG = PROJECT_FILE.parent / "data" / "bazhong.gpkg"


@pytest.mark.parametrize(
    ("lon", "lat", "gcj_lon", "gcj_lat"),
    [
        # Published test vectors of independent implementations
        # (coordtransform / hutool CoordinateUtil, geotool, geoToolbox).
        (116.404, 39.915, 116.41024449916938, 39.91640428150164),
        (121.0917077, 30.6107779, 121.09626935575027, 30.608604331756705),
        (116.0, 40.0, 116.006141221789, 40.001213650174),
    ],
)
def test_gcj02_matches_published_reference_points(lon, lat, gcj_lon, gcj_lat):
    x, y = wgs84_to_gcj02(lon, lat)
    assert float(x) == pytest.approx(gcj_lon, abs=1e-6)
    assert float(y) == pytest.approx(gcj_lat, abs=1e-6)


def test_gcj02_is_the_identity_outside_china():
    x, y = wgs84_to_gcj02([2.35, 139.7], [48.85, 35.7])  # Paris; Tokyo is inside the box
    assert float(x[0]) == 2.35 and float(y[0]) == 48.85


def test_without_the_shift_overlays_sit_440_to_510_m_north_west_on_gcj02_tiles():
    counties = gpd.read_file(BAZHONG_GPKG, layer="XZQ_XJ").to_crs(4326)
    xy = shapely.get_coordinates(counties.geometry.values)
    gx, gy = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    azimuth, _, distance = Geod(ellps="WGS84").inv(gx, gy, xy[:, 0], xy[:, 1])
    assert 440 < distance.min() and distance.max() < 510
    assert ((-70 < azimuth) & (azimuth < -50)).all()  # north-west


def _squares(n: int, side: float = 300.0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    x = X0 + rng.uniform(0, 40_000, n)
    y = Y0 + rng.uniform(0, 40_000, n)
    geoms = shapely.box(x, y, x + side, y + side)
    return gpd.GeoDataFrame(
        {"id": [f"P{i}" for i in range(n)], "name": [f"图斑{i}" for i in range(n)]},
        geometry=geoms,
        crs=EPSG,
    )


def _back(frame: gpd.GeoDataFrame) -> np.ndarray:
    return frame.to_crs(EPSG).geometry.values


def test_dense_layers_dissolve_by_cell_and_conflict_features_keep_their_detail():
    frame = _squares(3000, side=100.0)
    frame.loc[1, "geometry"] = shapely.affinity.translate(frame.geometry[0], 50, 50)  # overlap
    frame.loc[2, "geometry"] = frame.geometry[0].buffer(-20)  # inside another
    frame.geometry = shapely.segmentize(frame.geometry.values, 10.0)  # 41 vertices each
    tree = shapely.STRtree(frame.geometry.values)
    i, _ = tree.query(frame.geometry.values, predicate="intersects")
    alone = np.bincount(i, minlength=len(frame)) == 1
    keep = frame["id"][alone].iloc[3:5].tolist()
    options = DisplayOptions(detail_zoom=12, dissolve_above=2000, dissolve_cell_m=10_000)
    shown = display_frame(frame, fields=["id"], options=options, keep_ids=keep, latitude=31.9)

    assert 1 <= shown["detailed"].sum() <= 2  # the cells holding the kept features
    assert shown["features"].sum() == 3000
    assert len(shown) <= 25  # 40.1 km square in 10 km cells
    geoms = _back(shown)
    expected = shapely.union_all(frame.geometry.values)
    assert shapely.area(shapely.union_all(geoms)) == pytest.approx(expected.area, rel=1e-3)
    parts = shapely.get_parts(geoms)
    for geom in geoms:
        # No two parts of one path overlap: an SVG path would fill them as holes.
        pieces = shapely.get_parts(geom)
        assert shapely.area(pieces).sum() == pytest.approx(geom.area, rel=1e-6)
    # Simplified squares keep their 4 corners; the kept ones all 41 vertices.
    counts = shapely.get_num_coordinates(parts)
    assert (counts == 5).sum() >= alone.sum() - len(keep)
    for ident in keep:
        original = frame.set_index("id").geometry[ident]
        match = parts[shapely.hausdorff_distance(parts, original) < 1.5]
        assert len(match) == 1 and shapely.get_num_coordinates(match[0]) == 41


def test_small_layers_keep_conflict_features_apart_and_finer():
    frame = _squares(50)
    options = DisplayOptions(detail_zoom=15)
    shown = display_frame(frame, fields=["id"], options=options, keep_ids={"P7"}, latitude=31.9)
    assert shown.loc[shown["detailed"], "id"].tolist() == ["P7"]
    detailed = shapely.get_coordinates(shown.geometry[shown["detailed"]].values)
    plain = shapely.get_coordinates(shown.geometry[~shown["detailed"]].values)
    assert np.array_equal(detailed, np.round(detailed, 6))
    assert not np.array_equal(detailed, np.round(detailed, 5))
    assert np.array_equal(plain, np.round(plain, 5))


def test_simplified_outlines_stay_within_half_a_pixel_at_the_detail_zoom():
    townships = gpd.read_file(BAZHONG_GPKG, layer="XZQ_XZ").rename(columns={"XZMC": "name"})
    options = DisplayOptions(detail_zoom=15)
    shown = display_frame(townships, fields=["name"], options=options, coverage=True, latitude=31.9)
    assert len(shown) == len(townships)
    half_pixel = pixel_size_m(15, 31.9) / 2
    rounding = 0.5 * 10**-5 * 111_320 * np.sqrt(2)  # 5 decimals of a degree
    distance = shapely.hausdorff_distance(_back(shown), townships.geometry.values)
    assert distance.max() <= half_pixel + rounding + 0.01
    simplified = shapely.get_num_coordinates(_back(shown)).sum()
    assert simplified < shapely.get_num_coordinates(townships.geometry.values).sum()


def test_overlays_shift_into_gcj02_only_for_a_gcj02_basemap():
    frame = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=EPSG)
    plain = to_display_crs(frame, DisplayOptions(detail_zoom=22), latitude=31.9)
    shifted = to_display_crs(frame, DisplayOptions(detail_zoom=22, gcj02=True), latitude=31.9)
    a = shapely.get_coordinates(plain.geometry.values)
    b = shapely.get_coordinates(shifted.geometry.values)
    reference = np.column_stack(wgs84_to_gcj02(a[:, 0], a[:, 1]))
    assert np.abs(b - reference).max() < 1e-6
    assert np.abs(a - frame.to_crs(4326).get_coordinates().to_numpy()).max() < 1e-6
    assert basemap("amap").gcj02 and not basemap("osm").gcj02


class _Loads(HTMLParser):
    """Every URL the page would load: script/img/iframe src, link href, CSS url()/@import."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "embed") and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.urls += re.findall(r"url\(\s*['\"]?([^)'\"]+)", data)
            self.urls += re.findall(r"@import\s+['\"]([^'\"]+)", data)


def _loads(page: str) -> list[str]:
    parser = _Loads()
    parser.feed(page)
    return parser.urls


def test_demo_map_loads_nothing_from_the_network(demo_out):
    page = (demo_out / "map.html").read_text(encoding="utf-8")
    urls = _loads(page)
    assert urls, "the inlined CSS should at least hold data: images"
    # data: URIs and in-page fragments (Leaflet's old-IE "#default#VML") load nothing.
    outside = [u for u in urls if not u.startswith(("data:", "#"))]
    assert outside == []
    assert sum(u.startswith("data:image/png") for u in urls) >= 2  # the layer-control icons
    assert "cdn.jsdelivr.net" not in page and "code.jquery.com" not in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)
    assert "tile.openstreetmap.org" not in page and "{z}" not in page
    assert "leaflet-control-layers" in page and "L.control.scale" in page


def _overlay_names(page: str) -> list[str]:
    """Names of the layer control's overlays, from its JSON slot (maps/map_controls.py)."""
    slot = re.search(r'<script type="application/json" id="layer_control_\w+_data">([^<]*)<', page)
    return [layer["name"] for layer in json.loads(slot[1])["layers"] if layer["overlay"]]


def _map(tmp_path, *args) -> tuple[int, str, str]:
    out = tmp_path / "map.html"
    result = CliRunner().invoke(
        cli, ["-q", "map", str(PROJECT_FILE), "--out", str(out), *args], catch_exceptions=False
    )
    page = out.read_text(encoding="utf-8") if out.exists() else ""
    return result.exit_code, result.output, page


def test_map_command_draws_layers_and_a_chosen_basemap(tmp_path):
    code, output, page = _map(tmp_path, "--basemap", "osm")
    assert code == 0, output
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in page
    names = _overlay_names(page)
    assert "乡镇名称" in names and "生态保护红线（5）" in names
    assert not any(name.startswith("冲突") for name in names)


def test_map_command_with_tianditu_needs_a_key_and_writes_nothing(tmp_path):
    code, output, page = _map(tmp_path, "--basemap", "tianditu")
    assert code == 2 and "tianditu" in output and "key" in output
    assert page == "" and list(tmp_path.iterdir()) == []
    with pytest.raises(BasemapError, match="XYZ URL template"):
        basemap("https://tiles.example/{z}/{x}.png")


def test_map_command_draws_the_conflicts_of_a_check(tmp_path, demo_out):
    code, output, page = _map(tmp_path, "--conflicts", str(demo_out / "conflicts.gpkg"))
    assert code == 0, output
    conflicts = gpd.read_file(demo_out / "conflicts.gpkg", layer="conflicts")
    names = [name for name in _overlay_names(page) if name.startswith("冲突：")]
    counts = {n.split("：")[1].split("（")[0]: int(re.search(r"（(\d+) 处）", n)[1]) for n in names}
    expected = conflicts["severity"].map(
        {"prohibited": "禁止", "restricted": "限制", "notice": "提示"}
    )
    assert counts == expected.value_counts().to_dict()


def test_map_command_rejects_a_file_that_is_not_a_conflicts_table(tmp_path):
    other = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"x": [1]}, geometry=[box(0, 0, 1, 1)], crs=EPSG).to_file(other)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(
        cli,
        ["map", str(PROJECT_FILE), "--out", str(out / "m.html"), "--conflicts", str(other)],
    )
    assert result.exit_code == 2
    assert "other.gpkg" in result.output and "missing columns" in result.output
    assert "rule_id" in result.output
    assert list(out.iterdir()) == []


def test_map_command_refuses_to_overwrite(tmp_path):
    project = write_project(tmp_path, {"ecological_redline": [box(0, 0, 100, 100)]})
    out = tmp_path / "m.html"
    out.write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(cli, ["map", str(project), "--out", str(out)])
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert out.read_text(encoding="utf-8") == "keep me"
    result = CliRunner().invoke(cli, ["map", str(project), "--out", str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "生态保护红线（1）" in _overlay_names(out.read_text(encoding="utf-8"))


def test_region_bounds_prefer_the_counties():
    from geoplan.layers.region import region_bounds

    county = gpd.GeoDataFrame(geometry=[shapely.box(400_000, 3_500_000, 450_000, 3_560_000)])
    farther = gpd.GeoDataFrame(geometry=[shapely.box(300_000, 3_400_000, 310_000, 3_410_000)])
    county, farther = county.set_crs(4545), farther.set_crs(4545)
    assert region_bounds({"counties": county, "parks": farther}) == (
        400_000.0,
        3_500_000.0,
        450_000.0,
        3_560_000.0,
    )
    assert region_bounds({"counties": county.iloc[:0], "parks": farther})[0] == 300_000.0
    west, south, east, north = region_bounds({"counties": county}, "EPSG:4490")
    lon, lat = Transformer.from_crs(4545, 4490, always_xy=True).transform(
        [400_000, 450_000, 400_000, 450_000], [3_500_000, 3_500_000, 3_560_000, 3_560_000]
    )
    # the corners' extremes bound the reprojected box (its edges bulge between them)
    assert west <= min(lon) and east >= max(lon) and south <= min(lat) and north >= max(lat)
    assert east - west == pytest.approx(max(lon) - min(lon), rel=1e-3)
    with pytest.raises(ValueError, match="no layer has a feature"):
        region_bounds({"parks": farther.iloc[:0]})


def test_the_readout_zone_is_read_from_the_working_crs():
    from pyproj import CRS

    from geoplan.maps.map_tools import gauss_kruger_zone

    assert gauss_kruger_zone(CRS(4545)) == {
        "name": "CGCS2000 / 3-degree Gauss-Kruger CM 108E",
        "epsg": 4545,
        "lon0": 108.0,
        "k0": 1.0,
        "x0": 500000.0,
        "y0": 0.0,
    }
    assert gauss_kruger_zone(CRS(4523))["x0"] == 35_500_000.0  # zone number in the easting
    assert gauss_kruger_zone(CRS(32648)) is None  # UTM on WGS 84: another ellipsoid
    assert gauss_kruger_zone(CRS(3857)) is None


def test_hillshade_is_clear_outside_the_region_and_density_is_off_and_labelled_in_m2_per_km2():
    import base64
    import io

    from PIL import Image
    from rasterio.transform import from_origin

    from geoplan.maps.images import density_layer, hillshade_layer

    transform = from_origin(X0, Y0 + 20_000, 100, 100)
    shade = np.full((200, 200), 0.7)
    region = shapely.Point(X0 + 10_000, Y0 + 10_000).buffer(6_000)
    image = hillshade_layer(shade, transform, EPSG, name="地形晕渲", region=region)
    rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(image.url.split(",")[1]))))
    (south, west), (north, east) = image.bounds
    rows, cols = rgba.shape[:2]
    lon = west + (np.arange(cols) + 0.5) / cols * (east - west)
    # Web Mercator rows: equal steps in y, not in latitude
    merc = Transformer.from_crs(4326, 3857, always_xy=True)
    _, y0 = merc.transform(west, north)
    _, y1 = merc.transform(west, south)
    y = y0 + (np.arange(rows) + 0.5) / rows * (y1 - y0)
    _, lat = merc.transform(np.full(rows, west), y, direction="INVERSE")
    outline = gpd.GeoSeries([region], crs=EPSG).to_crs(4326)[0]
    lon_grid, lat_grid = np.meshgrid(lon, lat)
    inside = shapely.contains_xy(outline.buffer(-0.002), lon_grid, lat_grid)
    outside = ~shapely.contains_xy(outline.buffer(0.002), lon_grid, lat_grid)
    assert (rgba[..., 3][inside] > 0).all() and (rgba[..., 3][outside] == 0).all()
    assert image.show is False

    density = density_layer(
        np.array([[0.0, 5e4], [1e6, 300.0]]),
        from_origin(X0, Y0 + 2000, 1000, 1000),
        EPSG,
        name="冲突密度",
    )
    assert density.show is False and 0.3 <= density.opacity <= 0.7
    assert [row[0] for row in density.legend] == [
        "100 m²/km²",
        "1,000 m²/km²",
        "10,000 m²/km²",
        "100,000 m²/km²",
        "1,000,000 m²/km²",
    ]
    assert "平方米" in density.legend_heading and "%" not in density.legend_heading
