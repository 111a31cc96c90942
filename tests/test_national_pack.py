"""The national pack: every rule cited, quoted only where confirmed, with a remedy;
``geoplan rules``; pack validation; the new rules find their planted cases."""

from __future__ import annotations

import json
from importlib import resources
from types import SimpleNamespace

import geopandas as gpd
import jsonschema
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import geoplan
from engine_cases import box, geod_area, rule, write_project
from geoplan.analysis.citations import UNCONFIRMED_QUOTE
from geoplan.analysis.cli import cli
from geoplan.analysis.rules import RuleError, Side, load_pack, parse_pack
from geoplan.analysis.selection import RuleSkipped, select

#: An article the research could not pin down; allowed only unquoted, as practice.
PLACEHOLDER_ARTICLE = "（条款未核实）"
#: Rules added (or first evaluated on the demo) with issue 19, and their planted cases.
NEW_RULES = (
    "pa-core-farmland",
    "parks-water-source",
    "parks-water-source-secondary",
    "tailings-tributary",
)
RULES = load_pack("national").rules


def _sources(r):
    yield "citation", r.citation
    for i, c in enumerate(r.citation.context):
        yield f"context[{i}]", c
    if r.remedy and r.remedy.citation:
        yield "remedy", r.remedy.citation


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.id)
def test_every_rule_cites_document_article_date_and_basis(r):
    c = r.citation
    assert c.document.startswith("《") and c.date and c.basis in ("text", "practice")
    assert c.article
    if c.article == PLACEHOLDER_ARTICLE:
        assert not c.quote_confirmed and c.basis == "practice", r.id


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.id)
def test_quotes_are_confirmed_with_a_source_or_empty(r):
    if r.citation.basis == "text":
        assert r.citation.quote_confirmed and r.citation.quote
        assert any(u.startswith("http") for u in r.citation.checked_at)
    for where, c in _sources(r):
        if not c.quote_confirmed:
            assert c.quote == "", (r.id, where)
            assert c.shown_quote == UNCONFIRMED_QUOTE
        else:
            assert c.quote and any(u.startswith("http") for u in c.checked_at), (r.id, where)


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.id)
def test_every_rule_has_a_remedy(r):
    assert r.remedy and r.remedy.text and r.remedy.basis in ("text", "practice")
    if r.remedy.basis == "text":
        c = r.remedy.citation
        assert c.document and c.article and c.quote and c.quote_confirmed and c.checked_at


def _invoke(*args):
    return CliRunner().invoke(cli, ["rules", *args], catch_exceptions=False)


def test_rules_json_validates_against_its_schema():
    result = _invoke("national", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    schema_file = resources.files("geoplan.analysis") / "schemas" / "rules.schema.json"
    jsonschema.validate(data, json.loads(schema_file.read_text(encoding="utf-8")))
    assert [r["id"] for r in data[0]["rules"]] == [r.id for r in RULES]


def test_rules_table_prints_every_rule_in_chinese(tmp_path):
    result = _invoke()
    assert result.exit_code == 0
    for column in ("规则编号", "标题", "关系", "严重程度", "依据", "依据类型", "原文", "处置建议"):
        assert column in result.output
    assert all(r.id in result.output for r in RULES)
    assert UNCONFIRMED_QUOTE in result.output and "实践" in result.output
    path = tmp_path / "local.toml"
    path.write_text(rule("must_not_overlap", '"parks"', '"rivers"'), encoding="utf-8")
    assert "R1" in _invoke(str(path)).output


def test_a_local_pack_without_title_en_loads():
    text = rule("must_not_overlap", '"parks"', '"rivers"').replace('title_en = "test rule"\n', "")
    (r,) = parse_pack('[pack]\nname = "local"\n' + text, "local.toml").rules
    assert r.title_en == "" and r.remedy is None


_CITE = 'citation = { document = "《测试》", article = "第一条" }'


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'title = "测试规则"',
            'title = "测试规则"\ncolour = "red"',
            "rule 'R1': unknown field 'colour'",
        ),
        (
            _CITE,
            'citation = { document = "《测试》", article = "一", page = 3 }',
            "rule 'R1': citation has unknown key 'page'",
        ),
        (
            _CITE,
            _CITE + '\nremedy = { text = "调出", basis = "practice", how = "x" }',
            "rule 'R1': remedy has unknown key 'how'",
        ),
        (
            _CITE,
            'citation = { document = "《测试》", article = "一", context = [{ document = "《另》", '
            'article = "二", url = "x" }] }',
            "rule 'R1': citation.context[0] has unknown key 'url'",
        ),
        (_CITE, 'citation = { article = "一" }', "rule 'R1': citation needs at least a 'document'"),
        (_CITE, 'citation = { document = "《测试》" }', "rule 'R1': citation needs an 'article'"),
        (
            _CITE,
            'citation = { document = "《测试》", article = "一", quote = "句", '
            "quote_confirmed = true }",
            "rule 'R1': citation has quote_confirmed = true but no checked_at",
        ),
        (
            _CITE,
            _CITE + '\nremedy = { text = "补划", basis = "text" }',
            "rule 'R1': remedy needs at least a 'document'",
        ),
    ],
)
def test_a_malformed_citation_or_remedy_is_refused(old, new, message):
    text = rule("must_not_overlap", '"parks"', '"rivers"').replace(old, new)
    with pytest.raises(RuleError) as info:
        parse_pack(text, "my-pack.toml")
    assert str(info.value).startswith("my-pack.toml") and message in str(info.value)


