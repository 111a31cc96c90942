"""``geoplan check``: outputs, exit codes, targets and bad input, through the real CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import jsonschema
import pyogrio
import pytest
from click.testing import CliRunner

from engine_cases import box, geod_area, rule, write_project
from geoplan.analysis.cli import cli
from geoplan.analysis.conflict_rows import CONFLICT_COLUMNS
from geoplan.analysis.reports.json import SCHEMA_PATH
from geoplan.analysis.run import OUTPUT_FILES

RED = '"ecological_redline"'
FARM = '"permanent_farmland"'


def _project(tmp_path, pack_text: str, targets: str = "") -> str:
    townships = gpd.GeoDataFrame(
        {"XZMC": ["平梁镇"], "XZQMC": ["巴州区"], "ZTGNQ": ["农产品主产区"]},
        geometry=[box(-1000, -1000, 5000, 5000)],
        crs=4545,
    )
    project = write_project(
        tmp_path,
        {
            "ecological_redline": [box(0, 0, 1000, 1000)],
            "permanent_farmland": [box(900, 0, 1100, 100), box(3000, 0, 3100, 100)],
            "townships": townships,
        },
    )
    pack = tmp_path / "pack.toml"
    pack.write_text(pack_text, encoding="utf-8")
    text = project.read_text(encoding="utf-8")
    text += '\n[rules]\npacks = ["pack.toml"]\n' + targets
    project.write_text(text, encoding="utf-8")
    return str(project)


def _invoke(*args):
    return CliRunner().invoke(cli, [*args], catch_exceptions=False)


def test_check_writes_the_contract_outputs_and_exits_1_on_prohibited(tmp_path):
    project = _project(tmp_path, rule("must_not_overlap", FARM, RED))
    out = tmp_path / "out"
    result = _invoke("check", project, "--out", str(out))
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)

    # one vector layer, and the attribute table holding its QGIS style
    assert pyogrio.list_layers(out / "conflicts.gpkg").tolist() == [
        ["conflicts", "MultiPolygon"],
        ["layer_styles", None],
    ]
    conflicts = gpd.read_file(out / "conflicts.gpkg", layer="conflicts")
    assert set(CONFLICT_COLUMNS) <= set(conflicts.columns)
    assert conflicts.crs.to_epsg() == 4545
    assert len(conflicts) == 1
    expected = geod_area(box(900, 0, 1000, 100))
    assert conflicts["area_m2"].iloc[0] == pytest.approx(expected, rel=1e-4)
    assert conflicts["township"].iloc[0] == "平梁镇"

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        report
    )
    assert report["summary"]["conflicts"] == 1
    assert report["conflicts"][0]["conflict_id"] == conflicts["conflict_id"].iloc[0]
    assert "geometry" not in report["conflicts"][0]
    by_severity = {s["severity"]: s["conflicts"] for s in report["summary"]["by_severity"]}
    assert by_severity == {"prohibited": 1, "restricted": 0, "notice": 0}
    assert report["summary"]["by_township"][0]["township"] == "平梁镇"
    assert len(report["inputs"]["files"][0]["sha256"]) == 64
    assert set(pyogrio.list_layers(out / "layers.gpkg")[:, 0]) == {
        "ecological_redline",
        "permanent_farmland",
        "townships",
        "layer_styles",
    }


def test_fail_on_and_clean_exit(tmp_path):
    project = _project(
        tmp_path, rule("must_not_overlap", FARM, RED).replace("prohibited", "notice")
    )
    assert _invoke("check", project, "--out", str(tmp_path / "a")).exit_code == 0
    assert (
        _invoke("check", project, "--out", str(tmp_path / "b"), "--fail-on", "notice").exit_code
        == 1
    )
    # the exit status is the verdict's: a notice alone passes, unless --fail-on notice
    for folder, status in (("a", "pass"), ("b", "fail")):
        report = json.loads((tmp_path / folder / "report.json").read_text(encoding="utf-8"))
        assert report["verdict"]["status"] == status
    clean = _invoke("check", project, "--out", str(tmp_path / "c"), "--disable", "R1")
    assert clean.exit_code == 0
    report = json.loads((tmp_path / "c" / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["conflicts"] == 0


def test_min_area_override_turns_a_conflict_into_a_sliver(tmp_path):
    project = _project(tmp_path, rule("must_not_overlap", FARM, RED))
    out = tmp_path / "out"
    result = _invoke("check", project, "--out", str(out), "--min-area", "R1=20000")
    assert result.exit_code == 0, result.output
    by_rule = json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]["by_rule"]
    assert by_rule[0]["conflicts"] == 0
    assert by_rule[0]["slivers"] == 1
    assert by_rule[0]["min_area_m2"] == 20000
    assert (by_rule[0]["status"], by_rule[0]["status_title"]) == ("pass", "符合")


def test_targets_pass_and_fail(tmp_path):
    farmland_m2 = geod_area(box(900, 0, 1100, 100)) + geod_area(box(3000, 0, 3100, 100))
    targets = f"""
