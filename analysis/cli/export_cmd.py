"""``geoplan export``: a project's layers and conflicts in GIS formats."""

from __future__ import annotations

from pathlib import Path

import click

from geoplan.analysis.cli.options import conflicts_opt, export_options, overwrite_opt, project_arg
from geoplan.analysis.cli.outputs import option_hints, staged_outputs
from geoplan.analysis.run import (
    CheckOptions,
    ExportOptions,
    check_project,
    export_frames,
    export_to,
    read_conflicts,
)
from geoplan.geo.export import FORMATS, export_names
from geoplan.geo.postgis import check_name, write_postgis
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project
from geoplan.layers.project_types import Project


def _frames(project: Project, conflicts_file: str | None) -> dict:
    """The layers as loaded and the conflicts (of ``--conflicts``, else of the rules), to export."""
    if conflicts_file:
        loaded = load_project(project)
        conflicts = read_conflicts(conflicts_file, loaded.crs)
    else:
        result = check_project(project, CheckOptions())
        loaded, conflicts = result.loaded, result.conflicts
    return export_frames(loaded, conflicts)


@click.command("export")
@project_arg
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=str),
    help="Folder to write files into (with --format).",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(list(FORMATS)),
    help="GIS format; repeatable. gpkg and gdb hold every layer in one file.",
)
@click.option(
    "--to",
    "database",
    metavar="postgresql://USER@HOST/DB",
    help="Write the layers to PostGIS tables instead (password: the URL or PGPASSWORD).",
)
@click.option("--schema", default="public", show_default=True, help="PostGIS schema.")
@click.option("--table-prefix", default="", help="Put before every PostGIS table name.")
@conflicts_opt("exported instead of running the rules")
@export_options
@overwrite_opt
@click.pass_context
def export_command(
    ctx: click.Context,
    project_file: str,
    out_dir: str | None,
    formats: tuple[str, ...],
    database: str | None,
    schema: str,
    table_prefix: str,
    conflicts_file: str | None,
    dst_crs: str | None,
    encoding: str,
    overwrite: bool,
) -> None:
    """Export PROJECT.toml's layers, as loaded, and its conflicts: files or PostGIS.

    Files: --out DIR --format F (repeatable). PostGIS: --to URL [--schema S]
    [--table-prefix P]; one table per layer, written in one transaction, with
    a GiST index. The conflicts come from running the project's rules, or
    from --conflicts.
    """
    to_files = out_dir is not None or bool(formats)
    if (database and to_files) or (not database and (out_dir is None or not formats)):
        raise click.UsageError("give --out DIR with --format, or --to postgresql://…")
    project = read_project(project_file)
    kinds = [*project.layers, "conflicts"]
    if database:
        check_name(schema, "schema")
        for kind in kinds:
            check_name(f"{table_prefix}{kind}", "table")
        frames = _frames(project, conflicts_file)
        if dst_crs:
            frames = {name: frame.to_crs(dst_crs) for name, frame in frames.items()}
        with option_hints():
            tables = write_postgis(
                frames, database, schema=schema, prefix=table_prefix, overwrite=overwrite
            )
        click.echo("exported to PostGIS:")
        for table in tables:
            click.echo(f"  {table}")
        return
    stem = Path(project_file).stem
    names = [name for fmt in formats for name in export_names(kinds, fmt, stem)]
    options = ExportOptions(formats, dst_crs, encoding)
    # opened before the rules run, so an unusable output folder is found first
    with staged_outputs(out_dir, names, overwrite=overwrite) as staging:
        warnings = export_to(_frames(project, conflicts_file), staging, options, stem)
        written = sorted(p.name for p in staging.iterdir())
    for warning in warnings:
        click.echo(f"geoplan: warning: {warning}", err=True)
    click.echo(f"exported to {Path(out_dir).resolve()}:")
    for name in written:
        click.echo(f"  {name}")
