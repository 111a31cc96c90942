"""``geoplan rules``: the rules of a pack with their citations, basis and remedies."""

from __future__ import annotations

import json
from typing import Any

import click

from geoplan.analysis.citations import UNCONFIRMED_QUOTE
from geoplan.analysis.cli.options import json_opt
from geoplan.analysis.reports.terminal import format_table
from geoplan.analysis.rules import Rule, RulePack, builtin_packs, load_pack
from geoplan.layers.vocabulary import SEVERITY_TITLES

_BASIS = {"text": "条文", "practice": "实践"}


def rule_data(rule: Rule) -> dict[str, Any]:
    """One rule as plain data: id, titles, relation, severity, sides, params, citation, remedy."""
    return {
        "id": rule.id,
        "title": rule.title,
        "title_en": rule.title_en,
        "relation": rule.relation,
        "severity": rule.severity,
        "sides": {
            name: [s.describe() for s in rule.sides_named((name,))]
            for name in ("left", "right", "layers", "region")
            if rule.sides_named((name,))
        },
        "params": rule.params,
        "min_area_m2": rule.min_area_m2,
        "citation": rule.citation.as_dict(),
        "remedy": rule.remedy.as_dict() if rule.remedy else None,
        "note": rule.note,
    }


def pack_data(pack: RulePack) -> dict[str, Any]:
    """A pack as plain data: its name, title and rules."""
    return {"name": pack.name, "title": pack.title, "rules": [rule_data(r) for r in pack.rules]}


def rules_table(pack: RulePack) -> str:
    """The pack's rules in Chinese: id, title, relation, severity, citation, quote, remedy."""
    body = [
        [
            r.id,
            r.title,
            r.relation,
            SEVERITY_TITLES[r.severity],
            " ".join(p for p in (r.citation.document, r.citation.article) if p),
            _BASIS[r.citation.basis],
            r.citation.shown_quote,
            r.remedy.text if r.remedy else "-",
        ]
        for r in pack.rules
    ]
    header = ["规则编号", "标题", "关系", "严重程度", "依据", "依据类型", "原文", "处置建议"]
    title = f"{pack.name}：{pack.title}" if pack.title else pack.name
    return f"{title}\n\n{format_table(body, header)}"


@click.command("rules")
@click.argument("pack", required=False)
@json_opt
def rules_command(pack: str | None, as_json: bool) -> None:
    """The rules of PACK (a built-in name or a .toml path; default every built-in pack).

    Each rule with its citation (document and article), basis (条文: stated in
    the text; 实践: derived practice), quote (or 「原文待核」 where not
    confirmed) and remedy.
    """
    packs = [load_pack(pack)] if pack else [load_pack(name) for name in builtin_packs()]
    if as_json:
        data = [pack_data(p) for p in packs]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo("\n\n".join(rules_table(p) for p in packs))
        if any(not r.citation.quote_confirmed for p in packs for r in p.rules):
            click.echo(f"\n{UNCONFIRMED_QUOTE}: 原文未经公开来源逐字核对，仅引用条目。")
