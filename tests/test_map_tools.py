"""The map as a working tool (issue 16): findings panel, search, identify, measure, print.

Headless Chromium with the network off on the demo's map.html; counts are
checked against report.json, geometry against conflicts.gpkg / layers.gpkg
with shapely, and the page's geodesy against pyproj.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import time

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.geometry
from pyproj import Geod, Transformer

from browser import WINDOW, finding_entries, map_variable, open_page
from geoplan.maps.gcj02 import wgs84_to_gcj02

pytestmark = pytest.mark.browser

GEOD = Geod(ellps="GRS80")
MU_M2 = 10000 / 15


@pytest.fixture(scope="module")
def report(demo_out) -> dict:
    return json.loads((demo_out / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def conflicts(demo_out) -> gpd.GeoDataFrame:
    return gpd.read_file(demo_out / "conflicts.gpkg", layer="conflicts").to_crs(4326)


def _open(browser, demo_out) -> str:
    load = open_page(browser, demo_out / "map.html")
    assert load.requests == [] and load.failed == [] and load.console_errors == []
    browser.execute_async_script("geoplan.findingsReady.then(arguments[arguments.length - 1]);")
    return map_variable(browser)


def _click_container(browser, name: str, lat: float, lon: float) -> None:
    """A real mouse click on the map at a point."""
    from selenium.webdriver.common.action_chains import ActionChains

    x, y = browser.execute_script(
        "const m = window[arguments[0]]; const p = m.latLngToContainerPoint([arguments[1],"
        " arguments[2]]); const r = m.getContainer().getBoundingClientRect();"
        "return [p.x + r.left, p.y + r.top];",
        name,
        lat,
        lon,
    )
    body = browser.find_element("tag name", "body")
    ActionChains(browser).move_to_element_with_offset(
        body, round(x - body.rect["width"] / 2), round(y - body.rect["height"] / 2)
    ).click().perform()
    time.sleep(0.2)
    # identify-all answers once the dense layers' chunks under the point are inflated
    browser.execute_async_script(
        "(geoplan.identifiedReady || Promise.resolve()).then(arguments[arguments.length - 1]);"
    )


def _set_view(browser, name: str, lat: float, lon: float, zoom: float) -> None:
    browser.execute_script(
        "window[arguments[0]].setView([arguments[1], arguments[2]], arguments[3],"
        " {animate: false});",
        name,
        lat,
        lon,
        zoom,
    )
    time.sleep(0.3)


def _popup_lines(browser) -> list[str]:
    """The open popup's lines, once it has faded in (waits up to 3 s)."""
    for _ in range(30):
        popups = browser.find_elements("css selector", ".leaflet-popup-content")
        if popups and popups[0].text:
            return popups[0].text.splitlines()
        time.sleep(0.1)
    return []


def _center(browser, name: str) -> shapely.Point:
    lat, lon = browser.execute_script(
        "const c = window[arguments[0]].getCenter(); return [c.lat, c.lng];", name
    )
    return shapely.Point(lon, lat)


