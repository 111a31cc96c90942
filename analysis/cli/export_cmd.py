"""``geoplan export``: a project's layers and conflicts in GIS formats."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.cli.options import export_options, overwrite_opt, project_arg
from analysis.run import (
    CheckOptions,
    ExportOptions,
    check_project,
    export_frames,
    export_to,
    read_conflicts,
)
from geo.export import FORMATS, export_names
from geo.io import atomic_outputs, refuse_existing
from layers.loader import load_project
from layers.project import read_project


@click.command("export")
@project_arg
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Folder to write into.",
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    required=True,
    type=click.Choice(list(FORMATS)),
    help="GIS format; repeatable. gpkg and gdb hold every layer in one file.",
)
@click.option(
    "--conflicts",
    "conflicts_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="Export these conflicts (conflicts.gpkg of a check) instead of running the rules.",
)
@export_options
@overwrite_opt
@click.pass_context
def export_command(
    ctx: click.Context,
    project_file: str,
    out_dir: str,
    formats: tuple[str, ...],
    conflicts_file: str | None,
    export_crs: str | None,
    export_encoding: str,
    overwrite: bool,
) -> None:
    """Export PROJECT.toml's layers, as loaded, and its conflicts to --out.

    The conflicts come from running the project's rules, or from --conflicts.
    """
    project = read_project(project_file)
    options = ExportOptions(formats, export_crs, export_encoding.upper())
    kinds = [*project.layers, "conflicts"]
    stem = Path(project_file).stem
    names = [name for fmt in formats for name in export_names(kinds, fmt, stem)]
    refuse_existing(Path(out_dir), names, overwrite=overwrite)
    if conflicts_file:
        loaded = load_project(project)
        conflicts = read_conflicts(conflicts_file, loaded.crs)
    else:
        result = check_project(project, CheckOptions())
        loaded, conflicts = result.loaded, result.conflicts
    with atomic_outputs(Path(out_dir), names, overwrite=overwrite) as staging:
        warnings = export_to(export_frames(loaded, conflicts), staging, options, stem)
        written = sorted(p.name for p in staging.iterdir())
    for warning in warnings:
        click.echo(f"geoplan: warning: {warning}", err=True)
    click.echo(f"exported to {Path(out_dir).resolve()}:")
    for name in written:
        click.echo(f"  {name}")