def test_an_unknown_key_in_the_pack_table_is_refused():
    with pytest.raises(RuleError, match=r"my-pack.toml: \[pack\] has unknown key 'colour'"):
        parse_pack(
            "[pack]\ncolour = 1\n" + rule("must_not_overlap", '"parks"', '"rivers"'), "my-pack.toml"
        )


def _loaded(zones):
    """A stand-in for a loaded project with one protected_areas layer (no zone field: None)."""
    n = len(zones) if zones is not None else 2
    columns = {"id": [f"P{i}" for i in range(n)], "name": "", "source_fid": range(n)}
    if zones is not None:
        columns["zone"] = zones
    geoms = [shapely.box(i, 0, i + 1, 1) for i in range(n)]
    frame = gpd.GeoDataFrame(columns, geometry=geoms, crs=4545)
    return SimpleNamespace(layers={"protected_areas": None}, frame=lambda kind: frame)


def test_an_empty_filter_value_matches_unknown_values():
    side = Side("protected_areas", {"zone": ["", "核心区"]})
    chosen = select(_loaded(["核心区", None, "", "核心保护区", "实验区"]), side).frame
    assert list(chosen["id"]) == ["P0", "P1", "P2"]
    assert len(select(_loaded(None), side)) == 2  # no zone field: every zone unknown
    assert len(select(_loaded([None, None]), side)) == 2
    with pytest.raises(RuleSkipped):
        select(_loaded(None), Side("protected_areas", {"zone": "核心保护区"}))


@pytest.mark.slow
def test_the_new_rules_find_their_planted_conflicts():
    from geoplan.analysis.run import check_project
    from geoplan.layers.bazhong import PROJECT_FILE
    from geoplan.layers.bazhong.gen.__main__ import DATA
    from geoplan.layers.project import read_project

    result = check_project(read_project(PROJECT_FILE))
    planted = pd.read_csv(DATA / "planted_conflicts.csv", dtype=str).fillna("")
    planted = planted[planted["rule"].isin(NEW_RULES)]
    assert set(planted["rule"]) == set(NEW_RULES)
    status = {r.rule.id: r.status for r in result.evaluation.results}
    found = result.conflicts
    for row in planted.itertuples():
        assert status[row.rule] == "evaluated", row.rule
        hits = found[(found["rule_id"] == row.rule) & (found["left_id"] == row.left_id)]
        if row.right_id:
            hits = hits[hits["right_id"] == row.right_id]
        assert len(hits), (row.case, row.left_id, row.right_id)


def test_any_construction_layer_is_checked_against_farmland_and_the_red_line(tmp_path):
    """土地管理法 第三十五条 and 142号 一、（一） apply to a project's own construction layer."""
    redline, farmland = box(0, 0, 1000, 1000), box(2000, 0, 3000, 1000)
    project = write_project(
        tmp_path,
        {
            "ecological_redline": [redline],
            "permanent_farmland": [farmland],
            "construction": [box(500, 0, 2500, 500)],
        },
    )
    result = geoplan.check_project(project)
    status = {r.rule.id: r.status for r in result.evaluation.results}
    assert status["construction-outside-farmland"] == "evaluated"
    assert status["construction-outside-redline"] == "evaluated"
    conflicts = result.conflicts.groupby("rule_id")["area_m2"].sum()
    expected = {
        "construction-outside-farmland": geod_area(box(2000, 0, 2500, 500)),
        "construction-outside-redline": geod_area(box(500, 0, 1000, 500)),
    }
    for rule_id, area in expected.items():
        assert conflicts[rule_id] == pytest.approx(area, rel=1e-6)


def test_without_a_construction_layer_its_rules_are_skipped_not_passed():
    result = geoplan.check_project(geoplan.DEMO_PROJECT)
    skipped = {r.rule.id: r.reason for r in result.evaluation.results if r.status == "skipped"}
    assert {"construction-outside-farmland", "construction-outside-redline"} <= set(skipped)
    assert "construction" in skipped["construction-outside-farmland"]
