"""Dense layers of the map (issue 16 §6): chunks per cell, ids, overview, drawing on demand."""

from __future__ import annotations

import json
import time
import zlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from browser import map_variable, open_page
from engine_cases import rule, write_project
from geoplan.analysis.cli import cli
from geoplan.layers.vocabulary import SEVERITIES
from geoplan.maps.conflict_table import _numbered, conflict_table, findings_order
from geoplan.maps.dense import from_text, overview_frame, pack_cells, pack_ids, to_text
from geoplan.maps.display import DisplayOptions, display_scale, pixel_size_m
from geoplan.maps.planmap import MapOptions, map_html, plan_map
from geoplan.maps.popups import conflict_popup, fmt_area

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


def _predicted(
    deltas: np.ndarray, verts: list[int], polygonal: bool, origins: dict[int, int] | None = None
) -> np.ndarray:
    """One axis from its differences: a vertex from the previous of its ring, a ring's
    first from the previous ring's second (or, ``origins``: ring → value, from its
    feature's point), a quadrilateral's fourth corner from the parallelogram of the
    other three."""
    out, at, previous = np.zeros(len(deltas), np.int64), 0, 0
    for ring, count in enumerate(verts):
        if origins is not None and ring in origins:
            previous = origins[ring]
        out[at] = previous + deltas[at]
        for k in range(1, count):
            if polygonal and count == 4 and k == 3:
                guess = out[at] + out[at + 2] - out[at + 1]
            else:
                guess = out[at + k - 1]
            out[at + k] = guess + deltas[at + k]
        previous = out[at + min(1, count - 1)]
        at += count
    return out


def _decode(
    chunk: str, polygonal: bool = True, points: np.ndarray | None = None
) -> dict[int, list[list[np.ndarray]]]:
    """An independent reading of a chunk: feature number → parts → rings (lon/lat arrays).

    ``points``: the cell's rows of the layer's points (number, x, y), whose
    numbers the chunk leaves out and from which its features' first vertices are.
    """
    values = _varints(zlib.decompress(from_text(chunk)))
    n = values[0]
    at = 1
    if points is None:
        numbers = np.cumsum(values[at : at + n])
        at += n
    else:
        numbers = points[:, 0]
    at += n  # styles
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
    first_rings = np.cumsum([0, *rings])[np.cumsum([0, *parts])[:-1]]
    xo = yo = None
    if points is not None:
        xo = dict(zip(first_rings.tolist(), points[:, 1].tolist(), strict=True))
        yo = dict(zip(first_rings.tolist(), points[:, 2].tolist(), strict=True))
    xs = _predicted(signed[:total], verts, polygonal, xo)
    ys = _predicted(signed[total:], verts, polygonal, yo)
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


def _assert_same_rings(decoded: dict, lonlat: np.ndarray) -> None:
    """Every feature's parts and rings as the source's, each vertex within half a step."""
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


