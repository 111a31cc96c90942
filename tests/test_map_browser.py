"""The map in a real headless Chromium with the network off."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
import shapely.geometry
from click.testing import CliRunner
from pyproj import Transformer

from browser import click_at, control_labels, map_variable, open_page, overlays
from engine_cases import EPSG, box, rule, write_project
from geoplan.analysis.cli import cli
from geoplan.layers.catalog import KINDS
from geoplan.layers.vocabulary import SEVERITY_TITLES
from geoplan.maps.gcj02 import wgs84_to_gcj02

pytestmark = pytest.mark.browser


def _drawn_conflict_paths(browser) -> int:
    return browser.execute_script(
        """
        const key = Object.keys(window).find(k => k.startsWith('layer_control_')
            && k.endsWith('_layers') && window[k].overlays);
        let n = 0;
        for (const [name, group] of Object.entries(window[key].overlays)) {
            if (!name.startsWith('冲突：')) continue;
            for (const layer of group.getLayers()) {
                const path = layer._path;
                if (path && document.body.contains(path) && path.getAttribute('d').length > 8) n++;
            }
        }
        return n;
        """
    )


def _conflict_shapes(browser) -> dict[str, shapely.Geometry]:
    """The conflicts as Leaflet holds them, by 冲突编号."""
    features = browser.execute_script(
        """
        const key = Object.keys(window).find(k => k.startsWith('layer_control_')
            && k.endsWith('_layers') && window[k].overlays);
        const out = [];
        for (const [name, group] of Object.entries(window[key].overlays)) {
            if (name.startsWith('冲突：')) out.push(...group.toGeoJSON(6).features);
        }
        return out;
        """
    )
    return {f["properties"]["冲突编号"]: shapely.geometry.shape(f["geometry"]) for f in features}


def _assert_geometries_arrive_intact(browser, conflicts: gpd.GeoDataFrame) -> None:
    """The conflicts as Leaflet holds them: at the first view within a pixel
    of conflicts.gpkg (thinned to half a pixel), zoomed in equal to it to 6
    decimals of a degree."""
    expected = conflicts.to_crs(4326).set_index("conflict_id").geometry
    ids = list(expected.index)
    name = map_variable(browser)
    zoom = browser.execute_script("return window[arguments[0]].getZoom();", name)
    pixel = 360 / (256 * 2**zoom)  # degrees of longitude
    thinned = _conflict_shapes(browser)
    assert set(thinned) == set(expected.index)
    distance = shapely.hausdorff_distance([thinned[i] for i in ids], expected[ids].to_numpy())
    assert distance.max() < pixel
    assert sum(len(shapely.get_coordinates(g)) for g in thinned.values()) < len(
        shapely.get_coordinates(expected.to_numpy())
    )
    browser.execute_script(
        "window[arguments[0]].setZoom(arguments[1] + 1, {animate: false});", name, zoom
    )
    drawn = _conflict_shapes(browser)
    distance = shapely.hausdorff_distance([drawn[i] for i in ids], expected[ids].to_numpy())
    assert distance.max() < 2e-6  # degrees: ≈ 0.2 m, the rounding to 6 decimals


def test_demo_map_works_offline_with_every_layer_and_a_popup(browser, demo_out, tmp_path):
    load = open_page(browser, demo_out / "map.html")
    assert load.requests == []
    assert load.failed == []
    assert load.console_errors == []

    labels = control_labels(browser)
    for kind, geometry in pyogrio.list_layers(demo_out / "layers.gpkg"):
        if geometry is None:  # layer_styles
            continue
        count = pyogrio.read_info(demo_out / "layers.gpkg", layer=kind)["features"]
        assert f"{KINDS[kind].title}（{count:,}）" in labels
    assert "乡镇名称" in labels

    conflicts = gpd.read_file(demo_out / "conflicts.gpkg", layer="conflicts")
    shown = overlays(browser)
    for severity, title in SEVERITY_TITLES.items():
        n = int((conflicts["severity"] == severity).sum())
        assert f"冲突：{title}（{n:,} 处）" in labels
        assert shown[f"冲突：{title}（{n:,} 处）"] == n
    assert _drawn_conflict_paths(browser) == len(conflicts) > 0
    _assert_geometries_arrive_intact(browser, conflicts)

    lonlat = conflicts.to_crs(4326)
    target = lonlat[lonlat["severity"] == "prohibited"].sort_values("area_m2").iloc[-1]
    point = shapely.point_on_surface(target.geometry)
    under = lonlat[lonlat.geometry.contains(point)]
    text = click_at(browser, point.y, point.x, 13)
    title, *rows = text.splitlines()
    assert title in set(under["rule_title"])
    row = under[under["rule_title"] == title].iloc[0]
    assert f"乡镇 {row['township']}" in rows
    assert f"主体功能区 {row['function_type']}" in rows
    assert any(r.startswith("面积 ") and "亩（" in r and "公顷）" in r for r in rows)
    assert any(r.startswith("依据 《") for r in rows)

    screenshot = tmp_path / "map.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000  # a drawn map, not a blank page


# Images other than the page's own (the density overlay is a data: PNG).
_FOREIGN_IMAGES = (
    "return [...document.images].filter(i => !i.src.startsWith('data:image/png;base64,')"
    " || i.hasAttribute('onerror')).length"
)
EVIL_PARK = '<img src=x onerror="window.__xss = 1">'
EVIL_RESERVE = "</script><script>window.__xss = 2</script>"
EVIL_TITLE = '<b>计划</b><img src=x onerror="window.__xss = 3">'


def test_field_values_show_as_text_and_run_nothing(browser, tmp_path):
    parks = gpd.GeoDataFrame(
        {"BSM": ["1"], "MC": [EVIL_PARK], "LX": ["工业园区"]},
        geometry=[box(0, 0, 1000, 1000)],
        crs=EPSG,
    )
    reserves = gpd.GeoDataFrame(
        {"BSM": ["9"], "MC": [EVIL_RESERVE], "LX": ["自然保护区"]},
        geometry=[box(500, 500, 1500, 1500)],
        crs=EPSG,
    )
    project = write_project(tmp_path, {"parks": parks, "protected_areas": reserves})
    (tmp_path / "pack.toml").write_text(
        rule("must_not_overlap", '"parks"', '"protected_areas"'), encoding="utf-8"
    )
    text = project.read_text(encoding="utf-8").replace('name = "case"', f"name = '{EVIL_TITLE}'")
    project.write_text(text + '\n[rules]\npacks = ["pack.toml"]\n', encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["-q", "check", str(project), "--out", str(out)])
    assert result.exit_code == 1, result.output

    load = open_page(browser, out / "map.html")
    assert load.console_errors == [] and load.requests == []
    assert browser.execute_script("return window.__xss === undefined")
    assert browser.execute_script(_FOREIGN_IMAGES) == 0
    assert EVIL_TITLE in browser.find_element("css selector", ".geoplan-title").text
    assert browser.title == EVIL_TITLE

    overlap = gpd.GeoSeries([box(500, 500, 1000, 1000).centroid], crs=EPSG).to_crs(4326)[0]
    popup = click_at(browser, overlap.y, overlap.x, 15)
    assert f"要素一 产业园区：{EVIL_PARK}（1）" in popup.splitlines()
    assert f"要素二 自然保护地：{EVIL_RESERVE}（9）" in popup.splitlines()
    assert browser.execute_script("return window.__xss === undefined")

    park_only = gpd.GeoSeries([box(100, 100, 300, 300).centroid], crs=EPSG).to_crs(4326)[0]
    name = map_variable(browser)
    browser.execute_script(f"window['{name}'].closePopup();")
    x, y = browser.execute_script(
        f"const m = window['{name}']; const p = m.latLngToContainerPoint([{park_only.y}, "
        f"{park_only.x}]); const r = m.getContainer().getBoundingClientRect();"
        "return [p.x + r.left, p.y + r.top];"
    )
    body = browser.find_element("tag name", "body")
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element_with_offset(
        body, int(x - body.rect["width"] / 2), int(y - body.rect["height"] / 2)
    ).perform()
    tips = browser.find_elements("css selector", ".leaflet-tooltip")
    assert EVIL_PARK in [tip.text for tip in tips]
    assert browser.execute_script("return window.__xss === undefined")
    assert browser.execute_script(_FOREIGN_IMAGES) == 0

    load = open_page(browser, out / "report.html")
    assert load.console_errors == []
    assert browser.execute_script("return window.__xss === undefined")
    images = browser.execute_script("return [...document.images].map(i => i.alt)")
    assert images == ["冲突分布概览图"]  # the figure, and no image from the data
    assert browser.find_element("tag name", "h1").text == f"{EVIL_TITLE}国土空间规划合规性审查报告"
    assert EVIL_PARK in browser.find_element("id", "issues").text


def test_amap_basemap_shifts_the_overlays_into_gcj02_and_fetches_only_its_tiles(browser, tmp_path):
    red = gpd.GeoDataFrame(
        {"BSM": ["1"], "MC": ["红线"]}, geometry=[box(0, 0, 2000, 2000)], crs=EPSG
    )
    project = write_project(tmp_path, {"ecological_redline": red})
    out = tmp_path / "amap.html"
    result = CliRunner().invoke(
        cli, ["-q", "map", str(project), "--out", str(out), "--basemap", "amap"]
    )
    assert result.exit_code == 0, result.output

    load = open_page(browser, out)
    assert load.requests, "the chosen basemap's tiles are requested"
    assert all("autonavi.com" in url for url in load.requests)
    assert load.console_errors == [] or all("autonavi" in e for e in load.console_errors)
    drawn = browser.execute_script(
        """
        const key = Object.keys(window).find(k => k.startsWith('layer_control_')
            && k.endsWith('_layers') && window[k].overlays);
        const group = Object.entries(window[key].overlays)
            .find(([name]) => name.startsWith('生态保护红线'))[1];
        return group.toGeoJSON(7).features[0].geometry;
        """
    )
    lonlat = shapely.get_coordinates(red.to_crs(4326).geometry.values)
    expected = np.column_stack(wgs84_to_gcj02(lonlat[:, 0], lonlat[:, 1]))
    got = shapely.get_coordinates(shapely.geometry.shape(drawn))
    assert np.abs(got - expected).max() < 1e-5  # rounded to 5 decimals for display
    assert np.abs(got - lonlat).max() > 3e-3  # a few hundred metres: the shift happened


_SHAPES_AT_LOAD = """
const name = arguments[0], m = window[name], out = [];
for (const key of Object.keys(window)) {
  const layer = window[key];
  if (!key.startsWith('geo_json_layer_') || !m.hasLayer(layer)) continue;
  const full = geoplan.unpack(geoplan.data(key + '_data').features).features;
  const shown = layer.getLayers().map(p => p.feature.geometry);
  out.push(full.map((f, k) => [f.geometry.type, f.geometry.coordinates, shown[k].coordinates]));
}
return [m.getZoom(), out];
"""


_TO_WEB_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
_HALF_WORLD_M = 20037508.342789244  # EPSG:3857's easting at 180°


def _mercator_px(coords: np.ndarray, zoom: float) -> np.ndarray:
    """Lon/lat (degrees) as Web Mercator pixels at ``zoom`` (Leaflet's 256 px world), by PROJ."""
    x, y = _TO_WEB_MERCATOR.transform(coords[:, 0], coords[:, 1])
    px_per_m = 256 * 2**zoom / (2 * _HALF_WORLD_M)
    return np.column_stack([(x + _HALF_WORLD_M) * px_per_m, (_HALF_WORLD_M - y) * px_per_m])


def _rings(coordinates, depth: int):
    """The rings or lines of a GeoJSON geometry's coordinates, nested ``depth`` deep."""
    if depth == 0:
        yield np.asarray(coordinates, dtype=float)
        return
    for part in coordinates:
        yield from _rings(part, depth - 1)


def test_shapes_shown_at_load_keep_every_vertex_within_half_a_pixel(browser, demo_out):
    load = open_page(browser, demo_out / "map.html")
    assert load.console_errors == [], load
    zoom, layers = browser.execute_script(_SHAPES_AT_LOAD, map_variable(browser))
    depth = {"LineString": 0, "MultiLineString": 1, "Polygon": 1, "MultiPolygon": 2}
    full_vertices = kept_vertices = 0
    worst = 0.0
    for features in layers:
        for kind, full, shown in features:
            for ring, kept in zip(
                _rings(full, depth[kind]), _rings(shown, depth[kind]), strict=True
            ):
                full_vertices += len(ring)
                kept_vertices += len(kept)
                line = shapely.LineString(_mercator_px(kept, zoom))
                points = shapely.points(_mercator_px(ring, zoom))
                worst = max(worst, float(shapely.distance(line, points).max()))
    assert len(layers) >= 5 and full_vertices > 10_000
    # fewer vertices for Leaflet, none of the shapes moved by half a pixel or more
    # (the page measures pixels at the map's centre latitude: 1 % allowed for that)
    assert kept_vertices < 0.7 * full_vertices
    assert worst < 0.5 * 1.01, worst
