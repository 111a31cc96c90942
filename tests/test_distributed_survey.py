"""A cluster run whose client does not load the large layers: the one-process result still.

With ``Cluster(survey_above=1000)`` the embedded project's 永久基本农田 and
耕地 (21,204 and 24,420 patches) are surveyed, not loaded, by the client
(:func:`layers.loader.survey_layer`): the partitions decide which of their
features they own and hand them back into the layer's store. The outputs
are compared with ``geoplan demo`` run in one process — report.json
(inventory, targets, land classes and all) apart from run times,
conflicts.gpkg row by row, layers.gpkg feature by feature — and the counts
and areas the client reports with an independent read of the source
(pyogrio) and pyproj.Geod.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from distributed import LocalCluster
from pyproj import Geod
from test_distributed import RUN_TIMES, assert_same_conflicts

from geoplan.analysis.run import Cluster, check_project, write_outputs
from geoplan.geo.errors import GeoplanError
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.errors import ProjectError
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project

pytestmark = pytest.mark.slow

DATA = PROJECT_FILE.parent / "data"
SURVEYED = ("permanent_farmland", "cultivated_land")


@pytest.fixture(scope="module")
def scheduler():
    """The address of a local cluster of two worker processes, one thread each."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:  # fmt: skip
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def surveyed(scheduler, tmp_path_factory):
    """The demo checked on the cluster with the large layers surveyed, and its outputs."""
    out = tmp_path_factory.mktemp("surveyed")
    result = check_project(PROJECT_FILE, cluster=Cluster(scheduler=scheduler, survey_above=1000))
    write_outputs(result, out, overwrite=True)
    return result, out


def _scrubbed(value):
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items() if k not in RUN_TIMES | {"outputs"}}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def test_the_client_holds_no_feature_of_a_surveyed_layer(surveyed):
    result, _ = surveyed
    for kind in SURVEYED:
        layer = result.loaded.layers[kind]
        assert layer.parts is not None and len(layer.frame) == 0
        source = pyogrio.read_dataframe(DATA / "bazhong.gpkg", layer=layer.spec.layer)
        assert layer.parts.features == len(source) - layer.dropped
        assert layer.parts.features > 1000
    assert result.loaded.layers["townships"].parts is None


def test_report_json_is_the_one_process_report(demo_out: Path, surveyed):
    one = json.loads((demo_out / "report.json").read_text(encoding="utf-8"))
    two = json.loads((surveyed[1] / "report.json").read_text(encoding="utf-8"))
    assert one["summary"]["by_land_class"] and one["summary"]["targets"]
    assert _scrubbed(one) == _scrubbed(two)


def test_conflicts_gpkg_is_the_one_process_table(demo_out: Path, surveyed):
    one = pyogrio.read_dataframe(demo_out / "conflicts.gpkg", layer="conflicts")
    two = pyogrio.read_dataframe(surveyed[1] / "conflicts.gpkg", layer="conflicts")
    assert_same_conflicts(one, two)


@pytest.mark.parametrize("kind", SURVEYED)
def test_layers_gpkg_has_every_feature_once_as_the_one_process_run(demo_out, surveyed, kind):
    one = pyogrio.read_dataframe(demo_out / "layers.gpkg", layer=kind)
    two = pyogrio.read_dataframe(surveyed[1] / "layers.gpkg", layer=kind)
    assert list(two.columns) == list(one.columns)
    assert two["source_fid"].is_unique
    one, two = (f.sort_values("source_fid").reset_index(drop=True) for f in (one, two))
    assert list(one["id"]) == list(two["id"])
    np.testing.assert_allclose(two["area_m2"], one["area_m2"], rtol=0, atol=1e-6)
    assert shapely.equals_exact(one.geometry.values, two.geometry.values, 1e-9).all()


def test_surveyed_areas_match_an_independent_read(surveyed):
    """The inventory's 永久基本农田 area: the sum of the source's patches on the ellipsoid."""
    result, out = surveyed
    row = next(
        r
        for r in json.loads((out / "report.json").read_text(encoding="utf-8"))["inputs"]["layers"]
        if r["kind"] == "permanent_farmland"
    )
    source = pyogrio.read_dataframe(DATA / "bazhong.gpkg", layer="YJJBNT").to_crs(4490)
    geod = Geod(ellps="GRS80")
    geoms = shapely.make_valid(source.geometry.values)
    area = sum(abs(geod.geometry_area_perimeter(g)[0]) for g in geoms)
    assert row["features"] == len(source) - result.loaded.layers["permanent_farmland"].dropped
    assert row["area_km2"] == pytest.approx(area / 1e6, rel=1e-6)


def test_features_no_partition_reaches_fail_the_run(scheduler, tmp_path: Path):
    """Counties covering two of five: farmland far from both is checked by nobody — an error."""
    shutil.copytree(DATA, tmp_path / "data")
    text = PROJECT_FILE.read_text(encoding="utf-8")
    names = pyogrio.read_dataframe(DATA / "bazhong.gpkg", layer="XZQ_XJ", read_geometry=False)
    kept = "', '".join(names["XZQMC"].iloc[:2])
    text = text.replace(
        'layer = "XZQ_XJ"\n', f'layer = "XZQ_XJ"\nwhere = "XZQMC IN (\'{kept}\')"\n'
    )
    project = tmp_path / "project.toml"
    project.write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError, match=re.escape("lie too far outside every county")):
        check_project(project, cluster=Cluster(scheduler=scheduler, survey_above=1000))