def test_findings_panel_lists_every_finding_and_an_entry_opens_its_popup(
    browser, demo_out, report, conflicts
):
    name = _open(browser, demo_out)
    summary = browser.find_element("css selector", ".geoplan-findings summary").text
    assert f"（{len(report['conflicts'])} 处）" in summary
    entries = finding_entries(browser)  # the list is built when the panel is first opened
    expected = [c["conflict_id"] for c in report["conflicts"]]
    assert len(entries) == len(expected) and set(entries) == set(expected)
    # grouped by severity (prohibited first), largest first within a group (to the
    # 0.1 m² of the map's table, the report's 0.01 m² aside: the list shows 0.01 亩)
    rank = {"prohibited": 0, "restricted": 1, "notice": 2}
    by_id = {c["conflict_id"]: c for c in report["conflicts"]}
    listed = [(rank[by_id[i]["severity"]], by_id[i]["area_m2"]) for i in entries]
    assert [r for r, _ in listed] == sorted(r for r, _ in listed)
    assert all(a[0] < b[0] or b[1] <= a[1] + 0.11 for a, b in itertools.pairwise(listed))
    headings = browser.execute_script(
        "return [...document.querySelectorAll('.geoplan-findings-list h4')].map(h => h.textContent)"
    )
    counts = {s: sum(c["severity"] == s for c in report["conflicts"]) for s in rank}
    titles = {"prohibited": "禁止", "restricted": "限制", "notice": "提示"}
    assert headings == [f"{titles[s]}（{counts[s]} 处）" for s in rank if counts[s]]

    # filter by county, then rule: the list and the counts follow report.json
    county = max({c["county"] for c in report["conflicts"]}, key=lambda x: (len(x), x))
    in_county = [c for c in report["conflicts"] if c["county"] == county]
    from selenium.webdriver.support.ui import Select

    Select(
        browser.find_element("css selector", ".geoplan-findings select[name=county]")
    ).select_by_value(county)
    shown = browser.execute_script(
        "return document.querySelectorAll('.geoplan-findings [data-conflict-id]').length"
    )
    assert shown == len(in_county)
    rule = in_county[0]["rule_title"]
    labels = browser.execute_script(
        "return [...document.querySelectorAll('.geoplan-findings select[name=rule] option')]"
        ".map(o => o.textContent)"
    )
    assert f"{rule}（{sum(c['rule_title'] == rule for c in in_county)}）" in labels
    Select(
        browser.find_element("css selector", ".geoplan-findings select[name=county]")
    ).select_by_value("")

    # the entry of the smallest prohibited finding: the map moves there, its popup opens
    target = min(
        (c for c in report["conflicts"] if c["severity"] == "prohibited"),
        key=lambda c: c["area_m2"],
    )
    entry = browser.find_element(
        "css selector", f'.geoplan-findings [data-conflict-id="{target["conflict_id"]}"]'
    )
    browser.execute_script("arguments[0].scrollIntoView();", entry)
    entry.click()
    time.sleep(0.3)
    geometry = conflicts.set_index("conflict_id").geometry[target["conflict_id"]]
    assert geometry.envelope.buffer(0.002).contains(_center(browser, name))
    popup = _popup_lines(browser)
    assert popup and popup[0] == target["rule_title"]
    assert f"冲突编号 {target['conflict_id']}" in popup
    assert browser.execute_script(f"return window[{name!r}].getZoom()") >= 14


def test_prohibited_findings_show_at_every_zoom(browser, demo_out, report, conflicts):
    name = _open(browser, demo_out)
    prohibited = {c["conflict_id"] for c in report["conflicts"] if c["severity"] == "prohibited"}
    state = """
        const m = window[arguments[0]], out = {symbols: [], big: []};
        geoplan.findingSymbols.eachLayer(s => out.symbols.push(s.geoplanConflictId));
        for (const e of geoplan.registry) {
          if (e.kind !== 'conflicts:prohibited') continue;
          e.layer.eachLayer(p => {
            const b = p.getBounds(), a = m.latLngToContainerPoint(b.getSouthWest()),
                  c = m.latLngToContainerPoint(b.getNorthEast());
            if (Math.max(Math.abs(c.x - a.x), Math.abs(c.y - a.y)) >= 8)
              out.big.push(p.feature.properties['冲突编号']);
          });
        }
        return out;
    """
    seen = browser.execute_script(state, name)
    # at city zoom most are specks: each has a symbol or is large enough to see
    assert len(seen["symbols"]) > len(prohibited) / 2
    assert set(seen["symbols"]) | set(seen["big"]) == prohibited
    assert not set(seen["symbols"]) & set(seen["big"])
    target = conflicts[conflicts["conflict_id"].isin(seen["symbols"])].iloc[0]
    point = shapely.point_on_surface(target.geometry)
    _set_view(browser, name, point.y, point.x, 17)
    near = browser.execute_script(state, name)
    assert target["conflict_id"] in near["big"]
    assert target["conflict_id"] not in near["symbols"]


def _search(browser, text: str) -> list[str]:
    box = browser.find_element("id", "geoplan-search")
    box.clear()
    box.send_keys(text)
    browser.execute_async_script("geoplan.searched.then(arguments[arguments.length - 1]);")
    return browser.execute_script(
        "return [...document.querySelectorAll('.geoplan-search li')].map(l => l.firstChild"
        ".textContent)"
    )


def _highlighted(browser) -> shapely.Geometry:
    features = browser.execute_script("return geoplan.highlighted.toGeoJSON(7).features")
    return shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in features])


