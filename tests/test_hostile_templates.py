"""Issue 13, section 1: no value from a data file is ever seen by a template engine.

Template payloads are written into a copy of the embedded 巴中 dataset
(township, protected-area and park names), a user rule pack (title and
citation), the project name and the ``--basemap`` URL; the real ``geoplan
check`` and ``geoplan map`` run on it in a subprocess. Nothing may be
executed or evaluated, and headless Chromium must show every value exactly
as written.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from browser import click_at, control_labels, map_variable, open_page
from engine_cases import EPSG, box, write_project
from geoplan.geo.raster import png_bytes
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.catalog import KINDS
from geoplan.maps.basemaps import Basemap, Tiles, basemap
from geoplan.maps.images import ImageLayer
from geoplan.maps.planmap import MapOptions, map_html, plan_map
from geoplan.maps.slots import script_json

GEOPLAN = Path(sys.executable).with_name("geoplan")
MARKER = "pwned"
EXEC = "{{ this.__init__.__globals__.__builtins__.__import__('os').system('touch pwned') }}"
PAYLOADS = (
    EXEC,
    "{{7*7}}园区",
    "{{ unclosed",
    "{% for x in range(3) %}x{% endfor %}",
    "<img src=x onerror=alert(1)>",
    "</script><script>document.title='x'</script>",
)
PROJECT_NAME = " ".join(PAYLOADS)
RULE_TITLE = PAYLOADS[3]
CITATION = f"{PAYLOADS[0]} {PAYLOADS[4]}"  # document, article
BASEMAP = "https://tiles.example/{z}/{x}/{y}.png?v={{7*7}}&q=" + EXEC
EVALUATED = "49园区"  # what {{7*7}}园区 becomes when it is compiled
TOWNSHIP, RESERVE, PARK = (KINDS[kind].title for kind in ("townships", "protected_areas", "parks"))

# Images other than the page's own inlined PNGs (density, hillshade) and the basemap's tiles.
_FOREIGN_IMAGES = """
return [...document.images].filter(i => i.hasAttribute('onerror')
    || !(i.src.startsWith('data:image/png;base64,')
         || i.classList.contains('leaflet-tile') && i.src.startsWith('https://tiles.example/')))
    .length
