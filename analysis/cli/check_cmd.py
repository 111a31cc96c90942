"""``geoplan check``: evaluate a project's rules and write the outputs."""

from __future__ import annotations

from pathlib import Path

import click

from geoplan.analysis.cli.options import (
    RuleTolerance,
    basemap_options,
    export_options,
    fail_on_opt,
    out_dir_opt,
    overwrite_opt,
    project_arg,
)
from geoplan.analysis.cli.outputs import staged_outputs
from geoplan.analysis.cli.summary import summary_text
from geoplan.analysis.run import (
    OUTPUT_NAMES,
    CheckOptions,
    ExportOptions,
    check_project,
    write_outputs_into,
)
from geoplan.geo.export import FORMATS
from geoplan.layers.project import read_project
from geoplan.layers.vocabulary import reaches
from geoplan.maps import basemaps

EXIT_CONFLICTS = 1


def run_options(f):
    """The options ``check`` and ``demo`` share."""
    options = [
        click.option(
            "--rules",
            "packs",
            multiple=True,
            metavar="PACK",
            help="Rule pack (built-in name or .toml file) instead of the project's; repeatable.",
        ),
        click.option(
            "--disable", multiple=True, metavar="RULE_ID", help="Leave a rule out; repeatable."
        ),
        click.option(
            "--min-area",
            "min_area",
            multiple=True,
            type=RuleTolerance(),
            help="Sliver tolerance in m², for one rule or (without RULE_ID=) all; repeatable.",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="A rule needing a layer or field the project lacks is an error, not skipped.",
        ),
        click.option(
            "--export",
            "export_formats",
            multiple=True,
            type=click.Choice(list(FORMATS)),
            help="Also export the layers and conflicts into export/ in this GIS format; "
            "repeatable.",
        ),
        overwrite_opt,
        out_dir_opt,
    ]
    for option in reversed(options):
        f = option(f)
    return basemap_options(export_options(f))


def execute(ctx: click.Context, project, out_dir: str, run: dict):
    """Run a check and write its outputs; print the summary and the output paths.

    ``run`` holds the values of :func:`run_options`.
    """
    quiet = ctx.obj.get("quiet")
    overwrite = run["overwrite"]
    chosen = basemaps.basemap(run["basemap"], key=run["tianditu_key"], gcj02=run["basemap_gcj02"])
    export = ExportOptions(
        formats=tuple(run["export_formats"]),
        crs=run["export_crs"],
        encoding=run["export_encoding"].upper(),
    )
    options = CheckOptions(
        packs=tuple(run["packs"]) or None,
        disabled=tuple(run["disable"]),
        min_area_m2=dict(run["min_area"]),
        strict=run["strict"],
    )
    progress = None if quiet else (lambda message: click.echo(f"geoplan: {message}", err=True))
    # opened before the check runs, so an unusable output folder is found first
    with staged_outputs(out_dir, list(OUTPUT_NAMES), overwrite=overwrite) as staging:
        result = check_project(project, options, progress=progress)
        written = write_outputs_into(result, staging, basemap=chosen, export=export)
    if not quiet:
        click.echo(summary_text(result))
        click.echo("")
    click.echo("outputs:")
    for name in written:
        click.echo(f"  {(Path(out_dir) / name).resolve()}")
    return result


@click.command()
@project_arg
@run_options
@fail_on_opt
@click.pass_context
def check(ctx: click.Context, project_file: str, out_dir: str, fail_on: str, **run) -> None:
    """Check PROJECT.toml against its rule packs; write layers, conflicts, map, report to --out.

    Exit status: 0 no conflict at or above --fail-on, 1 such conflicts, 2 bad input.
    """
    result = execute(ctx, read_project(project_file), out_dir, run)
    if reaches(result.conflicts["severity"], fail_on):
        ctx.exit(EXIT_CONFLICTS)
