"""``geoplan map``: draw a project's layers (and a check's conflicts) as offline HTML."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from geoplan.analysis.cli.options import basemap_options, conflicts_opt, overwrite_opt, project_arg
from geoplan.analysis.cli.outputs import staged_outputs
from geoplan.analysis.run import read_conflicts, render_map
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project
from geoplan.maps.basemaps import Basemap


@click.command("map")
@project_arg
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="HTML file to write.",
)
@conflicts_opt("drawn on top of the layers")
@basemap_options
@overwrite_opt
@click.pass_context
def map_command(
    ctx: click.Context,
    project_file: str,
    out_file: str,
    conflicts_file: str | None,
    basemap: Basemap,
    overwrite: bool,
) -> None:
    """Draw PROJECT.toml's layers on a self-contained HTML map (no network needed)."""
    project = read_project(project_file)
    out = Path(out_file)
    with staged_outputs(out.parent, [out.name], overwrite=overwrite) as staging:
        loaded = load_project(project)
        conflicts = read_conflicts(conflicts_file, loaded.crs) if conflicts_file else None
        what = "图层与冲突" if conflicts is not None else "图层总览"
        page = render_map(
            loaded,
            conflicts,
            subtitle=f"{what} · {datetime.now().astimezone():%Y-%m-%d %H:%M}",
            basemap=basemap,
        )
        (staging / out.name).write_text(page, encoding="utf-8")
    click.echo(f"map: {click.format_filename(out_file)}")
