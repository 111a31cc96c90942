"""``geoplan site``: one proposed site against every layer and rule of a project."""

from __future__ import annotations

import json
import time

import click

from geoplan.analysis.cli.check_cmd import EXIT_CONFLICTS
from geoplan.analysis.cli.options import CRS_TYPE, fail_on_opt, json_opt
from geoplan.analysis.cli.summary import fmt_number
from geoplan.analysis.cli.table import format_table
from geoplan.analysis.run import CheckOptions, project_rules
from geoplan.analysis.site import check_site, parse_wkt, read_site
from geoplan.geo.errors import GeometryError
from geoplan.layers.catalog import KINDS
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project
from geoplan.layers.vocabulary import reaches


def _values(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: expected FIELD=VALUE", param_hint="--set")
        out[name] = value
    return out


def _wkt(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--wkt`` parsed and checked before any work (see :func:`analysis.site.parse_wkt`)."""
    if value is None:
        return None
    try:
        return parse_wkt(value)
    except GeometryError as exc:
        raise click.BadParameter(str(exc).removeprefix("--wkt: "), ctx, param) from None


@click.command()
@click.argument("site_file", required=False, type=click.Path(dir_okay=True, path_type=str))
@click.option(
    "--project",
    "project_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="The project to check against.",
)
@click.option(
    "--wkt", callback=_wkt, help="The site as WKT (a POLYGON or MULTIPOLYGON) instead of a file."
)
@click.option(
    "--crs",
    type=CRS_TYPE,
    help="CRS of the site's coordinates if the file has none (or for --wkt).",
)
@click.option(
    "--as",
    "as_kind",
    default="parks",
    show_default=True,
    type=click.Choice(sorted(k for k, v in KINDS.items() if v.family == "polygon")),
    help="The layer kind the site stands in for.",
)
@click.option(
    "--set",
    "values",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A standard field of the site, e.g. --set kind=化工园区 --set chemical=是; repeatable.",
)
@click.option("--rules", "packs", multiple=True, metavar="PACK", help="Rule pack; repeatable.")
@json_opt
@fail_on_opt
@click.pass_context
def site(
    ctx: click.Context,
    site_file,
    project_file,
    wkt,
    crs,
    as_kind,
    values,
    packs,
    as_json,
    fail_on,
) -> None:
    """Check one proposed site (SITE_FILE, or --wkt) against every layer and rule of a project.

    Lists the features it touches with the shared areas, the townships it
    falls in, and the rules it would break.
    """
    if (site_file is None) == (wkt is None):
        raise click.UsageError("give a SITE_FILE or --wkt (one of them)")
    project = read_project(project_file)
    _, rules = project_rules(project, CheckOptions(packs=tuple(packs) or None))
    loaded = load_project(project)
    start = time.perf_counter()
    site_frame = read_site(site_file, wkt, crs, loaded.crs)
    result = check_site(loaded, site_frame, rules, kind=as_kind, values=_values(values))
    seconds = time.perf_counter() - start
    data = result.as_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        s = data["site"]
        click.echo(
            f"site as {as_kind}: {s['features']} polygon(s), {fmt_number(s['area_mu'])} 亩 "
            f"({fmt_number(s['area_ha'], 4)} 公顷); checked in {seconds:.2f} s"
        )
        click.echo("")
        click.echo(
            format_table(
                [
                    [
                        t["title"],
                        t["name"],
                        t["county"],
                        t["function_type"],
                        fmt_number(t["area_mu"]),
                    ]
                    for t in data["touches"]
                ],
                ["layer", "feature", "county", "function type", "shared 亩"],
            )
        )
        click.echo("")
        broken = [r for r in data["rules"] if r["conflicts"]]
        if broken:
            click.echo(
                format_table(
                    [[r["rule_id"], r["title"], r["severity"], r["conflicts"]] for r in broken],
                    ["rule", "规则", "severity", "conflicts"],
                )
            )
        else:
            click.echo("no rule broken")
    if reaches((c["severity"] for c in data["conflicts"]), fail_on):
        ctx.exit(EXIT_CONFLICTS)