@pytest.mark.browser
def test_the_county_maps_split_the_findings_among_them(browser, surveyed):
    """One map per county, whose findings panel lists the findings report.json places in it."""
    from browser import finding_entries, open_page

    _, out = surveyed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    counties = pyogrio.read_dataframe(DATA / "bazhong.gpkg", layer="XZQ_XJ", read_geometry=False)
    pages = sorted((out / "county-maps").glob("*.html"))
    assert [p.name for p in pages] == [f"{i + 1:02d}.html" for i in range(len(counties))]
    county_of = {c["conflict_id"]: c["county"] for c in report["conflicts"]}
    seen = []
    for page, county in zip(pages, counties["XZQMC"], strict=True):
        load = open_page(browser, page)
        assert not load.requests and not load.console_errors
        entries = finding_entries(browser)
        expected = {c["conflict_id"] for c in report["conflicts"] if c["county"] == county}
        assert expected <= set(entries), county
        assert all(county_of[e] == "" for e in set(entries) - expected), county
        seen.extend(entries)
    # a finding outside every township is in the map of the county nearest to it
    assert sorted(seen) == sorted(county_of)


@pytest.mark.browser
def test_the_overview_links_every_county_map_offline(browser, surveyed):
    from browser import open_page

    _, out = surveyed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    load = open_page(browser, out / "map.html")
    assert not load.requests and not load.console_errors
    links = browser.execute_script(
        "return [...document.querySelectorAll('[data-county-map]')].map(a => [a.textContent,"
        " a.getAttribute('href'), a.parentNode.querySelector('small').textContent])"
    )
    counties = pyogrio.read_dataframe(DATA / "bazhong.gpkg", layer="XZQ_XJ", read_geometry=False)
    assert [name for name, _, _ in links] == list(counties["XZQMC"])
    prohibited = {}
    for row in report["conflicts"]:
        if row["severity"] == "prohibited":
            prohibited[row["county"]] = prohibited.get(row["county"], 0) + 1
    shown = {
        name: int(re.search(r"禁止 (\d+)", c).group(1)) if "禁止" in c else 0
        for name, _, c in links
    }
    assert sum(shown.values()) == sum(prohibited.values())
    assert all(shown[name] >= prohibited.get(name, 0) for name in shown)
    name, href, _ = links[1]
    browser.find_element("css selector", f'[data-county-map="{href}"]').click()
    time.sleep(1)
    assert browser.current_url == (out / href).resolve().as_uri()
    summary = browser.find_element("css selector", ".geoplan-findings summary").text
    count = sum(row["county"] == name for row in report["conflicts"])
    assert f"（{count} 处）" in summary


def _with_farmland(tmp_path: Path, geometry) -> Path:
    """The demo project with one more 永久基本农田 feature of the given geometry."""
    shutil.copytree(DATA, tmp_path / "data")
    gpkg = tmp_path / "data" / "bazhong.gpkg"
    first = pyogrio.read_dataframe(gpkg, layer="YJJBNT", max_features=1)
    extra = first.assign(geometry=gpd.GeoSeries([geometry], crs=first.crs))
    pyogrio.write_dataframe(extra, gpkg, layer="YJJBNT", append=True)
    project = tmp_path / "project.toml"
    project.write_text(PROJECT_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    return project


def test_a_surveyed_layer_logs_a_missing_geometry_as_the_whole_load_does(tmp_path: Path):
    project = read_project(_with_farmland(tmp_path, None))
    whole = load_project(project, ["permanent_farmland"]).layers["permanent_farmland"]
    surveyed = load_project(
        project, ["permanent_farmland"], survey_above=1000, store=tmp_path
    ).layers["permanent_farmland"]
    assert surveyed.parts is not None
    assert surveyed.features_read == whole.features_read
    dropped = surveyed.repair_log[surveyed.repair_log["action"] == "dropped"]
    expected = whole.repair_log[whole.repair_log["action"] == "dropped"]
    assert len(expected) == 1 and list(dropped["feature"]) == list(expected["feature"])
    assert list(dropped["problem"]) == list(expected["problem"])


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_surveyed_layer_refuses_nan_coordinates_as_the_whole_load_does(scheduler, tmp_path):
    first = pyogrio.read_dataframe(DATA / "bazhong.gpkg", layer="YJJBNT", max_features=1)
    ring = shapely.get_coordinates(first.geometry.iloc[0])
    ring[2] = np.nan
    project = _with_farmland(tmp_path, shapely.Polygon(ring))
    with pytest.raises(GeoplanError) as whole:
        load_project(read_project(project), ["permanent_farmland"])
    assert "not finite numbers" in str(whole.value)
    with pytest.raises(GeoplanError) as surveyed:
        check_project(project, cluster=Cluster(scheduler=scheduler, survey_above=1000))
    assert str(whole.value) in str(surveyed.value)


def test_the_overview_shows_the_most_serious_findings_when_there_are_too_many():
    """Above the limit: the prohibited first, the largest first, in the table's order."""
    from geoplan.analysis.county_maps import overview_conflicts

    frame = gpd.GeoDataFrame(
        {
            "severity": ["notice", "prohibited", "restricted", "prohibited", "prohibited"],
            "area_m2": [900.0, 5.0, 800.0, 50.0, 7.0],
        },
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(5)],
    )
    shown, note = overview_conflicts(frame, limit=3)
    assert list(shown.index) == [1, 3, 4]
    assert "5 处冲突" in note and "最严重的 3 处" in note
    everything, note = overview_conflicts(frame, limit=5)
    assert len(everything) == 5 and "全部 5 处" in note
