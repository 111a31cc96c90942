"""``geoplan kinds``: the layer kinds a project file can name, and their fields."""

from __future__ import annotations

import json

import click

from geoplan.analysis.cli.options import json_opt
from geoplan.analysis.reports.terminal import format_table
from geoplan.layers.catalog import KINDS, describe_kind, get_kind


def kinds_table() -> str:
    """One line per kind: name, Chinese name, geometry, usual tables, required fields."""
    body = [
        [
            d["kind"],
            d["title"],
            d["family"],
            ", ".join(d["layer_names"]) or "-",
            ", ".join(f["name"] for f in d["fields"] if f["required"]) or "-",
        ]
        for d in map(describe_kind, KINDS.values())
    ]
    return format_table(body, ["kind", "图层", "geometry", "usual tables", "required fields"])


def fields_table(name: str) -> str:
    """The fields of one kind with the source names recognised without a field map."""
    d = describe_kind(get_kind(name))
    body = [
        [
            f["name"],
            f["title"],
            f["type"],
            "yes" if f["required"] else "",
            ", ".join(f["aliases"]),
            ", ".join(f["allowed"] or []) or "-",
        ]
        for f in d["fields"]
    ]
    tables = ", ".join(d["layer_names"]) or "none; name the layer"
    head = f"{d['kind']} — {d['title']} ({d['title_en']}), {d['family']}; usual tables: {tables}"
    table = format_table(body, ["field", "名称", "type", "required", "read from", "values"])
    return f"{head}\n\n{table}"


@click.command("kinds")
@click.argument("kind", required=False)
@json_opt
def kinds_command(kind: str | None, as_json: bool) -> None:
    """The layer kinds a project file can name; with KIND, its fields and their aliases.

    A source field whose name is listed under "read from" (any case) is mapped
    without a ``fields = {...}`` entry; a multi-layer source needs no
    ``layer`` when one of its tables has a usual name.
    """
    if as_json:
        kinds = [get_kind(kind)] if kind else list(KINDS.values())
        click.echo(json.dumps([describe_kind(k) for k in kinds], ensure_ascii=False, indent=2))
    else:
        click.echo(fields_table(kind) if kind else kinds_table())
