"""The registry of relations: one module each, and what rules, site and README take from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geoplan.analysis import relations
from geoplan.analysis.relations import SIDE_NAMES, registry
from geoplan.analysis.rules import RuleError, parse_pack
from geoplan.analysis.site import site_margin, site_rules

README = Path(__file__).parents[1] / "README.md"
#: A layer kind for each side a relation may take.
SIDE_VALUES = {
    "left": '"parks"',
    "right": '"rivers"',
    "layers": '["zone_urban", "zone_agricultural"]',
    "region": '"counties"',
}


def _pack(relation: str, *, leave_out: str = "", **values) -> str:
    """A one-rule pack giving the sides and the example parameters ``relation`` takes."""
    entry = registry()[relation]
    given = {side: SIDE_VALUES[side] for side in entry.sides}
    given |= {p.name: repr(p.example) for p in entry.params}
    given |= values
    given.pop(leave_out, None)
    body = [
        "[[rules]]",
        'id = "R1"',
        'title = "测试"',
        'title_en = "test"',
        f'relation = "{relation}"',
        'severity = "notice"',
        'citation = { document = "《测试》", article = "第一条" }',
        *(f"{key} = {value}" for key, value in given.items()),
    ]
    return "\n".join(body) + "\n"


def test_every_module_of_the_package_is_a_relation_named_like_it():
    modules = {p.stem for p in Path(relations.__file__).parent.glob("*.py")} - {"__init__"}
    assert set(registry()) == modules
    for name, entry in registry().items():
        assert entry.name == name and entry.title and callable(entry.breaches)
        assert set(entry.sides) <= set(SIDE_NAMES)
        assert set(entry.site_sides) <= set(entry.sides)


@pytest.mark.parametrize("relation", sorted(registry()))
def test_a_rule_with_the_entrys_sides_and_example_parameters_is_accepted(relation):
    (rule,) = parse_pack(_pack(relation), "p.toml").rules
    entry = registry()[relation]
    assert rule.params == {p.name: p.type(p.example) for p in entry.params}
    assert len(rule.sides_named(entry.sides)) >= len(entry.sides)


@pytest.mark.parametrize(
    ("relation", "missing"),
    [(r, p.name) for r, entry in sorted(registry().items()) for p in entry.params]
    + [(r, side) for r, entry in sorted(registry().items()) for side in entry.sides],
)
def test_a_rule_without_a_parameter_or_side_of_its_relation_is_refused_naming_it(relation, missing):
    with pytest.raises(RuleError, match="rule 'R1'") as info:
        parse_pack(_pack(relation, leave_out=missing), "p.toml")
    assert missing in str(info.value)


@pytest.mark.parametrize(
    ("relation", "values", "message"),
    [
        (
            "must_keep_distance",
            {"distance_m": "0"},
            "needs distance_m > 0 (metres), e.g. distance_m = 1000",
        ),
        ("must_keep_distance", {"distance_m": '"1 km"'}, "needs distance_m > 0"),
        (
            "must_not_exceed",
            {"measure": '"curvature"'},
            "needs measure = elevation, slope, aspect, e.g. measure = 'slope'",
        ),
        ("must_not_exceed", {"threshold": '"steep"'}, "needs threshold"),
        ("must_not_exceed", {"raster": '""'}, "needs raster"),
    ],
)
def test_a_parameter_is_validated_as_its_entry_says(relation, values, message):
    with pytest.raises(RuleError, match=re.escape(message)):
        parse_pack(_pack(relation, **values), "p.toml")


def test_the_readme_table_lists_exactly_the_registrys_relations_and_their_parameters():
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| relation | meaning | conflict geometry |") :].split("\n\n")[0]
    rows = dict(re.findall(r"^\| `(\w+)` \|(.*)$", table, flags=re.MULTILINE))
    assert set(rows) == set(registry())
    for name, entry in registry().items():
        for param in entry.params:
            assert f"`{param.name}`" in rows[name], (name, param.name)
    assert "analysis/relations/<relation>.py" in text


def test_site_uses_each_relation_as_its_entry_says():
    rules = [
        *parse_pack(_pack("must_be_within", left='"rivers"', right='"parks"'), "a").rules,
        *parse_pack(_pack("must_not_overlap", left='"rivers"', right='"parks"'), "b").rules,
        *parse_pack(_pack("must_tile", layers='["parks", "zone_urban"]'), "c").rules,
        *parse_pack(_pack("must_keep_distance", distance_m=750), "d").rules,
    ]
    chosen = site_rules(rules, "parks")
    assert [r.relation for r in chosen] == ["must_not_overlap", "must_keep_distance"]
    assert site_margin(chosen) == 751.0
    assert site_margin(chosen[:1]) == 1.0
