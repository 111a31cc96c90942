"""Rule packs: planning rules as data, each citing the regulation it comes from.

A rule pack is a TOML file::

    [pack]
    name = "national"

    [[rules]]
    id = "N-LINES-01"
    title = "生态保护红线与永久基本农田不得交叉重叠"
    title_en = "Ecological redline and permanent farmland must not overlap"
    relation = "must_not_overlap"
    left = { kind = "ecological_redline" }
    right = { kind = "permanent_farmland" }
    severity = "prohibited"
    min_area_m2 = 200

    [rules.citation]
    document = "《关于在国土空间规划中统筹划定落实三条控制线的指导意见》"
    article = "一、（二）"
    date = "2019-11-01"
    quote = "……做到不交叉不重叠不冲突。"
    quote_confirmed = true
    checked_at = ["https://…"]
    basis = "text"

    [rules.remedy]
    text = "调出并补划，或调整生态保护红线边界。"
    basis = "practice"

The relations, the sides each takes and their parameters are the entries of
:mod:`analysis.relations`; a rule is checked against its relation's entry.
The citation and remedy tables are described in :mod:`analysis.citations`;
a pack is validated on load (unknown keys, missing citation parts, a
confirmed quote without its source are refused). ``title_en`` is optional.

A side's ``where`` maps a field to a value or a list of values (any of). The
value ``""`` matches a feature whose field is null or empty, and every
feature of a layer that lacks the field or has no values in it: ``zone = ["",
"核心区"]`` keeps features whose zone is unknown or 核心区.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from geoplan.analysis.citations import Citation, Remedy, RuleError, parse_citation, parse_remedy
from geoplan.analysis.relations import Relation, registry
from geoplan.layers.catalog import KINDS
from geoplan.layers.vocabulary import SEVERITIES

#: Default sliver tolerance (m²) when a rule gives none: pieces smaller than
#: this are counted as slivers, not reported as conflicts.
DEFAULT_MIN_AREA_M2 = 200.0
#: A piece under ``NARROW_MAX_AREA_M2`` and narrower than ``NARROW_WIDTH_M``
#: (mean width 2·area/perimeter) is also a sliver: a digitising seam.
NARROW_MAX_AREA_M2 = 1000.0
NARROW_WIDTH_M = 5.0

_RULE_KEYS = {
    "id",
    "title",
    "title_en",
    "relation",
    "left",
    "right",
    "layers",
    "region",
    "severity",
    "min_area_m2",
    "citation",
    "remedy",
    "note",
}
_SIDE_KEYS = {"kind", "where"}
_PACK_KEYS = {"name", "title", "title_en", "description"}


@dataclass(frozen=True)
class Side:
    """One side of a rule: a layer kind and an optional attribute filter.

    Attributes
    ----------
    kind : str
        Layer kind.
    filters : dict of str to value
        Standard field → required value (equality; a list means any of).
    """

    kind: str
    filters: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """``kind`` or ``kind[field=value, …]``."""
        if not self.filters:
            return self.kind
        return f"{self.kind}[{', '.join(f'{k}={v}' for k, v in self.filters.items())}]"


@dataclass(frozen=True)
class Rule:
    """One planning rule.

    ``params`` holds the parameters its relation takes (``distance_m`` …),
    each checked against the relation's entry in :mod:`analysis.relations`.
    """

    id: str
    title: str
    relation: str
    severity: str
    citation: Citation
    title_en: str = ""
    remedy: Remedy | None = None
    left: Side | None = None
    right: Side | None = None
    layers: tuple[Side, ...] = ()
    region: Side | None = None
    min_area_m2: float = DEFAULT_MIN_AREA_M2
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    pack: str = ""

    def sides_named(self, names: Iterable[str]) -> tuple[Side, ...]:
        """The rule's sides among ``names`` (of ``left``, ``right``, ``layers``, ``region``)."""
        found: list[Side] = []
        for name in names:
            value = getattr(self, name)
            found.extend(value if isinstance(value, tuple) else [value] if value else [])
        return tuple(found)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every layer kind the rule needs."""
        sides = self.sides_named(("left", "right", "layers", "region"))
        return tuple(dict.fromkeys(s.kind for s in sides))


@dataclass(frozen=True)
class RulePack:
    """A named list of rules, with the pack's title."""

    name: str
    rules: tuple[Rule, ...]
    title: str = ""