def test_chunks_hold_every_feature_at_the_display_step():
    frame = _patches()
    lonlat = frame.to_crs(4326).geometry.values
    keys = (shapely.get_x(shapely.centroid(frame.geometry.values)) // 2000).astype(np.int64)
    family, cells, _ = pack_cells(lonlat, np.zeros(len(frame), int), keys, 10**5)
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
    _assert_same_rings(decoded, lonlat)


def test_a_layer_with_points_draws_from_them_and_codes_its_features_from_them():
    frame = _patches()
    lonlat = frame.to_crs(4326).geometry.values
    centres = shapely.point_on_surface(lonlat)
    points = np.column_stack([shapely.get_x(centres), shapely.get_y(centres)])
    keys = (shapely.get_x(shapely.centroid(frame.geometry.values)) // 2000).astype(np.int64)
    numbers = np.arange(len(frame)) * 3 + 5  # rows of a table holding other layers' too
    _, cells, packed = pack_cells(lonlat, np.zeros(len(frame), int), keys, 10**5, numbers, points)
    zig = np.array(_varints(zlib.decompress(from_text(packed))), dtype=np.int64)
    moves = ((zig >> 1) ^ -(zig & 1)).reshape(3, -1)
    stream = np.cumsum(moves, axis=1).T  # number, x, y per feature in the cells' order
    assert len(stream) == len(frame) == sum(cell[4] for cell in cells)
    features = (stream[:, 0] - 5) // 3
    assert sorted(features.tolist()) == list(range(len(frame)))
    assert np.abs(stream[:, 1:] * STEP - points[features]).max() <= STEP / 2 + 1e-9
    at, decoded = 0, {}
    for cell in cells:
        mine = stream[at : at + cell[4]]
        at += cell[4]
        got = _decode(cell[5], points=mine)
        decoded.update({(number - 5) // 3: rings for number, rings in got.items()})
        spans = [
            max(g.bounds[2] - g.bounds[0], g.bounds[3] - g.bounds[1])
            for g in lonlat[(mine[:, 0] - 5) // 3]
        ]
        assert cell[6] == pytest.approx(max(spans), abs=1e-7)  # the largest feature's side
    assert sorted(decoded) == list(range(len(frame)))
    _assert_same_rings(decoded, lonlat)


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
const t = tile.getBoundingClientRect(), k = tile.width / t.width;  // scaled at a fractional zoom
const px = [Math.floor((x - t.left) * k), Math.floor((y - t.top) * k)];
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
    time.sleep(0.3)  # the overview's canvas tiles are drawn in the next frame
    painted = browser.execute_script(_PIXEL, name, centre.y, centre.x)
    assert painted is not None and painted[3] > 0  # the overview covers the patch
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


_TILES_DRAWN = """
const done = arguments[arguments.length - 1];
const d = geoplan.registry.find(e => e.kind === 'conflicts:prohibited').layer;
const after = () => done(d.geoplanDense.decoded());
if (d.geoplanTiles.isLoading()) d.geoplanTiles.once('load', after); else after();
"""

# Red, opaque pixels of the prohibited layer's tile within 4 px of a point.
_SYMBOL_PIXELS = """
const [name, lat, lon] = arguments;
const m = window[name], p = m.latLngToContainerPoint([lat, lon]);
const r = m.getContainer().getBoundingClientRect(), x = p.x + r.left, y = p.y + r.top;
const tiles = geoplan.registry.find(e => e.kind === 'conflicts:prohibited').layer.geoplanTiles;
for (const tile of Object.values(tiles._tiles)) {
  const b = tile.el.getBoundingClientRect();  // scaled at a fractional zoom
  if (tile.coords.z !== tiles._tileZoom || x < b.left || x >= b.right || y < b.top
      || y >= b.bottom) continue;
  const k = tile.el.width / b.width, at = [(x - b.left) * k, (y - b.top) * k].map(Math.floor);
  const px = tile.el.getContext('2d').getImageData(at[0] - 4, at[1] - 4, 9, 9).data;
  let red = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i] > 150 && px[i + 1] < 100 && px[i + 3] > 200) red++;
  }
  return red;
}
return null;
"""


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

    # Every row, from the table stored by place: listed by severity, then area
    # (largest first), each with the popup fields the map's popups would show.
    rows = browser.execute_script(
        "return geoplan.findingRows.map(r => [r[0], r[1], r[5], geoplan.findingProps(r[8])])"
    )
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    keys = [(rank[severity], -area) for _, severity, area, _ in rows]
    assert keys == sorted(keys) and len(rows) == len(conflicts)
    listed = conflicts["conflict_id"].iloc[findings_order(conflicts)].tolist()
    assert [conflict_id for conflict_id, _, _, _ in rows] == listed  # ties as Python breaks them
    props, _ = conflict_popup(conflicts)
    expected = {
        row["冲突编号"]: {k: v for k, v in row.items() if v != ""}
        for row in props.astype(str).to_dict("records")
    }
    assert {conflict_id: got for conflict_id, _, _, got in rows} == expected

    # the smallest finding, from its entry in the panel (listed last: by area)
    target = conflicts.sort_values("area_m2").iloc[0]
    source = gpd.GeoSeries([target.geometry], crs=conflicts.crs).to_crs(4326)[0]
    # At the first view every finding is below 3 px: drawn from the layer's points,
    # no chunk inflated; its row's point (the popup's place) lies in it.
    decoded = browser.execute_async_script(_TILES_DRAWN)
    assert decoded == 0
    lat, lon = browser.execute_script(
        "return geoplan.findingRows.find(r => r[0] === arguments[0]).slice(6, 8)",
        target["conflict_id"],
    )
    assert source.buffer(STEP).contains(shapely.Point(lon, lat))
    red = browser.execute_script(_SYMBOL_PIXELS, name, lat, lon)
    assert red is not None and red > 0  # a symbol within 4 px of it
    browser.execute_async_script(
        "geoplan.showFinding(arguments[0]).then(arguments[arguments.length - 1]);",
        target["conflict_id"],
    )
    for _ in range(50):  # the popup fades in: its text is visible once it has
        popup = browser.find_element("css selector", ".leaflet-popup-content").text.splitlines()
        if popup:
            break
        time.sleep(0.1)
    assert f"冲突编号 {target['conflict_id']}" in popup
    assert f"面积 {fmt_area(conflicts['area_m2']).loc[target.name]}" in popup
    assert f"要素二 永久基本农田：—（{target['right_id']}）" in popup
    shape = shapely.geometry.shape(
        browser.execute_script("return geoplan.highlighted.toGeoJSON(8).features")[0]["geometry"]
    )
    # a dense conflict layer's step is the dense layers' (10⁻⁵ degree): each vertex
    # within half a step in x and in y
    assert shapely.hausdorff_distance(shape, source) <= STEP / 2 * 2**0.5 + 1e-9

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


def _table_areas(table: dict) -> np.ndarray:
    """An independent reading of the table's areas (m²): 8 byte planes, big-endian."""
    planes = np.frombuffer(zlib.decompress(from_text(table["area"]["b"])), np.uint8)
    ints = planes.reshape(8, -1).T.copy().view(">u8").ravel()
    return ints / 10 ** table["area"]["d"]


def _table_column(table: dict, column) -> list[str]:
    """An independent reading of one column of the conflicts' table."""
    rows = len(_table_areas(table))
    if isinstance(column, list):
        return column
    if "hex" in column:
        raw = from_text(column["b"]).hex()
        width = column["hex"]
        return [raw[i * width : (i + 1) * width] for i in range(rows)]
    if "p" in column:
        texts, number = [], 0
        for template, step in zip(column["t"], column["d"], strict=True):
            number += step
            before, width, after = column["p"][template]
            texts.append(before if width < 0 else f"{before}{number:0{width}d}{after}")
        return texts
    if "of" in column:
        key = table["columns"][column["of"]]["i"]
        return [column["v"][column["m"][k]] for k in key]
    return [column["v"][i] for i in column["i"]]


def test_labels_with_numbers_pack_as_templates_and_differences():
    labels = [
        "永久基本农田：（0923574）",
        "永久基本农田：（0923575）",
        "生态保护红线：红线7（0000007）",
        "永久基本农田：（0000999）",
        "永久基本农田：（1000000）",
        "无编号",
        "",
        "0",
        "12a3",
        "第1行\n第2行 42",
        "编号 123456789012345678901",
    ]
    values = pd.Series(labels * 12)
    column = _numbered(values)
    planes = np.zeros((8, len(values)), np.uint8)
    table = {"area": {"d": 1, "b": to_text(zlib.compress(planes.tobytes()))}}
    assert column is not None and len(column["p"]) < len(labels)
    assert _table_column(table, column) == values.tolist()
    # as many templates as a quarter of the rows: not worth it
    assert _numbered(pd.Series([f"a{i}b{i}" for i in range(8)])) is None


def test_the_conflicts_table_reads_back_as_the_popups(dense_findings):
    _, conflicts = dense_findings
    conflicts = conflicts.copy()
    conflicts.loc[conflicts.index[:3], "severity"] = "notice"  # a few drawn as vectors
    # areas whose 0.01 亩 the table's 0.1 m² would round the other way
    conflicts.loc[conflicts.index[3:6], "area_m2"] = [2589.97, 2590.04, 1_234_566.666]
    order, packed = conflict_table(conflicts, DisplayOptions(), 31.6, frozenset({"prohibited"}))
    table = json.loads(zlib.decompress(from_text(packed)))
    props, _ = conflict_popup(conflicts.iloc[order])
    ids = [
        f"{rule}-{hash_}"
        for rule, hash_ in zip(
            _table_column(table, table["columns"]["规则编号"]),
            _table_column(table, table["columns"]["冲突编号"]),
            strict=True,
        )
    ]
    assert table["idAfterRule"] and ids == conflicts["conflict_id"].iloc[order].tolist()
    areas = conflicts["area_m2"].iloc[order].to_numpy()
    assert np.allclose(_table_areas(table), areas, rtol=0, atol=0.05 + 1e-9)
    # the page's 面积: hundredths reckoned from the rounded area, then fixed
    shown = _table_areas(table)
    mu, ha = np.floor(shown * 0.15 + 0.5), np.floor(shown / 100 + 0.5)
    for row, d_mu, d_ha in table["area"]["fix"]:
        mu[row] += d_mu
        ha[row] += d_ha
    assert len(table["area"]["fix"]) >= 1
    texts = [
        f"{int(m) // 100:,}.{int(m) % 100:02d} 亩（{int(h) // 100:,}.{int(h) % 100:02d} 公顷）"
        for m, h in zip(mu, ha, strict=True)
    ]
    assert texts == fmt_area(conflicts["area_m2"].iloc[order]).tolist()
    keyed = [label for label, c in table["columns"].items() if isinstance(c, dict) and "of" in c]
    assert keyed  # the rule's fields are sent once per rule
    numbered = [label for label, c in table["columns"].items() if isinstance(c, dict) and "p" in c]
    assert "要素二" in numbered  # a patch's label as its id's difference from the previous row's
    for label, column in table["columns"].items():
        if label != "冲突编号":
            assert _table_column(table, column) == props[label].astype(str).tolist(), label
    # the points of the dense layer's rows are in the layer, the others' in the table
    assert table["pointsIn"] == ["prohibited"] and len(table["lat"]) == len(table["lon"]) == 3
