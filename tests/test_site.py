"""``geoplan site``: a proposed site against a project, through the real CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from engine_cases import EPSG, box, geod_area, write_project
from geoplan.analysis.cli import cli


@pytest.fixture
def project(tmp_path):
    townships = gpd.GeoDataFrame(
        {
            "XZMC": ["甲镇", "乙乡"],
            "XZQMC": ["巴州区", "巴州区"],
            "ZTGNQ": ["城镇化地区", "重点生态功能区"],
        },
        geometry=[box(-5000, -5000, 1000, 5000), box(1000, -5000, 5000, 5000)],
        crs=EPSG,
    )
    rivers = gpd.GeoDataFrame(
        {"MC": ["巴河"]},
        geometry=[shapely.LineString([(380_000 + 3500, 3_520_000), (380_000 + 3500, 3_540_000)])],
        crs=EPSG,
    )
    path = write_project(
        tmp_path,
        {
            "ecological_redline": [box(0, 0, 1000, 1000)],
            "permanent_farmland": [box(-1000, 0, -500, 500)],
            "urban_boundary": [box(-3000, -3000, 0, 0)],
            "townships": townships,
            "rivers": rivers,
        },
    )
    return str(path)


def _invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_site_file_in_lonlat_lists_touches_townships_and_broken_rules(tmp_path, project):
    site = box(-800, -200, 1400, 400)  # red line, farmland, outside urban, both townships
    site_file = tmp_path / "site.geojson"
    gpd.GeoDataFrame({"name": ["拟建园区"]}, geometry=[site], crs=EPSG).to_crs(4326).to_file(
        site_file
    )
    result = _invoke("site", project, str(site_file), "--json")
    assert result.exit_code == 1, result.output  # prohibited: on farmland and in the red line
    data = json.loads(result.stdout)
    assert data["site"]["area_m2"] == pytest.approx(geod_area(site), rel=1e-4)
    touched = {(t["kind"], t["name"]): t["area_m2"] for t in data["touches"]}
    assert touched[("ecological_redline", "")] == pytest.approx(
        geod_area(site.intersection(box(0, 0, 1000, 1000))), rel=1e-3
    )
    assert touched[("townships", "乙乡")] == pytest.approx(
        geod_area(site.intersection(box(1000, -5000, 5000, 5000))), rel=1e-3
    )
    broken = {c["rule_id"] for c in data["conflicts"]}
    assert {
        "parks-outside-redline",
        "parks-outside-farmland",
        "parks-in-urban",
        "function-ecological-industry",
    } <= broken
    assert "parks-chemical-river" not in broken


def test_wkt_site_as_chemical_park_near_the_river(project):
    wkt = shapely.to_wkt(box(2000, 2000, 2800, 2600))  # 700 m from the river
    result = _invoke(
        "site",
        project,
        "--wkt",
        wkt,
        "--src-crs",
        "EPSG:4545",
        "--set",
        "kind=化工园区",
        "--set",
        "chemical=是",
        "--json",
    )
    data = json.loads(result.stdout)
    chemical = [c for c in data["conflicts"] if c["rule_id"] == "parks-chemical-river"]
    assert len(chemical) == 1
    assert chemical[0]["distance_m"] == pytest.approx(700.0)
    assert chemical[0]["right_name"] == "巴河"
    assert result.exit_code == 1


def test_table_output_names_the_townships(project):
    result = _invoke(
        "site",
        project,
        "--wkt",
        shapely.to_wkt(box(-2000, -2000, -1500, -1500)),
        "--src-crs",
        "EPSG:4545",
    )
    assert result.exit_code == 0, result.output
    assert "甲镇" in result.output
    assert "城镇化地区" in result.output
    assert result.output.index("【结论】") < result.output.index("【逐条审查】")
    assert "结论：可行" in result.output
    # rules whose layer the project lacks are listed as not checked, with why
    assert "未检查  项目没有自然保护地（protected_areas）图层" in result.output


def _protected_areas_project(tmp_path, categories):
    """A red line and protected areas: one near the site (0–1 km), one 30 km away."""
    areas = gpd.GeoDataFrame(
        {"MC": ["近处保护地", "远处保护区"], "category": categories, "zone": [None, None]},
        geometry=[box(0, 2000, 1000, 3000), box(30_000, 0, 31_000, 1000)],
        crs=EPSG,
    )
    return str(
        write_project(
            tmp_path, {"ecological_redline": [box(0, 0, 10, 10)], "protected_areas": areas}
        )
    )


@pytest.mark.parametrize(
    "categories",
    [
        ["自然公园", "自然保护区"],  # the near one is of another category
        [None, "自然保护区"],  # the near one records none; the layer has values
    ],
)
def test_layer_without_matching_features_near_the_site_meets_the_rule(tmp_path, categories):
    project = _protected_areas_project(tmp_path, categories)
    wkt = shapely.to_wkt(box(0, 1500, 1000, 2500))  # on the near protected area
    result = _invoke("site", project, "--wkt", wkt, "--src-crs", "EPSG:4545", "--json")
    data = json.loads(result.stdout)
    reserve = next(r for r in data["rules"] if r["rule_id"] == "parks-outside-reserve")
    assert reserve["status"] == "pass", reserve
    assert reserve["skipped_reason"] is None
    assert "parks-outside-reserve skipped" not in result.stderr


def test_layer_without_the_field_anywhere_is_not_checked(tmp_path):
    project = _protected_areas_project(tmp_path, [None, None])
    wkt = shapely.to_wkt(box(0, 1500, 1000, 2500))
    result = _invoke("site", project, "--wkt", wkt, "--src-crs", "EPSG:4545", "--json")
    reserve = next(
        r for r in json.loads(result.stdout)["rules"] if r["rule_id"] == "parks-outside-reserve"
    )
    assert reserve["status"] == "skipped" and reserve["status_title"] == "未检查"
    assert "category" in reserve["skipped_reason"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wkt", "POINT (380000 3530000)", "--src-crs", "EPSG:4545"], "no polygon"),
        (["--wkt", "POLYGON ((1 2, 3"], "not valid WKT"),
        (
            [
                "--wkt",
                shapely.to_wkt(box(0, 0, 10, 10)),
                "--src-crs",
                "EPSG:4545",
                "--set",
                "colour=red",
            ],
            "no field 'colour'",
        ),
        ([], "give a SITE_FILE or --wkt"),
    ],
)
def test_bad_site_input_is_a_clear_error(project, args, message):
    result = _invoke("site", project, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


PROJECT_ALIAS = ("--project", "the first argument: geoplan site PROJECT.toml [SITE_FILE]")


def test_project_option_is_a_deprecated_alias_of_the_first_argument(tmp_path, project):
    site_file = tmp_path / "site.geojson"
    gpd.GeoDataFrame(geometry=[box(-2000, -2000, -1500, -1500)], crs=EPSG).to_file(site_file)
    wkt = shapely.to_wkt(box(-2000, -2000, -1500, -1500))
    forms = {
        "file": (
            ["site", project, str(site_file), "--json"],
            ["site", str(site_file), "--project", project, "--json"],
            [PROJECT_ALIAS],
        ),
        "wkt": (
            ["site", project, "--wkt", wkt, "--src-crs", "EPSG:4545", "--json"],
            ["site", "--wkt", wkt, "--crs", "EPSG:4545", "--project", project, "--json"],
            [PROJECT_ALIAS, ("--crs", "--src-crs")],
        ),
    }
    for new_args, old_args, deprecated in forms.values():
        new, old = _invoke(*new_args), _invoke(*old_args)
        assert new.exit_code == old.exit_code == 0, old.output
        assert json.loads(old.stdout) == json.loads(new.stdout)
        assert "deprecated" not in new.stderr
        warnings = [line for line in old.stderr.splitlines() if "deprecated" in line]
        assert sorted(warnings) == sorted(
            f"geoplan: warning: {option} is deprecated and goes in the next release; use {new}"
            for option, new in deprecated
        )


def test_project_given_twice_is_refused(tmp_path, project):
    result = _invoke("site", project, str(tmp_path / "site.geojson"), "--project", project)
    assert result.exit_code == 2
    assert "give the project once" in result.output
