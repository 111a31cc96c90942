"""The review report (issue 15 §1–3, §6): land counted once, severity first, verdict, Chinese.

Land areas are checked against an independent union: ``shapely.union_all``
of the geometries in ``conflicts.gpkg`` (read by pyogrio) measured with
``pyproj.Geod`` on the geometry in EPSG:4490 (``engine_cases.geod_area``).
"""

from __future__ import annotations

import json
import re
from html import unescape

import geopandas as gpd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer

from engine_cases import box, geod_area, rule, write_project
from geoplan.analysis.cli import cli
from geoplan.analysis.reports.format import chinese_datetime
from geoplan.analysis.reports.verdict import verdict
from geoplan.layers.catalog import KINDS
from geoplan.layers.vocabulary import SEVERITIES

#: geo.area densifies edges to 1 km before its equal-area projection; it agrees
#: with pyproj.Geod to 0.01 % (README "Areas"); measured worst on the demo: 2.2e-5.
REL = 1e-4
#: report.json rounds areas to 0.01 m².
ABS_M2 = 0.006
RANK = {s: i for i, s in enumerate(SEVERITIES)}
RED, FARM = '"ecological_redline"', '"permanent_farmland"'


def _invoke(*args):
    return CliRunner().invoke(cli, [*args], catch_exceptions=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``geoplan check`` of the demo project (default --fail-on prohibited), run once."""
    from geoplan.layers.bazhong import PROJECT_FILE

    out = tmp_path_factory.mktemp("review")
    result = _invoke("check", str(PROJECT_FILE), "--out", str(out))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    conflicts = pyogrio.read_dataframe(out / "conflicts.gpkg", layer="conflicts")
    return {
        "exit": result.exit_code,
        "output": result.output,
        "out": out,
        "report": report,
        "conflicts": conflicts,
    }


def _land(frame: gpd.GeoDataFrame) -> float:
    return geod_area(shapely.union_all(frame.geometry.to_numpy()))


def _agrees(row: dict, frame: gpd.GeoDataFrame) -> None:
    expected = _land(frame)
    assert row["land_area_m2"] == pytest.approx(expected, rel=REL, abs=ABS_M2), row
    assert row["land_area_mu"] == pytest.approx(expected / (10000 / 15), rel=REL, abs=0.006)
    assert row["land_area_ha"] == pytest.approx(expected / 1e4, rel=REL, abs=6e-5)
    summed = row.get("area_m2", row["land_area_m2"])
    assert row["land_area_m2"] <= summed * (1 + 1e-6) + 0.01  # never more than the sum


@pytest.mark.slow
def test_1_every_group_reports_the_land_of_its_union(demo):
    report, c = demo["report"], demo["conflicts"]
    s = report["summary"]
    assert c.crs.to_epsg() == 4545  # geod_area's CRS
    _agrees(s, c)
    for row in s["by_severity"]:
        part = c[c["severity"] == row["severity"]]
        if len(part):
            _agrees(row, part)
        else:
            assert row["land_area_m2"] == 0
    for row in s["by_rule"]:
        part = c[c["rule_id"] == row["rule_id"]]
        assert row["conflicts"] == len(part)
        if len(part):
            _agrees(row, part)
    for row in s["by_county"]:
        _agrees(row, c[(c["county"] == row["county"]) & (c["severity"] == row["severity"])])
    for row in s["by_township"]:
        keys = ("county", "township", "function_type", "severity")
        mask = (c[list(keys)] == [row[k] for k in keys]).all(axis=1)
        _agrees(row, c[mask])
    assert {r["control_line"] for r in s["by_control_line"]} == {
        "ecological_redline",
        "permanent_farmland",
        "urban_boundary",
    }
    for row in s["by_control_line"]:
        kind = row["control_line"]
        inside = (c["left_kind"] == kind) | ((c["right_kind"] == kind) & (c["detail"] == "overlap"))
        _agrees(row, c[inside])
    by_id = c.set_index("conflict_id")
    for issue in report["issues"]:
        _agrees(issue, by_id.loc[issue["conflict_ids"]])
    # the demo's prohibited rules find the same ground more than once
    prohibited = s["by_severity"][0]
    assert prohibited["land_area_m2"] < 0.9 * prohibited["area_m2"]


def _ordered(rows: list[dict], area: str = "land_area_m2") -> bool:
    keys = [(RANK[r["severity"]], -r[area]) for r in rows]
    return keys == sorted(keys)


@pytest.mark.slow
def test_2_everything_is_ordered_by_severity_then_land(demo):
    report = demo["report"]
    s = report["summary"]
    assert [r["severity"] for r in s["by_severity"]] == list(SEVERITIES)
    assert _ordered(s["by_rule"]) and _ordered(s["by_county"]) and _ordered(s["by_township"])
    issues = report["issues"]
    assert _ordered(issues) and [i["number"] for i in issues] == list(range(1, len(issues) + 1))
    assert {i["severity"] for i in issues} == {"prohibited", "restricted"}

    md = (demo["out"] / "report.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+)$", md, flags=re.M)
    assert sections[0].startswith("最严重的") and "禁止类在前" in sections[0]
    first = md.split("## ", 2)[1]
    assert "审查结论" in md.split("## ", 1)[0] and "涉及土地" in md.split("## ", 1)[0]
    severities = re.findall(r"^\| \d+ \| (禁止|限制) \|", first, flags=re.M)
    assert severities and severities == sorted(severities, key=["禁止", "限制"].index)
    assert severities[0] == "禁止"

    # one panel per severity, each on its own scale: the largest prohibited
    # bar is as long as the largest restricted one, however small in 亩
    html = (demo["out"] / "report.html").read_text(encoding="utf-8")
    chart = re.search(
        r'<svg role="img" aria-label="涉及土地（亩），按严重程度与规则".*?</svg>', html, re.S
    )
    panels = re.split(r'class="chart-panel">', chart.group(0))[1:]
    assert [p[:3] for p in panels] == ["禁止类", "限制类", "提示类"]
    widest = [max(float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', p)) for p in panels]
    assert widest[0] == pytest.approx(widest[1])
    assert html.index('id="issues"') < html.index('id="rules"')


@pytest.mark.slow
def test_3_verdict_follows_fail_on_and_is_the_exit_status(demo):
    report = demo["report"]
    s = report["summary"]
    assert demo["exit"] == 1
    v = report["verdict"]
    assert (v["status"], v["title"], v["fail_on"]) == ("fail", "不通过", "prohibited")
    prohibited = s["by_severity"][0]
    assert (
        f"禁止类冲突 {prohibited['conflicts']:,} 处，涉及土地 {prohibited['land_area_mu']:,.2f} 亩"
        in v["reason"]
    )
    assert "2 条规则" in v["reason"] and "未检查" in v["reason"]
    assert verdict(s, "never")["status"] == "conditional"
    printed = [line for line in demo["output"].splitlines() if not line.startswith("geoplan:")]
    assert printed[0].startswith("审查结论：不通过")  # the summary leads with the verdict

    statuses = {r["rule_id"]: r for r in s["by_rule"]}
    for r in s["by_rule"]:
        expected = (
            "skipped" if r["evaluation"] == "skipped" else "fail" if r["conflicts"] else "pass"
        )
        assert r["status"] == expected
        assert (
            r["status_title"] == {"pass": "符合", "fail": "不符合", "skipped": "未检查"}[expected]
        )
    skipped = statuses["construction-outside-farmland"]
    assert skipped["status"] == "skipped" and skipped["status_title"] == "未检查"
    assert skipped["skipped_reason"] == "未检查：项目没有规划建设项目（construction）图层"
    assert "construction layer" in skipped["skipped_reason_en"]


def _small_project(tmp_path, pack_text: str, townships=None, farmland_x0: float = 900):
    layers = {
        "ecological_redline": [box(0, 0, 1000, 1000)],
        "permanent_farmland": [box(farmland_x0, 0, 1100, 100), box(3000, 0, 3100, 100)],
    }
    if townships is not None:
        layers["townships"] = townships
    tmp_path.mkdir(exist_ok=True)
    project = write_project(tmp_path, layers)
    (tmp_path / "pack.toml").write_text(pack_text, encoding="utf-8")
    project.write_text(
        project.read_text(encoding="utf-8") + '\n[rules]\npacks = ["pack.toml"]\n', encoding="utf-8"
    )
    return str(project)


def _report(out):
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_3_restricted_is_conditional_clean_is_pass_skipped_is_never_pass(tmp_path):
    restricted = rule("must_not_overlap", FARM, RED).replace("prohibited", "restricted")
    project = _small_project(tmp_path / "r", restricted)
    for flags, status, code in (
        ([], "conditional", 0),
        (["--fail-on", "never"], "conditional", 0),
        (["--fail-on", "restricted"], "fail", 1),
    ):
        out = tmp_path / f"out{len(flags)}{status}"
        result = _invoke("check", project, "--out", str(out), *flags)
        assert result.exit_code == code, result.output
        v = _report(out)["verdict"]
        assert v["status"] == status
        assert v["title"] == {"conditional": "需整改", "fail": "不通过"}[status]

    clean = _small_project(tmp_path / "c", rule("must_not_overlap", FARM, RED), farmland_x0=1010)
    out = tmp_path / "clean"
    assert _invoke("check", clean, "--out", str(out)).exit_code == 0
    report = _report(out)
    assert report["verdict"]["status"] == "pass" and report["verdict"]["title"] == "通过"
    assert [r["status"] for r in report["summary"]["by_rule"]] == ["pass"]
    assert report["issues"] == [] and report["summary"]["land_area_m2"] == 0

    missing = _small_project(tmp_path / "m", rule("must_not_overlap", '"urban_boundary"', RED))
    out = tmp_path / "missing"
    result = _invoke("check", missing, "--out", str(out))
    assert result.exit_code == 0
    report = _report(out)
    (r,) = report["summary"]["by_rule"]
    assert (r["status"], r["status_title"], r["evaluation"]) == ("skipped", "未检查", "skipped")
    assert r["skipped_reason"] == "未检查：项目没有城镇开发边界（urban_boundary）图层"
    assert report["verdict"]["status"] == "pass" and "1 条规则" in report["verdict"]["reason"]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| R1 | 测试规则 | 禁止 | 未检查 |" in md and "符合 0 条" in md
    summary = result.output[result.output.index("审查结论：") :]  # after the progress lines
    assert "the project has" not in md and "the project has" not in summary
    assert "R1：项目没有城镇开发边界（urban_boundary）图层" in summary


@pytest.mark.slow
def test_3_issue_centres_lie_on_their_finding(demo):
    c = demo["conflicts"].set_index("conflict_id")
    to_lonlat = Transformer.from_crs(4545, 4490, always_xy=True)
    listed = set()
    for issue in demo["report"]["issues"]:
        rows = c.loc[issue["conflict_ids"]]
        assert set(rows["rule_id"]) == {issue["rule_id"]}
        assert set(rows["left_id"]) == {issue["left_id"]}
        assert set(rows["right_id"]) == {issue["right_id"]}
        union = shapely.union_all(rows.geometry.to_numpy())
        centre = shapely.Point(issue["centre_x"], issue["centre_y"])
        assert union.buffer(0.01).contains(centre), issue["issue_id"]
        lon, lat = to_lonlat.transform(issue["centre_x"], issue["centre_y"])
        assert issue["centre_lon"] == pytest.approx(lon, abs=2e-6)
        assert issue["centre_lat"] == pytest.approx(lat, abs=2e-6)
        assert issue["townships"] == sorted({t for t in rows["township"] if t})
        listed |= set(issue["conflict_ids"])
    serious = demo["conflicts"][demo["conflicts"]["severity"] != "notice"]
    assert listed == set(serious["conflict_id"])


def _ascii_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z0-9_.>\-]*", text))


@pytest.mark.slow
def test_6_documents_are_in_chinese_with_chinese_dates(demo):
    report, c = demo["report"], demo["conflicts"]
    allowed = (
        {r["rule_id"] for r in report["summary"]["by_rule"]}
        | set(c["conflict_id"])
        | set(c["left_id"])
        | set(c["right_id"])
        | {i["issue_id"] for i in report["issues"]}
        | {k.removeprefix("raster:") for k in c["right_kind"] if k.startswith("raster:")}
        | set(KINDS)
        | set(report["rule_packs"])
        | {
            "geoplan",
            "km",
            "report.html",
            "report.xlsx",
            "report.docx",
            "map.html",
            "conflicts.gpkg",
            "report.json",
        }
    )
    md = (demo["out"] / "report.md").read_text(encoding="utf-8")
    assert not _ascii_words(unescape(md)) - allowed, _ascii_words(md) - allowed
    html = (demo["out"] / "report.html").read_text(encoding="utf-8")
    body = html[html.index("<h2>审查结论</h2>") : html.index("<h2>冲突分布概览图</h2>")]
    text = unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", body, flags=re.S)))
    assert not _ascii_words(text) - allowed, _ascii_words(text) - allowed
    started = report["run"]["started"]
    assert f"检查时间 {chinese_datetime(started)}" in md and started not in md
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", chinese_datetime(started))
    assert re.match(r"\d{4}-\d\d-\d\dT", started)  # ISO in JSON


@pytest.mark.slow
def test_6_unnamed_features_show_as_unnamed_with_their_id(demo):
    c = demo["conflicts"]
    unnamed = c[(c["left_name"] == "") & (c["left_id"] != "")]
    assert len(unnamed)  # the demo's farmland patches have no names
    md = (demo["out"] / "report.md").read_text(encoding="utf-8")
    html = (demo["out"] / "report.html").read_text(encoding="utf-8")
    ident = unnamed["left_id"].iloc[0]
    assert f"永久基本农田：（未命名）（{ident}）" in html
    assert "（未命名）（YJJBNT" in md
    assert "（）" not in md and "（）" not in html


@pytest.mark.slow
def test_6_no_conflict_under_a_hundredth_of_a_mu(demo):
    areas = [geod_area(g) for g in demo["conflicts"].geometry]
    assert min(areas) >= 10000 / 15 * 0.01 * (1 - REL)
    assert all(r["area_mu"] >= 0.01 for r in demo["report"]["conflicts"])


def test_6_a_corner_the_township_split_cuts_off_is_a_sliver(tmp_path):
    """A 2 m × 2 m corner of an overlap in another township is a sliver, not a 0.00 亩 row."""
    corner = box(998, 98, 5000, 5000)
    townships = gpd.GeoDataFrame(
        {"XZMC": ["平梁镇", "清江镇"], "XZQMC": ["巴州区"] * 2, "ZTGNQ": ["农产品主产区"] * 2},
        geometry=[box(-1000, -1000, 5000, 5000).difference(corner), corner],
        crs=4545,
    )
    project = _small_project(tmp_path, rule("must_not_overlap", FARM, RED), townships)
    out = tmp_path / "out"
    result = _invoke("check", project, "--out", str(out))
    assert result.exit_code == 1, result.output
    report = _report(out)
    (r,) = report["summary"]["by_rule"]
    assert r["conflicts"] == 1 and r["slivers"] == 1
    assert r["sliver_area_m2"] == pytest.approx(geod_area(box(998, 98, 1000, 100)), rel=1e-3)
    assert [c["township"] for c in report["conflicts"]] == ["平梁镇"]
    kept = geod_area(box(900, 0, 1000, 100).difference(box(998, 98, 1000, 100)))
    assert report["conflicts"][0]["area_m2"] == pytest.approx(kept, rel=REL)