"""


def _toml(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def _rename(gpkg: Path, layer: str, field: str, rows: list[int]) -> list[str]:
    """Give the features at ``rows`` the payload names; their BSM ids, in order."""
    frame = pyogrio.read_dataframe(gpkg, layer=layer)
    for row, payload in zip(rows, PAYLOADS, strict=True):
        frame.loc[row, field] = payload
    pyogrio.write_dataframe(frame, gpkg, layer=layer)
    return frame.loc[rows, "BSM"].tolist()


def _townships_under(reserves: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> list[int]:
    """For each reserve, a different township it overlaps most (row positions)."""
    chosen: list[int] = []
    for geom in reserves.geometry:
        shared = shapely.area(shapely.intersection(townships.geometry.values, geom))
        order = [int(i) for i in shared.argsort()[::-1] if shared[i] > 0 and i not in chosen]
        chosen.append(order[0])
    return chosen


def _hostile_project(root: Path) -> Path:
    data = root / "data"
    data.mkdir()
    for name in ("bazhong.gpkg", "dem.tif"):
        shutil.copy(PROJECT_FILE.parent / "data" / name, data / name)
    gpkg = data / "bazhong.gpkg"
    reserves = pyogrio.read_dataframe(gpkg, layer="ZRBHD").iloc[: len(PAYLOADS)]
    townships = pyogrio.read_dataframe(gpkg, layer="XZQ_XZ")
    _rename(gpkg, "XZQ_XZ", "XZMC", _townships_under(reserves, townships))
    _rename(gpkg, "ZRBHD", "MC", list(range(len(PAYLOADS))))
    _rename(gpkg, "CYYQ", "MC", list(range(len(PAYLOADS))))

    (root / "hostile.toml").write_text(
        "[[rules]]\n"
        'id = "hostile-names"\n'
        f"title = {_toml(RULE_TITLE)}\n"
        'title_en = "protected areas across townships"\n'
        'relation = "must_not_overlap"\n'
        'left = "protected_areas"\n'
        'right = "townships"\n'
        'severity = "notice"\n'
        f"citation = {{ document = {_toml(PAYLOADS[0])}, article = {_toml(PAYLOADS[4])} }}\n",
        encoding="utf-8",
    )
    text = PROJECT_FILE.read_text(encoding="utf-8")
    original = 'name = "巴中市（内置示例：真实行政边界，生成的规划图层）"'
    assert text.count(original) == 1 and text.count('packs = ["national"]') == 1
    text = text.replace(original, f"name = {_toml(PROJECT_NAME)}")
    text = text.replace('packs = ["national"]', 'packs = ["national", "hostile.toml"]')
    project = root / "project.toml"
    project.write_text(text, encoding="utf-8")
    return project


def _geoplan(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(GEOPLAN), *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def _no_marker(root: Path) -> None:
    assert not list(root.rglob(MARKER)), "a payload ran a shell command"
    assert not (Path.cwd() / MARKER).exists(), "a payload ran a shell command"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """The hostile project checked (``out/``) and mapped with its conflicts (``map.html``)."""
    root = tmp_path_factory.mktemp("hostile")
    project = _hostile_project(root)
    check = _geoplan(root, "check", str(project), "--out", "out", "--basemap", BASEMAP)
    assert check.returncode in (0, 1), check.stderr
    assert "Traceback" not in check.stderr
    mapped = _geoplan(
        root, "map", str(project), "--out", "map.html", "--conflicts", "out/conflicts.gpkg",
        "--basemap", BASEMAP,
    )  # fmt: skip
    assert mapped.returncode == 0, mapped.stderr
    assert "Traceback" not in mapped.stderr
    return root


@pytest.mark.slow
@pytest.mark.parametrize("page", ["out/map.html", "map.html", "out/report.html"])
def test_check_and_map_evaluate_no_payload(hostile, page):
    _no_marker(hostile)
    text = (hostile / page).read_text(encoding="utf-8")
    assert EVALUATED not in text


@pytest.mark.slow
@pytest.mark.parametrize("page", ["out/map.html", "map.html"])
def test_map_data_arrive_in_json_slots_only(hostile, page):
    text = (hostile / page).read_text(encoding="utf-8")
    for payload in PAYLOADS:
        assert script_json(payload)[1:-1] in text  # as JSON string content
    for raw in ("<img src=x", "</script><script>document"):
        assert raw not in text


def _popup_texts(browser, overlay_prefix: str, names: tuple[str, ...]) -> dict[str, list[str]]:
    """Open the popup of each feature of an overlay named like one of ``names``.

    Returns, by name, the popup's title and its rows as ``th td`` text.
    """
    return browser.execute_script(
        """
        const [prefix, names] = arguments;
        const key = Object.keys(window).find(k => k.startsWith('layer_control_')
            && k.endsWith('_layers') && window[k].overlays);
        const out = {};
        for (const [name, group] of Object.entries(window[key].overlays)) {
            if (!name.startsWith(prefix)) continue;
            for (const layer of group.getLayers()) {
                const title = layer.feature.properties['名称'];
                if (!names.includes(title)) continue;
                layer.openPopup();
                const box = layer.getPopup().getElement().querySelector('.geoplan-popup');
                out[title] = [box.querySelector('.geoplan-popup-title').textContent].concat(
                    [...box.querySelectorAll('tr')].map(
                        r => r.cells[0].textContent + ' ' + r.cells[1].textContent));
                layer.closePopup();
            }
        }
        return out;
        """,
        overlay_prefix,
        list(names),
    )


def _conflict_rows(browser) -> list[list[str]]:
    """Popup rows (title first) of every conflict of the hostile rule."""
    return browser.execute_script(
        """
        const [reserve, township] = arguments;
        const key = Object.keys(window).find(k => k.startsWith('layer_control_')
            && k.endsWith('_layers') && window[k].overlays);
        const out = [];
        for (const [name, group] of Object.entries(window[key].overlays)) {
            if (!name.startsWith('冲突：')) continue;
            for (const layer of group.getLayers()) {
                const p = layer.feature.properties;
                if (!(p['要素一'] || '').startsWith(reserve + '：')
                    || !(p['要素二'] || '').startsWith(township + '：')) continue;
                layer.openPopup();
                const box = layer.getPopup().getElement().querySelector('.geoplan-popup');
                const rows = [box.querySelector('.geoplan-popup-title').textContent].concat(
                    [...box.querySelectorAll('tr')].map(
                        r => r.cells[0].textContent + ' ' + r.cells[1].textContent));
                layer.closePopup();
                if (rows.includes('规则编号 hostile-names')) out.push(rows);
            }
        }
        return out;
        """,
        RESERVE,
        TOWNSHIP,
    )


def _assert_clean_load(load, *pages: Path) -> None:
    """Nothing but the given pages and the chosen basemap's tiles (failing: offline) loads."""
    own = {page.resolve().as_uri() for page in pages}
    assert all(url.startswith("https://tiles.example/") or url in own for url in load.requests)
    assert [e for e in load.console_errors if "tiles.example/" not in e] == []


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("page", ["out/map.html", "map.html"])
def test_browser_shows_every_payload_literally(hostile, browser, page):
    load = open_page(browser, hostile / page)
    _assert_clean_load(load)
    assert browser.execute_script(_FOREIGN_IMAGES) == 0
    assert browser.title == PROJECT_NAME
    title = browser.execute_script(
        "return document.querySelector('.geoplan-title').firstChild.textContent"
    )
    assert title == PROJECT_NAME

    labels = browser.execute_script(
        "return [...document.querySelectorAll('.geoplan-label span')].map(s => s.textContent)"
    )
    assert len(labels) == 139 and set(PAYLOADS) <= set(labels)
    for kind_title in (TOWNSHIP, RESERVE, PARK):
        popups = _popup_texts(browser, f"{kind_title}（", PAYLOADS)
        assert {name: rows[0] for name, rows in popups.items()} == {p: p for p in PAYLOADS}

    conflicts = _conflict_rows(browser)
    assert conflicts and {rows[0] for rows in conflicts} == {RULE_TITLE}
    assert all(f"依据 {CITATION}" in rows for rows in conflicts)
    first = {row for rows in conflicts for row in rows if row.startswith("要素一 ")}
    second = {row for rows in conflicts for row in rows if row.startswith("要素二 ")}
    for payload in PAYLOADS:
        assert any(row.startswith(f"要素一 {RESERVE}：{payload}（") for row in first)
        assert any(row.startswith(f"要素二 {TOWNSHIP}：{payload}（") for row in second)

    base = browser.execute_script(
        """
        const key = Object.keys(window).find(k => k.startsWith('layer_control_')
            && k.endsWith('_layers') && window[k].overlays);
        return Object.entries(window[key].base_layers).map(([n, l]) => [n, l._url]);
        """
    )
    assert base == [["底图", BASEMAP]]
    assert "乡镇名称" in control_labels(browser)
    legend = browser.execute_script("return document.querySelector('.geoplan-legend').textContent")
    assert legend.startswith("图例") and "冲突（按严重程度）" in legend
    assert browser.execute_script(_FOREIGN_IMAGES) == 0
    assert browser.title == PROJECT_NAME


