"""Rule packs: the built-in pack is complete and cited; malformed packs fail clearly."""

from __future__ import annotations

import pytest

from engine_cases import rule
from geoplan.analysis.relations import registry
from geoplan.analysis.rules import (
    RuleError,
    builtin_packs,
    load_pack,
    load_rules,
    parse_pack,
)
from geoplan.layers.catalog import KINDS


def test_national_pack_is_built_in_and_every_rule_is_cited():
    assert "national" in builtin_packs()
    pack = load_pack("national")
    assert len(pack.rules) >= 15
    for r in pack.rules:
        assert r.citation.document.startswith("《"), r.id
        assert r.citation.article, r.id
        assert r.citation.basis in ("text", "practice")
        assert r.title and r.title_en
        assert all(kind in KINDS for kind in r.kinds)
    assert {r.relation for r in pack.rules} == set(registry())


def test_national_pack_covers_the_required_checks():
    rules = {
        (r.relation, r.left and r.left.kind, r.right and r.right.kind)
        for r in load_pack("national").rules
    }
    required = [
        ("must_not_overlap", "permanent_farmland", "ecological_redline"),
        ("must_not_overlap", "urban_boundary", "ecological_redline"),
        ("must_not_overlap", "urban_boundary", "permanent_farmland"),
        ("must_be_within", "ecological_redline", "zone_ecological"),
        ("must_be_within", "permanent_farmland", "zone_agricultural"),
        ("must_be_within", "urban_boundary", "zone_urban"),
        ("must_be_within", "protected_areas", "ecological_redline"),
        ("must_not_self_overlap", "protected_areas", None),
        ("must_be_within", "parks", "urban_boundary"),
        ("must_not_overlap", "parks", "permanent_farmland"),
        ("must_not_overlap", "parks", "ecological_redline"),
        ("must_keep_distance", "parks", "rivers"),
        ("must_not_overlap", "parks", "townships"),
    ]
    for item in required:
        assert item in rules, item
    chemical = next(r for r in load_pack("national").rules if r.relation == "must_keep_distance")
    assert chemical.params["distance_m"] == 1000
    assert chemical.left.filters == {"chemical": True}
    assert "第二十六条" in chemical.citation.article


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rules]]\nid = 'x'\n", "rule 'x': missing field 'title'"),
        (rule("must_overlap", '"parks"', '"rivers"'), "relation 'must_overlap' is not one of"),
        (rule("must_not_overlap", '"parks"', None), "rule 'R1': missing field 'right'"),
        (
            rule("must_not_overlap", '{ kind = "parks", where = { chem = true } }', '"rivers"'),
            "parks has no field 'chem'",
        ),
        (rule("must_not_overlap", '"park"', '"rivers"'), "unknown layer kind 'park'"),
        (
            rule("must_not_overlap", '"parks"', '"rivers"', min_area_m2=-1),
            "min_area_m2 must be a number ≥ 0",
        ),
        (
            rule("must_not_overlap", '"parks"', '"rivers"', colour='"red"'),
            "unknown field 'colour'",
        ),
        (
            rule("must_not_overlap", '"parks"', '"rivers"').replace(
                'citation = { document = "《测试》", article = "第一条" }',
                'citation = { article = "一" }',
            ),
            "citation needs at least a 'document'",
        ),
        (rule("must_not_overlap", '"parks"', '"rivers"') * 2, "rule id 'R1' appears twice"),
        ("[[rules", "not a valid TOML file"),
    ],
)
def test_malformed_packs_name_the_rule_and_field(text, message):
    with pytest.raises(RuleError) as info:
        parse_pack(text, "my-pack.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("my-pack.toml")


def test_load_rules_disables_and_overrides_tolerances():
    rules = load_rules(
        ["national"],
        disabled=["pa-no-overlap"],
        min_area_m2={"*": 50, "lines-redline-farmland": 10},
    )
    by_id = {r.id: r for r in rules}
    assert "pa-no-overlap" not in by_id
    assert by_id["lines-redline-farmland"].min_area_m2 == 10
    assert by_id["lines-redline-urban"].min_area_m2 == 50


def test_unknown_rule_id_and_unknown_pack_are_errors(tmp_path):
    with pytest.raises(RuleError, match="no rule 'nope'"):
        load_rules(["national"], disabled=["nope"])
    with pytest.raises(RuleError, match="no such rule pack"):
        load_pack(tmp_path / "missing.toml")


def test_user_pack_file_loads_with_its_own_rules(tmp_path):
    path = tmp_path / "local.toml"
    path.write_text(
        '[pack]\nname = "local"\n' + rule("must_not_overlap", '"parks"', '"rivers"'),
        encoding="utf-8",
    )
    rules = load_rules(["national", str(path)])
    assert rules[-1].id == "R1" and rules[-1].pack == "local"
