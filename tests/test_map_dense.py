"""Dense layers of the map (issue 16 §6): chunks per cell, ids, overview, drawing on demand."""

from __future__ import annotations

import json
import time
import zlib

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from browser import map_variable, open_page
from engine_cases import rule, write_project
from geoplan.analysis.cli import cli
from geoplan.maps.dense import from_text, overview_frame, pack_cells, pack_ids, to_text
from geoplan.maps.display import DisplayOptions, display_scale, pixel_size_m
from geoplan.maps.planmap import MapOptions, map_html, plan_map
from geoplan.maps.popups import fmt_area

EPSG = "EPSG:4545"
X0, Y0 = 400_000.0, 3_500_000.0
STEP = 1e-5  # the display step of a dense layer's coordinates (degrees), zoom 15


def _patches(nx: int = 60, ny: int = 50, spacing: float = 100.0) -> gpd.GeoDataFrame:
    """Squares of 80 m on a grid, one with a hole, one of two parts."""
    x, y = np.meshgrid(X0 + spacing * np.arange(nx), Y0 + spacing * np.arange(ny))
    geoms = shapely.box(x.ravel(), y.ravel(), x.ravel() + 80, y.ravel() + 80)
    geoms[7] = shapely.box(X0 + 700, Y0, X0 + 780, Y0 + 80).difference(
        shapely.box(X0 + 720, Y0 + 20, X0 + 760, Y0 + 60)
    )
    geoms[8] = shapely.MultiPolygon(
        [shapely.box(X0 + 800, Y0, X0 + 830, Y0 + 80), shapely.box(X0 + 850, Y0, X0 + 880, Y0 + 80)]
    )
    ids = [f"{i + 1:07d}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"id": ids, "area_m2": shapely.area(geoms)}, geometry=geoms, crs=EPSG)


def _varints(data: bytes) -> list[int]:
    out, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            out.append(value)
            value, shift = 0, 0
    return out


def _decode(chunk: str, polygonal: bool = True) -> dict[int, list[list[np.ndarray]]]:
    """An independent reading of a chunk: feature number → parts → rings (lon/lat arrays)."""
    values = _varints(zlib.decompress(from_text(chunk)))
    n = values[0]
    at = 1
    numbers = np.cumsum(values[at : at + n])
    at += 2 * n  # numbers, styles
    parts = values[at : at + n]
    at += n
    rings = values[at : at + sum(parts)]
    at += sum(parts)
    verts = values[at : at + sum(rings)]
    at += sum(rings)
    total = sum(verts)
    zig = np.array(values[at:], dtype=np.int64)
    assert len(zig) == 2 * total
    signed = (zig >> 1) ^ -(zig & 1)
    xs, ys = np.cumsum(signed[:total]), np.cumsum(signed[total:])
    out, p, r, v = {}, 0, 0, 0
    for k in range(n):
        polygons = []
        for _ in range(parts[k]):
            part = []
            for _ in range(rings[p]):
                ring = np.column_stack([xs[v : v + verts[r]], ys[v : v + verts[r]]]) * STEP
                part.append(ring)
                v += verts[r]
                r += 1
            polygons.append(part)
            p += 1
        out[int(numbers[k])] = polygons
    return out


def test_chunks_hold_every_feature_at_the_display_step():
    frame = _patches()
    lonlat = frame.to_crs(4326).geometry.values
    keys = (shapely.get_x(shapely.centroid(frame.geometry.values)) // 2000).astype(np.int64)
    family, cells = pack_cells(lonlat, np.zeros(len(frame), int), keys, 10**5)
    assert family == "polygon" and len(cells) == len(np.unique(keys))
    decoded: dict = {}
    for cell in cells:
        features = _decode(cell[5])
        assert cell[4] == len(features)
        decoded.update(features)
        # the cell's extent holds its features
        for polygons in features.values():
            for ring in (r for part in polygons for r in part):
                assert (ring[:, 0] >= cell[0] - STEP).all() and (ring[:, 0] <= cell[2] + STEP).all()
    assert sorted(decoded) == list(range(len(frame)))
    for number, polygons in decoded.items():
        source = shapely.get_parts(lonlat[number])
        assert len(polygons) == len(source)
        for part, polygon in zip(polygons, source, strict=True):
            rings = [polygon.exterior, *polygon.interiors]
            assert len(part) == len(rings)
            for got, ring in zip(part, rings, strict=True):
                want = shapely.get_coordinates(ring)[:-1]  # the closing vertex is left out
                assert got.shape == want.shape
                assert np.abs(got - want).max() <= STEP / 2 + 1e-9


def test_binary_text_needs_no_escaping_and_reads_back():
    data = bytes(range(256)) * 3 + b"\x00\xff\x7f"
    for n in range(len(data) - 8, len(data) + 1):  # every length of the last group
        text = to_text(data[:n])
        assert not set(text) & set("&<>\"\\'`{}")
        assert from_text(text) == data[:n]


@pytest.mark.browser
def test_the_page_reads_binary_text_as_python_writes_it(browser, dense_page):
    open_page(browser, dense_page[0])
    data = bytes(range(256)) * 2 + b"\xfe\xff\x00"
    for n in (len(data) - 3, len(data) - 2, len(data) - 1, len(data)):
        got = browser.execute_script("return [...geoplan.bytes(arguments[0])]", to_text(data[:n]))
        assert bytes(got) == data[:n]


def test_ids_pack_as_numbers_when_they_are_and_as_text_otherwise():
    def inflate(text: str) -> bytes:
        return zlib.decompress(from_text(text))

    numeric = pack_ids(["0000003", "0000001", "0000002"])
    assert numeric["w"] == 7
    signed = [(u >> 1) ^ -(u & 1) for u in _varints(inflate(numeric["d"]))]
    assert list(np.cumsum(signed)) == [3, 1, 2]
    text = pack_ids(["A-1", "图斑\n2", "3"])
    assert inflate(text["t"]).decode("utf-8").split("\n") == ["A-1", "图斑 2", "3"]
    assert "t" in pack_ids(["01", "1"])  # unequal padding is not a number


def test_overview_outlines_where_the_features_are():
    frame = _patches()
    overview = overview_frame(frame, by=None, cell_m=300.0)
    assert overview["features"].sum() == len(frame)
    assert overview["area_m2"].sum() == pytest.approx(shapely.area(frame.geometry.values).sum())
    outline = shapely.union_all(overview.geometry.values)
    centres = shapely.centroid(frame.geometry.values)
    assert shapely.contains(outline.buffer(150), centres).all()
    assert outline.area < 2 * shapely.box(*frame.total_bounds).area


@pytest.fixture(scope="module")
def dense_page(tmp_path_factory):
    frame = _patches(spacing=400.0)  # 24 km × 20 km: the first view is at zoom 11
    page = map_html(plan_map({"permanent_farmland": frame}, None, MapOptions(title="图斑")))
    path = tmp_path_factory.mktemp("dense") / "map.html"
    path.write_text(page, encoding="utf-8")
    return path, frame


_PIXEL = """
const [name, lat, lon] = arguments;
const m = window[name], p = m.latLngToContainerPoint([lat, lon]);
const r = m.getContainer().getBoundingClientRect(), x = p.x + r.left, y = p.y + r.top;
const tile = [...document.querySelectorAll('canvas.leaflet-tile')].find(e => {
  const b = e.getBoundingClientRect();
  return b.left <= x && x < b.right && b.top <= y && y < b.bottom;
});
if (!tile) return null;
const t = tile.getBoundingClientRect();
const px = [Math.floor(x - t.left), Math.floor(y - t.top)];
return [...tile.getContext('2d').getImageData(px[0], px[1], 1, 1).data];
"""


@pytest.mark.browser
def test_detail_is_decoded_as_the_planner_zooms_in(browser, dense_page):
    path, frame = dense_page
    load = open_page(browser, path)
    assert load.requests == [] and load.failed == [] and load.console_errors == [], load
    name = map_variable(browser)
    state = (
        "const d = geoplan.registry.find(e => e.layer.geoplanDense).layer;"
        "return [d.geoplanDense.decoded(), d.geoplanDense.cells.length,"
        f" d.hasLayer(d.geoplanOverview), window['{name}'].getZoom()];"
    )
    decoded, cells, overview, zoom = browser.execute_script(state)
    assert decoded == 0 and cells > 1 and overview and zoom < 13  # only the overview at load

    number = 1234
    patch = frame.to_crs(4326).geometry.values[number]
    centre = shapely.centroid(patch)
    browser.execute_script(
        f"window['{name}'].setView([{centre.y}, {centre.x}], 16, {{animate: false}});"
    )
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const d = geoplan.registry.find(e => e.layer.geoplanDense).layer;"
        "const wait = () => d.geoplanDense.cells.every(c => !c.pending || c.data)"
        " && document.querySelector('canvas.leaflet-tile') ? setTimeout(done, 300)"
        " : setTimeout(wait, 50); wait();"
    )
    decoded, cells, overview, _ = browser.execute_script(state)
    assert 0 < decoded < cells and not overview  # the cells in view, not all
    inside = browser.execute_script(_PIXEL, name, centre.y, centre.x)
    gap = browser.execute_script(_PIXEL, name, centre.y, patch.bounds[2] + 0.0001)
    assert inside is not None and inside[3] > 100  # drawn: the farmland's fill
    assert inside[0] > 200 and inside[1] > 180 and inside[2] < 120
    assert gap is not None and gap[3] == 0  # between patches: nothing

    # identify-all finds the patch on the decoded arrays; its shape is the source's
    items = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"geoplan.identify(window['{name}'], L.latLng({centre.y}, {centre.x}))"
        ".then(g => done(g.map(x => x.items.map(i => [i.props['编号'], i.geojson()])).flat()));"
    )
    assert [i[0] for i in items] == [frame["id"].iloc[number]]
    got = np.array(items[0][1]["geometry"]["coordinates"][0][0])
    want = shapely.get_coordinates(patch.exterior)
    assert got.shape == want.shape and np.abs(got - want).max() <= STEP / 2 + 1e-9