@pytest.mark.slow
@pytest.mark.browser
def test_a_click_on_a_hostile_township_shows_its_name(hostile, browser):
    townships = pyogrio.read_dataframe(hostile / "data" / "bazhong.gpkg", layer="XZQ_XZ")
    target = townships[townships["XZMC"] == EXEC].to_crs(4326).geometry.iloc[0]
    point = shapely.point_on_surface(target)
    load = open_page(browser, hostile / "out" / "map.html")
    _assert_clean_load(load)
    # Only the townships stay on the map, so the click lands on one.
    browser.execute_script(
        """
        const m = window[arguments[0]];
        const key = Object.keys(window).find(k => k.startsWith('layer_control_')
            && k.endsWith('_layers') && window[k].overlays);
        for (const [name, layer] of Object.entries(window[key].overlays)) {
            if (!name.startsWith(arguments[1] + '（')) m.removeLayer(layer);
        }
        """,
        map_variable(browser),
        TOWNSHIP,
    )
    popup = click_at(browser, point.y, point.x, 12)
    assert popup.splitlines()[0] == EXEC
    _no_marker(hostile)


@pytest.mark.slow
@pytest.mark.browser
def test_report_shows_the_project_name_literally(hostile, browser):
    load = open_page(browser, hostile / "out" / "report.html")
    _assert_clean_load(load, hostile / "out" / "map.html")
    assert (
        browser.find_element("tag name", "h1").text == f"{PROJECT_NAME}国土空间规划合规性审查报告"
    )
    assert browser.title.startswith(PROJECT_NAME)
    assert browser.execute_script(_FOREIGN_IMAGES) == 0


