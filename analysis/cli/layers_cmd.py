"""``geoplan layers``: the inventory of a project's layers."""

from __future__ import annotations

import json

import click

from geoplan.analysis.cli.options import json_opt, project_arg
from geoplan.analysis.reports.terminal import format_table
from geoplan.layers.inventory import inventory
from geoplan.layers.loader import LoadedProject, load_project
from geoplan.layers.project import read_project


def inventory_table(loaded: LoadedProject) -> str:
    """The inventory as a text table, with the repair notes below it."""
    rows = inventory(loaded)
    body = [
        [
            r["kind"],
            r["title"],
            r["source_crs"],
            r["features"],
            r["repaired"],
            r["dropped"],
            r["area_km2"],
            r["area_wanmu"],
            r["length_km"],
            "-"
            if r["stored_area_off"] is None
            else f"{r['stored_area_off']} ({r['stored_area_unit']})",
        ]
        for r in rows
    ]
    header = [
        "kind",
        "图层",
        "source CRS",
        "features",
        "repaired",
        "dropped",
        "km²",
        "万亩",
        "length km",
        "stored area >1% off",
    ]
    lines = [f"{loaded.project.name} — working CRS EPSG:{loaded.crs.to_epsg()}", ""]
    lines.append(format_table(body, header))
    lines.append("")
    for r in rows:
        lines.append(f"{r['kind']}: {r['source']} ({r['driver']})")
        if r["fields"]:
            mapped = ", ".join(f"{name} ← {column}" for name, column in r["fields"].items())
            lines.append(f"  - fields: {mapped}")
        lines.extend(f"  - {note}" for note in r["notes"])
    return "\n".join(lines)


@click.command()
@project_arg
@json_opt
def layers(project_file: str, as_json: bool) -> None:
    """Inventory of the layers of PROJECT.toml: source, CRS, counts, repairs, areas."""
    loaded = load_project(read_project(project_file))
    if as_json:
        click.echo(json.dumps(inventory(loaded), ensure_ascii=False, indent=2))
    else:
        click.echo(inventory_table(loaded))