@pytest.mark.browser
def test_search_finds_a_patch_and_opens_it(browser, dense_page):
    path, frame = dense_page
    open_page(browser, path)
    name = map_variable(browser)
    patch_id = frame["id"].iloc[2222]
    box = browser.find_element("id", "geoplan-search")
    box.send_keys(patch_id)
    browser.execute_async_script("geoplan.searched.then(arguments[arguments.length - 1]);")
    first = browser.find_element("css selector", ".geoplan-search li")
    assert first.text.startswith(patch_id)
    first.click()
    time.sleep(0.5)
    centre = browser.execute_script(
        f"const c = window['{name}'].getCenter(); return [c.lng, c.lat];"
    )
    patch = frame.to_crs(4326).geometry.values[2222]
    assert patch.buffer(1e-4).contains(shapely.Point(centre))
    highlighted = browser.execute_script("return geoplan.highlighted.toGeoJSON(7).features")
    shape = shapely.geometry.shape(highlighted[0]["geometry"])
    assert shapely.hausdorff_distance(shape, patch) <= STEP
    popup = browser.find_element("css selector", ".leaflet-popup-content").text
    assert f"图斑编号 {patch_id}" in popup.splitlines()
    assert (
        json.loads(browser.execute_script("return JSON.stringify(geoplan.identified || null)"))
        is None
    )