def test_the_page_is_rendered_before_any_data_is_in_it(tmp_path, monkeypatch):
    """Every data value (names, title, tiles, images) is absent from the template output."""
    monkeypatch.chdir(tmp_path)
    frames = {}
    for kind, field in (("parks", "name"), ("townships", "name")):
        frames[kind] = gpd.GeoDataFrame(
            {"id": [str(i) for i in range(len(PAYLOADS))], field: list(PAYLOADS)},
            geometry=[box(i * 1000, 0, i * 1000 + 900, 900) for i in range(len(PAYLOADS))],
            crs=EPSG,
        )
    image = ImageLayer(
        PAYLOADS[1], "data:image/png;base64,iVBORw0KGgo=", [[31.8, 106.7], [31.9, 106.8]]
    )
    options = MapOptions(
        title=PROJECT_NAME, subtitle=PAYLOADS[2], basemap=basemap(BASEMAP), images=(image,)
    )
    m = plan_map(frames, None, options)
    rendered = m.get_root().render()
    values = [*PAYLOADS, BASEMAP, image.url]
    for value in values:
        assert value not in rendered and script_json(value)[1:-1] not in rendered
    page = map_html(m)
    for value in values:
        assert script_json(value)[1:-1] in page
    assert EVALUATED not in page
    assert not (tmp_path / MARKER).exists()


@pytest.mark.browser
def test_names_leaflet_takes_as_html_show_as_text(tmp_path, browser):
    """Layer-control names and attributions: Leaflet puts them in with innerHTML."""
    parks = gpd.GeoDataFrame({"id": ["1"]}, geometry=[box(0, 0, 900, 900)], crs=EPSG)
    png = base64.b64encode(png_bytes(np.zeros((2, 2, 4), np.uint8))).decode("ascii")
    south, west, north, east = 31.88, 106.74, 31.9, 106.76
    image = ImageLayer(PAYLOADS[4], f"data:image/png;base64,{png}", [[south, west], [north, east]])
    tiles = Tiles(BASEMAP, attribution=PAYLOADS[5], subdomains="abc")
    options = MapOptions(
        title=PAYLOADS[1],
        basemap=Basemap("xyz", PAYLOADS[3], (tiles, tiles)),
        images=(image,),
    )
    page = tmp_path / "map.html"
    page.write_text(map_html(plan_map({"parks": parks}, None, options)), encoding="utf-8")

    load = open_page(browser, page)
    _assert_clean_load(load)
    assert browser.execute_script(_FOREIGN_IMAGES) == 0
    assert browser.title == PAYLOADS[1]
    base = browser.execute_script(
        "return [...document.querySelectorAll('.leaflet-control-layers-base label')]"
        ".map(l => l.textContent.trim())"
    )
    assert base == [PAYLOADS[3]]
    labels = control_labels(browser)
    assert labels[:2] == [f"{PAYLOADS[3]}注记", PAYLOADS[4]]
    attribution = browser.find_element("css selector", ".leaflet-control-attribution").text
    assert PAYLOADS[5] in attribution
    assert browser.title == PAYLOADS[1]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--basemap", "https://tiles.example/{z}/{x}/{y}.png?key={key}"], "{key}"),
        (["--basemap", "https://tiles.example/{z}/{x}/{y}.png?{{ z }}"], "{ z }"),
        (["--basemap", "tianditu", "--tianditu-key", "k{z}"], "tianditu"),
    ],
)
def test_a_basemap_leaflet_cannot_fill_is_one_error_line(tmp_path, args, named):
    project = write_project(tmp_path, {"ecological_redline": [box(0, 0, 100, 100)]})
    result = _geoplan(tmp_path, "map", str(project), "--out", "m.html", *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("geoplan: error: ") and named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m.html").exists()
