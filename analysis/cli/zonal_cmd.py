"""``geoplan zonal``: statistics of a project raster over a layer's features."""

from __future__ import annotations

import json

import click

from geoplan.analysis.cli.options import json_opt, project_arg
from geoplan.analysis.cli.param_types import FiniteFloat
from geoplan.analysis.reports.terminal import format_table
from geoplan.geo.terrain import MEASURES
from geoplan.geo.zonal import STATS, zonal_stats
from geoplan.layers.errors import ProjectError
from geoplan.layers.loader import load_project
from geoplan.layers.project import read_project


@click.command("zonal")
@project_arg
@click.option("--raster", default="dem", show_default=True, help="A [rasters] entry.")
@click.option("--layer", "kind", default="townships", show_default=True, help="Layer kind.")
@click.option("--measure", type=click.Choice(MEASURES), default="elevation", show_default=True)
@click.option(
    "--stats",
    default="mean,min,max,p50",
    show_default=True,
    help=f"Comma-separated, from: {', '.join(STATS)} (pNN: percentile).",
)
@click.option("--threshold", type=FiniteFloat(), help="Also the covered share above this value.")
@json_opt
def zonal_command(
    project_file: str,
    raster: str,
    kind: str,
    measure: str,
    stats: str,
    threshold: float | None,
    as_json: bool,
) -> None:
    """Zonal statistics of a raster over a layer (cells weighted by the fraction covered).

    Slope and aspect (degrees) are computed from the raster as a DEM.
    """
    project = read_project(project_file)
    if raster not in project.rasters:
        raise ProjectError(f"{project.path}: no [rasters.{raster}]")
    if kind not in project.layers:
        raise ProjectError(f"{project.path}: no [layers.{kind}]")
    spec = project.rasters[raster]
    info = spec.info()
    frame = load_project(project, kinds=[kind]).frame(kind)
    chosen = tuple(s.strip() for s in stats.split(",") if s.strip())
    table = zonal_stats(info, frame, measure=measure, stats=chosen, threshold=threshold)
    labels = frame[["id", "name"]] if "name" in frame else frame[["id"]]
    table = labels.join(table).reset_index(drop=True)
    if as_json:
        records = table.astype(object).where(table.notna(), None).to_dict("records")
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    rows = [
        [v if not isinstance(v, float) else round(v, 2) for v in row]
        for row in table.itertuples(index=False)
    ]
    click.echo(format_table(rows, list(table.columns)))