[[targets]]
indicator = "永久基本农田保护面积"
layer = "permanent_farmland"
value = {farmland_m2 / 666.6667 * 1.01:.4f}
unit = "亩"
constraint = ">="

[[targets]]
indicator = "乡镇数"
layer = "townships"
value = 1
unit = "count"
constraint = "="

[[targets]]
indicator = "城镇开发边界规模"
layer = "urban_boundary"
value = 1
unit = "km2"
constraint = "<="
"""
    project = _project(tmp_path, rule("must_not_overlap", FARM, RED), targets)
    out = tmp_path / "out"
    _invoke("check", project, "--out", str(out))
    rows = json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]["targets"]
    assert [r["status"] for r in rows] == ["fail", "pass", "missing"]
    assert rows[0]["measured"] == pytest.approx(farmland_m2 * 15 / 10000, rel=1e-4)
    assert rows[0]["difference_pct"] == pytest.approx(100 * (1 / 1.01 - 1), abs=0.01)


def test_existing_outputs_are_kept_unless_overwrite(tmp_path):
    project = _project(tmp_path, rule("must_not_overlap", FARM, RED))
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("keep me", encoding="utf-8")
    result = _invoke("check", project, "--out", str(out))
    assert result.exit_code == 2
    assert "report.json: exists" in result.output
    assert (out / "report.json").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    assert _invoke("check", project, "--out", str(out), "--overwrite").exit_code == 1
    assert (
        json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]["conflicts"] == 1
    )


@pytest.mark.parametrize(
    ("pack", "message"),
    [
        (rule("must_not_overlap", '"farmland"', RED), "unknown layer kind 'farmland'"),
        (
            rule("must_not_overlap", '{ kind = "parks", where = { colour = "red" } }', RED),
            "parks has no field 'colour'",
        ),
        (
            rule("must_not_overlap", FARM, RED).replace('"prohibited"', '"fatal"'),
            "severity 'fatal'",
        ),
        (rule("must_keep_distance", FARM, RED), "needs distance_m > 0"),
    ],
)
def test_malformed_pack_is_a_clear_error_and_writes_nothing(tmp_path, pack, message):
    project = _project(tmp_path, pack)
    out = tmp_path / "out"
    result = _invoke("check", project, "--out", str(out))
    assert result.exit_code == 2
    assert message in result.output
    assert "pack.toml" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


def test_missing_layer_is_skipped_with_a_warning_or_an_error_when_strict(tmp_path):
    project = _project(tmp_path, rule("must_not_overlap", '"urban_boundary"', RED))
    out = tmp_path / "out"
    result = _invoke("check", project, "--out", str(out))
    assert result.exit_code == 0
    assert "skipped" in result.output and "urban_boundary" in result.output
    strict = _invoke("check", project, "--out", str(tmp_path / "strict"), "--strict")
    assert strict.exit_code == 2
    assert "R1" in strict.output
    assert not (tmp_path / "strict").exists() or not any((tmp_path / "strict").iterdir())


def test_demo_runs_the_embedded_project_and_exits_0(tmp_path):
    out = tmp_path / "out"
    result = _invoke("demo", "--out", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["conflicts"] > 0
    by_rule = {r["rule_id"]: r for r in report["summary"]["by_rule"]}
    assert by_rule["lines-redline-farmland"]["conflicts"] > 0
    assert all(t["status"] == "pass" for t in report["summary"]["targets"])
    assert "巴中市" in report["project"]["name"]