def _side(value: Any, at: str) -> Side:
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, dict) or "kind" not in value:
        raise RuleError(f"{at}: expected a layer kind or {{ kind = ..., where = {{...}} }}")
    extra = set(value) - _SIDE_KEYS
    if extra:
        raise RuleError(f"{at}: unknown key {sorted(extra)[0]!r}")
    kind = value["kind"]
    if kind not in KINDS:
        raise RuleError(f"{at}: unknown layer kind {kind!r}; known kinds: {', '.join(KINDS)}")
    filters = value.get("where", {})
    if not isinstance(filters, dict):
        raise RuleError(f"{at}.where: expected a table of field = value")
    known = {f.name for f in KINDS[kind].all_fields}
    for name in filters:
        if name not in known:
            raise RuleError(
                f"{at}.where: {kind} has no field {name!r}; its fields are: "
                f"{', '.join(sorted(known))}"
            )
    return Side(kind, dict(filters))


def _rule(raw: Any, pack: str, source: str, index: int) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{source}: rules[{index}] is not a table")
    rid = raw.get("id")
    at = f"{source}: rule {rid!r}" if rid else f"{source}: rules[{index}]"
    if not isinstance(rid, str) or not rid:
        raise RuleError(f"{at}: missing field 'id'")
    relations = registry()
    params = {p.name for entry in relations.values() for p in entry.params}
    extra = set(raw) - _RULE_KEYS - params
    if extra:
        raise RuleError(f"{at}: unknown field {sorted(extra)[0]!r}")
    for key in ("title", "relation", "severity", "citation"):
        if key not in raw:
            raise RuleError(f"{at}: missing field {key!r}")
    relation = raw["relation"]
    if relation not in relations:
        raise RuleError(f"{at}: relation {relation!r} is not one of {', '.join(relations)}")
    severity = raw["severity"]
    if severity not in SEVERITIES:
        raise RuleError(f"{at}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    citation = parse_citation(raw["citation"], at)
    remedy = parse_remedy(raw["remedy"], at) if "remedy" in raw else None
    sides = _sides(raw, relations[relation], at)
    params = _params(raw, relations[relation], at)
    min_area = raw.get("min_area_m2", DEFAULT_MIN_AREA_M2)
    if not isinstance(min_area, int | float) or min_area < 0:
        raise RuleError(f"{at}: min_area_m2 must be a number ≥ 0 (m²)")

    return Rule(
        id=rid,
        title=str(raw["title"]),
        title_en=str(raw.get("title_en", "")),
        relation=relation,
        severity=severity,
        citation=citation,
        remedy=remedy,
        min_area_m2=float(min_area),
        params=params,
        note=str(raw.get("note", "")),
        pack=pack,
        **sides,
    )


def _sides(raw: dict, relation: Relation, at: str) -> dict[str, Any]:
    """The sides ``relation`` takes, read from the rule; others given are ignored."""
    sides: dict[str, Any] = {}
    for name in relation.sides:
        if name not in raw:
            raise RuleError(f"{at}: missing field {name!r}")
        if name == "layers":
            sides[name] = tuple(_side(s, f"{at}: layers[{i}]") for i, s in enumerate(raw[name]))
        else:
            sides[name] = _side(raw[name], f"{at}: {name}")
    return sides


def _params(raw: dict, relation: Relation, at: str) -> dict[str, Any]:
    """The parameters ``relation`` takes, checked against its entry."""
    params = {}
    for param in relation.params:
        value = raw.get(param.name)
        if not param.accepts(value):
            raise RuleError(f"{at}: {relation.name} needs {param.needed()}")
        params[param.name] = param.type(value)
    return params


def parse_pack(text: str, source: str) -> RulePack:
    """Parse the text of a rule pack.

    Raises
    ------
    RuleError
        Naming the pack, the rule and the field that is wrong.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{source}: not a valid TOML file ({exc})") from None
    extra = set(data) - {"pack", "rules"}
    if extra:
        raise RuleError(f"{source}: unknown table {sorted(extra)[0]!r}")
    meta = data.get("pack", {})
    extra = set(meta) - _PACK_KEYS if isinstance(meta, dict) else {"pack"}
    if extra:
        raise RuleError(f"{source}: [pack] has unknown key {sorted(extra)[0]!r}")
    name = str(meta.get("name", Path(source).stem))
    rules_raw = data.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise RuleError(f"{source}: no [[rules]]")
    rules = tuple(_rule(raw, name, source, i) for i, raw in enumerate(rules_raw))
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"{source}: rule id {rule.id!r} appears twice")
        seen.add(rule.id)
    return RulePack(name=name, rules=rules, title=str(meta.get("title", "")))


def builtin_packs() -> list[str]:
    """Names of the rule packs that ship with geoplan."""
    folder = resources.files("geoplan.analysis") / "packs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_pack(name_or_path: str | os.PathLike) -> RulePack:
    """Load a built-in pack by name, or a pack file by path.

    Raises
    ------
    RuleError
        Unknown pack, unreadable file, or a malformed rule.
    """
    value = str(name_or_path)
    if value in builtin_packs():
        resource = resources.files("geoplan.analysis") / "packs" / f"{value}.toml"
        return parse_pack(resource.read_text(encoding="utf-8"), f"{value} (built-in)")
    path = Path(value)
    if not path.is_file():
        raise RuleError(f"{value}: no such rule pack; built-in packs: {', '.join(builtin_packs())}")
    return parse_pack(path.read_text(encoding="utf-8"), str(path))


def pack_rules(packs: list[str] | tuple[str, ...]) -> list[Rule]:
    """Every rule of several packs, in pack order.

    Raises
    ------
    RuleError
        Unknown pack, malformed rule, or a rule id defined by two packs.
    """
    rules: list[Rule] = []
    for pack in packs:
        rules.extend(load_pack(pack).rules)
    ids = [r.id for r in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuleError(f"rule id {duplicates[0]!r} is defined by more than one pack")
    return rules


def check_rule_ids(ids: Iterable[str], rules: list[Rule], what: str) -> None:
    """Refuse a rule id that none of ``rules`` has.

    Parameters
    ----------
    ids : iterable of str
        Rule ids; ``"*"`` (every rule) is always known.
    rules : list of Rule
    what : str
        Where the ids come from, to start the message (``--disable``,
        ``project.toml [rules] disable`` …).

    Raises
    ------
    RuleError
    """
    known = {r.id for r in rules} | {"*"}
    for rid in ids:
        if rid not in known:
            packs = ", ".join(dict.fromkeys(r.pack for r in rules)) or "none"
            raise RuleError(f"{what}: no rule {rid!r} in packs {packs}")


def select_rules(
    rules: list[Rule],
    *,
    disabled: tuple[str, ...] | list[str] = (),
    min_area_m2: dict[str, float] | None = None,
) -> list[Rule]:
    """``rules`` less the disabled ones, with sliver tolerance overrides (m²; ``"*"``: all)."""
    overrides = min_area_m2 or {}
    out = []
    for rule in rules:
        if rule.id in disabled:
            continue
        tolerance = overrides.get(rule.id, overrides.get("*"))
        out.append(rule if tolerance is None else replace(rule, min_area_m2=float(tolerance)))
    return out


def load_rules(
    packs: list[str] | tuple[str, ...],
    *,
    disabled: tuple[str, ...] | list[str] = (),
    min_area_m2: dict[str, float] | None = None,
) -> list[Rule]:
    """The rules of several packs, less the disabled ones, with tolerance overrides.

    Parameters
    ----------
    packs : sequence of str
        Built-in pack names or pack file paths.
    disabled : sequence of str
        Rule ids to leave out. An id that no pack has is an error.
    min_area_m2 : dict of str to float, optional
        Sliver tolerance per rule id (m²); the key ``"*"`` sets every rule.

    Returns
    -------
    list of Rule
    """
    rules = pack_rules(packs)
    check_rule_ids([*disabled, *(min_area_m2 or {})], rules, "disable / min_area_m2")
    return select_rules(rules, disabled=disabled, min_area_m2=min_area_m2)
