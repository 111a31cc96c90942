"""``geoplan site``: one proposed site against every layer and rule of a project."""

from __future__ import annotations

import json
import time

import click
import shapely

from geoplan.analysis.cli.check_cmd import EXIT_CONFLICTS
from geoplan.analysis.cli.options import (
    PROJECT_PATH,
    deprecated,
    fail_on_opt,
    json_opt,
    rules_opt,
    src_crs_opt,
)
from geoplan.analysis.reports.format import number
from geoplan.analysis.reports.terminal import format_table
from geoplan.analysis.run import CheckOptions, project_rules
from geoplan.analysis.site import check_site, parse_wkt, read_site
from geoplan.geo.errors import GeometryError
from geoplan.layers.catalog import KINDS
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project
from geoplan.layers.vocabulary import reaches


def _values(ctx: click.Context, param: click.Parameter, pairs: tuple[str, ...]) -> dict[str, str]:
    """``--set FIELD=VALUE`` (repeated) as a dict, checked before any work."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: expected FIELD=VALUE", ctx, param)
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


def _project_and_site(
    project_file: str | None, site_file: str | None, deprecated_project: str | None
) -> tuple[str, str | None]:
    """The project file and the site file, from the arguments or the deprecated ``--project``.

    With ``--project``, the one argument given (if any) is the site file, as before.
    """
    if deprecated_project is None:
        if project_file is None:
            raise click.UsageError("Missing argument 'PROJECT.toml'.")
        return project_file, site_file
    if site_file is not None:
        raise click.UsageError("give the project once: as PROJECT.toml, not also --project")
    return deprecated_project, project_file


@click.command()
# optional only while the deprecated --project is accepted
@click.argument("project_file", metavar="PROJECT.toml", required=False, type=PROJECT_PATH)
@click.argument("site_file", required=False, type=click.Path(dir_okay=True, path_type=str))
@click.option(
    "--project",
    "deprecated_project",
    type=PROJECT_PATH,
    hidden=True,
    callback=deprecated("the first argument: geoplan site PROJECT.toml [SITE_FILE]"),
)
@click.option(
    "--wkt", callback=_wkt, help="The site as WKT (a POLYGON or MULTIPOLYGON) instead of a file."
)
@src_crs_opt
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
    callback=_values,
    help="A standard field of the site, e.g. --set kind=化工园区 --set chemical=是; repeatable.",
)
@rules_opt
@json_opt
@fail_on_opt
@click.pass_context
def site(
    ctx: click.Context,
    project_file: str | None,
    site_file: str | None,
    deprecated_project: str | None,
    wkt: shapely.Geometry | None,
    src_crs: str | None,
    as_kind: str,
    values: dict[str, str],
    packs: tuple[str, ...] | None,
    as_json: bool,
    fail_on: str,
) -> None:
    """Check one proposed site (SITE_FILE, or --wkt) against every layer and rule of PROJECT.toml.

    Lists the features it touches with the shared areas, the townships it
    falls in, and the rules it would break. (--project PROJECT.toml after the
    site is deprecated: give the project as the first argument.)
    """
    project_file, site_file = _project_and_site(project_file, site_file, deprecated_project)
    if (site_file is None) == (wkt is None):
        raise click.UsageError("give a SITE_FILE or --wkt (one of them)")
    project = read_project(project_file)
    _, rules = project_rules(project, CheckOptions(packs=packs))
    loaded = load_project(project)
    start = time.perf_counter()
    site_frame = read_site(site_file, wkt, src_crs, loaded.crs)
    result = check_site(loaded, site_frame, rules, kind=as_kind, values=values)
    seconds = time.perf_counter() - start
    data = result.as_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        s = data["site"]
        click.echo(
            f"site as {as_kind}: {s['features']} polygon(s), {number(s['area_mu'])} 亩 "
            f"({number(s['area_ha'], 4)} 公顷); checked in {seconds:.2f} s"
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
                        number(t["area_mu"]),
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