@pytest.fixture(scope="module")
def dense_findings(tmp_path_factory):
    """A check whose prohibited findings are a dense layer: 3,000 patches under a red line."""
    folder = tmp_path_factory.mktemp("findings")
    farmland = _patches(spacing=400.0)
    farmland = gpd.GeoDataFrame(
        {"BSM": farmland["id"]}, geometry=farmland.geometry.values, crs=EPSG
    )
    west, south, east, north = farmland.total_bounds
    # a strip of every patch: each patch is one finding
    red = [
        shapely.box(west - 10, south - 10, east + 10, north + 10).difference(
            shapely.union_all(
                shapely.box(
                    farmland.geometry.bounds["minx"] + 30,
                    south - 20,
                    farmland.geometry.bounds["minx"] + 400,
                    north + 20,
                )
            )
        )
    ]
    project = write_project(folder, {"permanent_farmland": farmland, "ecological_redline": red})
    (folder / "pack.toml").write_text(
        rule("must_not_overlap", '"ecological_redline"', '"permanent_farmland"'), encoding="utf-8"
    )
    text = project.read_text(encoding="utf-8")
    project.write_text(text + '\n[rules]\npacks = ["pack.toml"]\n', encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(cli, ["-q", "check", str(project), "--out", str(out)])
    assert result.exit_code == 1, result.output
    conflicts = gpd.read_file(out / "conflicts.gpkg", layer="conflicts")
    assert len(conflicts) > DisplayOptions().dissolve_above  # drawn as a dense layer
    return out, conflicts


@pytest.mark.browser
def test_dense_findings_list_open_and_identify(browser, dense_findings):
    out, conflicts = dense_findings
    load = open_page(browser, out / "map.html")
    assert load.requests == [] and load.failed == [] and load.console_errors == []
    browser.execute_async_script("geoplan.findingsReady.then(arguments[arguments.length - 1]);")
    name = map_variable(browser)
    kinds = browser.execute_script(
        "return geoplan.registry.filter(e => e.layer.geoplanDense).map(e => e.kind)"
    )
    assert "conflicts:prohibited" in kinds
    summary = browser.find_element("css selector", ".geoplan-findings summary").text
    assert f"（{len(conflicts)} 处）" in summary

    # the smallest finding, from its entry in the panel (listed last: by area)
    target = conflicts.sort_values("area_m2").iloc[0]
    browser.execute_async_script(
        "geoplan.showFinding(arguments[0]).then(arguments[arguments.length - 1]);",
        target["conflict_id"],
    )
    popup = browser.find_element("css selector", ".leaflet-popup-content").text.splitlines()
    assert f"冲突编号 {target['conflict_id']}" in popup
    assert f"面积 {fmt_area(conflicts['area_m2']).loc[target.name]}" in popup
    assert f"要素二 永久基本农田：—（{target['right_id']}）" in popup
    shape = shapely.geometry.shape(
        browser.execute_script("return geoplan.highlighted.toGeoJSON(8).features")[0]["geometry"]
    )
    source = gpd.GeoSeries([target.geometry], crs=conflicts.crs).to_crs(4326)[0]
    # the conflicts' step: half a pixel at zoom 18 (2·10⁻⁶ degree)
    assert shapely.hausdorff_distance(shape, source) <= 2e-6

    inside = shapely.point_on_surface(source)
    items = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"geoplan.identify(window['{name}'], L.latLng({inside.y}, {inside.x}))"
        ".then(g => done(g.map(x => [x.kind, x.items.map(i => i.props['冲突编号'] ||"
        " i.props['编号'])])));"
    )
    found = dict(items)
    assert found["conflicts:prohibited"] == [target["conflict_id"]]
    assert found["permanent_farmland"] == [target["right_id"]]


@pytest.mark.parametrize("latitude", [20.0, 31.9, 45.0])
def test_the_display_step_resolves_half_a_pixel(latitude):
    options = DisplayOptions()
    for detailed, zoom in ((False, options.detail_zoom), (True, options.conflict_zoom)):
        step_m = 111_320.0 / display_scale(options, latitude, detailed=detailed)
        half_px = pixel_size_m(zoom, latitude) / 2
        # the coarsest 1-2-5 step not longer than half a pixel
        assert half_px / 2.5 < step_m <= half_px