def test_search_finds_a_township_and_a_patch_id(browser, demo_out):
    from selenium.webdriver.common.keys import Keys

    name = _open(browser, demo_out)
    townships = gpd.read_file(demo_out / "layers.gpkg", layer="townships").to_crs(4326)
    township = townships.sort_values("area_m2").iloc[len(townships) // 2]
    assert township["name"] in _search(browser, township["name"])
    browser.find_element("id", "geoplan-search").send_keys(Keys.ENTER)
    time.sleep(0.3)
    assert township.geometry.contains(_center(browser, name)) or (
        township.geometry.envelope.contains(_center(browser, name))
    )
    # the highlight is that township's outline (simplified for display: ≈ 2 m)
    assert shapely.hausdorff_distance(_highlighted(browser), township.geometry) < 1e-4

    farmland = gpd.read_file(demo_out / "layers.gpkg", layer="permanent_farmland").to_crs(4326)
    patch = farmland.iloc[len(farmland) // 3]
    assert _search(browser, patch["id"])[0] == patch["id"]
    browser.find_element("css selector", ".geoplan-search li").click()
    time.sleep(0.5)
    assert patch.geometry.envelope.buffer(1e-4).contains(_center(browser, name))
    drawn = _highlighted(browser)
    assert drawn.intersection(patch.geometry).area > 0.9 * patch.geometry.area
    assert f"图斑编号 {patch['id']}" in _popup_lines(browser)


def test_identify_lists_every_finding_and_feature_under_the_point(browser, demo_out, conflicts):
    name = _open(browser, demo_out)
    # two findings with the same geometry (a park's, at 东榆工业园): Leaflet clicks only the top one
    wkb = conflicts.geometry.to_wkb()
    twins = conflicts[wkb.duplicated(keep=False)]
    dongyu = twins[
        twins["left_name"].str.contains("东榆", na=False)
        | twins["right_name"].str.contains("东榆", na=False)
    ]
    assert len(dongyu) >= 2
    point = shapely.point_on_surface(dongyu.geometry.iloc[0])
    _set_view(browser, name, point.y, point.x, 15)
    _click_container(browser, name, point.y, point.x)
    listed = browser.execute_script(
        "return [...document.querySelectorAll('.geoplan-identify [data-identify-conflict]')]"
        ".map(e => e.dataset.identifyConflict)"
    )
    lat, lon = browser.execute_script("return geoplan.identified")  # where the click landed
    under = conflicts[conflicts.geometry.contains(shapely.Point(lon, lat))]
    assert set(dongyu["conflict_id"]) <= set(listed)
    assert sorted(listed) == sorted(under["conflict_id"])
    groups = browser.execute_script(
        "return [...document.querySelectorAll('.geoplan-identify h4')].map(h => h.textContent)"
    )
    assert any(g.startswith("产业园区") for g in groups)
    assert any(g.startswith("乡镇") for g in groups)
    # each entry opens to its attributes
    item = browser.find_element("css selector", ".geoplan-identify [data-identify-conflict]")
    item.find_element("tag name", "summary").click()
    assert "冲突编号" in item.text and item.get_attribute("open") is not None


def _corners_of_a_km_square(lat: float, lon: float) -> list[tuple[float, float]]:
    to_gk = Transformer.from_crs(4490, 4545, always_xy=True)
    back = Transformer.from_crs(4545, 4490, always_xy=True)
    x, y = to_gk.transform(lon, lat)
    xs, ys = [x, x + 1000, x + 1000, x], [y, y, y + 1000, y + 1000]
    lons, lats = back.transform(xs, ys)
    return list(zip(lats, lons, strict=True))


def test_measuring_a_km_square_gives_1500_mu_on_the_ellipsoid(browser, demo_out):
    name = _open(browser, demo_out)
    corners = _corners_of_a_km_square(31.86, 106.76)
    _set_view(browser, name, 31.8645, 106.7653, 15.5)
    browser.find_element("xpath", "//button[text()='测面']").click()
    for lat, lon in corners:
        _click_container(browser, name, lat, lon)
        time.sleep(0.3)  # not a double click
    measure = browser.execute_script("return geoplan.measure")
    points = np.array(measure["points"])
    assert len(points) == 4
    area, perimeter = GEOD.polygon_area_perimeter(points[:, 1], points[:, 0])
    assert measure["area_m2"] == pytest.approx(abs(area), rel=1e-5)
    assert measure["length_m"] == pytest.approx(perimeter, rel=1e-6)
    text = browser.find_element("css selector", ".geoplan-measure-result").text
    mu = float(re.search(r"面积 ([\d,.]+) 亩", text)[1].replace(",", ""))
    assert mu == pytest.approx(1500, rel=0.01)
    assert f"（{abs(area) / 1e4:,.2f} 公顷）" in text


def test_page_geodesy_matches_pyproj(browser, demo_out):
    _open(browser, demo_out)
    rng = np.random.default_rng(16)
    lats, lons = rng.uniform(31.2, 32.8, 12), rng.uniform(106.3, 107.8, 12)
    for epsg in (4545, 4544, 4523):
        zone = _zone(epsg)
        got = browser.execute_script(
            "return arguments[0].map((p) => {const g = geoplan.geodesy.gaussKruger(p,"
            " arguments[1]); return [g.easting, g.northing];});",
            [[a, b] for a, b in zip(lats, lons, strict=True)],
            zone,
        )
        x, y = Transformer.from_crs(4490, epsg, always_xy=True).transform(lons, lats)
        assert np.abs(np.array(got) - np.column_stack([x, y])).max() < 0.01
    pairs = [[[lats[i], lons[i]], [lats[i + 1], lons[i + 1]]] for i in range(11)]
    distances = browser.execute_script(
        "return arguments[0].map(p => geoplan.geodesy.distance(p[0], p[1]))", pairs
    )
    expected = GEOD.inv(lons[:-1], lats[:-1], lons[1:], lats[1:])[2]
    np.testing.assert_allclose(distances, expected, rtol=1e-9)
    ring = [[31.5, 106.5], [31.52, 106.9], [31.9, 107.1], [32.3, 106.7], [31.8, 106.45]]
    area = browser.execute_script("return geoplan.geodesy.area(arguments[0])", ring)
    lat, lon = np.array(ring).T
    assert area == pytest.approx(abs(GEOD.polygon_area_perimeter(lon, lat)[0]), rel=1e-5)
    shifted = browser.execute_script(
        "return arguments[0].map(p => geoplan.geodesy.fromGcj02(geoplan.geodesy.toGcj02(p))"
        ".concat(geoplan.geodesy.toGcj02(p)))",
        [[a, b] for a, b in zip(lats, lons, strict=True)],
    )
    shifted = np.array(shifted)
    np.testing.assert_allclose(shifted[:, 0], lats, atol=1e-8)
    np.testing.assert_allclose(shifted[:, 1], lons, atol=1e-8)
    gx, gy = wgs84_to_gcj02(lons, lats)
    np.testing.assert_allclose(shifted[:, 3], gx, atol=1e-9)
    np.testing.assert_allclose(shifted[:, 2], gy, atol=1e-9)


def _zone(epsg: int) -> dict:
    from pyproj import CRS

    from geoplan.maps.map_tools import gauss_kruger_zone

    return gauss_kruger_zone(CRS(epsg))


def test_coordinate_readout_gives_cgcs2000_and_the_working_zone(browser, demo_out):
    from selenium.webdriver.common.action_chains import ActionChains

    name = _open(browser, demo_out)
    _set_view(browser, name, 31.86, 106.76, 16)
    lat, lon = 31.8612, 106.7577
    x, y = browser.execute_script(
        "const m = window[arguments[0]]; const p = m.latLngToContainerPoint([arguments[1],"
        " arguments[2]]); return [p.x, p.y];",
        name,
        lat,
        lon,
    )
    body = browser.find_element("tag name", "body")
    ActionChains(browser).move_to_element_with_offset(
        body, round(x - body.rect["width"] / 2), round(y - body.rect["height"] / 2)
    ).perform()
    time.sleep(0.2)
    text = browser.find_element("css selector", ".geoplan-coords").text
    shown_lon = float(re.search(r"经度 ([\d.]+)°", text)[1])
    shown_lat = float(re.search(r"纬度 ([\d.]+)°", text)[1])
    north = float(re.search(r"X ([\d,.]+)", text)[1].replace(",", ""))
    east = float(re.search(r"Y ([\d,.]+)", text)[1].replace(",", ""))
    assert "EPSG:4545" in text
    # the pointer is where it was moved, to a pixel at zoom 16 (≈ 2 m)
    assert abs(shown_lon - lon) < 4e-5 and abs(shown_lat - lat) < 4e-5
    e, n = Transformer.from_crs(4490, 4545, always_xy=True).transform(shown_lon, shown_lat)
    # the readout rounds the degrees to 6 decimals (≤ 0.06 m) and metres to 2
    assert abs(n - north) < 0.1 and abs(e - east) < 0.1


def test_print_makes_an_a4_image_of_the_view(browser, demo_out):
    from PIL import Image

    name = _open(browser, demo_out)
    _set_view(browser, name, 32.35, 106.83, 12)  # 南江县城
    browser.find_element("xpath", "//button[text()='打印']").click()
    url = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const wait = () => geoplan.lastPrint ? done(geoplan.lastPrint) : setTimeout(wait, 100);"
        "wait();"
    )
    assert url.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
    assert image.size == (1754, 1240)  # A4 landscape at 150 dpi
    pixels = np.asarray(image)
    frame = pixels[120:1200, 40:1300].reshape(-1, 3)
    assert len(np.unique(frame, axis=0)) > 200  # the map's layers, not a blank frame
    title = pixels[20:100, 400:1350]
    assert (title.sum(axis=2) < 200).sum() > 500  # the title's text
    legend = pixels[110:700, 1340:1714]
    assert (legend.sum(axis=2) < 200).sum() > 500  # legend headings and labels


def _legend_text(browser) -> str:
    return browser.execute_script("return document.querySelector('.geoplan-legend').textContent")


def _toggle(browser, label_start: str) -> None:
    browser.execute_script(
        "const l = [...document.querySelectorAll('.leaflet-control-layers-overlays label')]"
        ".find(l => l.textContent.trim().startsWith(arguments[0]));"
        "l.querySelector('input').click();",
        label_start,
    )
    time.sleep(0.2)


def test_density_is_off_and_the_legend_follows_the_visible_layers(browser, demo_out):
    name = _open(browser, demo_out)
    density_on = browser.execute_script(
        "return geoplan.registry.filter(e => e.name === '冲突密度')"
        ".map(e => window[arguments[0]].hasLayer(e.layer))",
        name,
    )
    assert density_on == [False]
    assert "冲突密度" not in _legend_text(browser)
    _toggle(browser, "冲突密度")
    legend = _legend_text(browser)
    assert "m²/km²" in legend and "1,000,000 m²/km²" in legend and "%" not in legend
    opacity = browser.execute_script(
        "return geoplan.registry.find(e => e.name === '冲突密度').layer.options.opacity"
    )
    assert 0.3 <= opacity <= 0.7
    assert "自然保护区" in _legend_text(browser)
    _toggle(browser, "自然保护地")
    assert "自然保护区" not in _legend_text(browser)

    groups = browser.execute_script(
        "return [...document.querySelectorAll('.geoplan-tree-group > summary')]"
        ".map(s => s.textContent)"
    )
    assert groups == [
        "地形",
        "三区",
        "现状",
        "三线",
        "自然保护地",
        "园区",
        "冲突",
    ]  # drawn bottom up
    pane = browser.execute_script(
        "const s = document.querySelector('.geoplan-tree-group input[type=range]"
        "[data-group=\"三线\"]'); s.value = 40; s.dispatchEvent(new Event('input'));"
        "return document.querySelector('.leaflet-geoplan-pane-4-pane').style.opacity;"
    )
    assert float(pane) == pytest.approx(0.4)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_first_view_fits_the_region(browser, demo_out, size):
    counties = gpd.read_file(demo_out / "layers.gpkg", layer="counties").to_crs(4326)
    west, south, east, north = counties.total_bounds
    browser.set_window_size(*size)
    try:
        name = _open(browser, demo_out)
        box = browser.execute_script(
            "const m = window[arguments[0]], s = m.getSize();"
            "const a = m.latLngToContainerPoint([arguments[1], arguments[2]]),"
            " b = m.latLngToContainerPoint([arguments[3], arguments[4]]);"
            "return [a.x, b.y, b.x, a.y, s.x, s.y, m.getZoom()];",
            name,
            south,
            west,
            north,
            east,
        )
    finally:
        browser.set_window_size(*WINDOW)
    left, top, right, bottom, width, height, zoom = box
    assert left >= 0 and top >= 0 and right <= width and bottom <= height  # all of it shows
    # and fills the screen in one direction, to the padding and a zoom step of 0.1
    fill = max((right - left) / width, (bottom - top) / height)
    assert fill > 0.9, (fill, zoom)
