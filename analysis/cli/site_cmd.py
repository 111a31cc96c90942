"""``geoplan site``: one proposed site against every layer and rule of a project, as a decision.

Prints the verdict (不可行 / 需调整 / 可行) first, then what the site takes,
the distances, the terrain and every rule that applies; ``--out`` writes the
memo (:mod:`analysis.site_memo`), ``--export-coords`` the site as a 界址点坐标
file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
import shapely

from geoplan.analysis.cli.check_cmd import EXIT_CONFLICTS
from geoplan.analysis.cli.options import (
    PROJECT_PATH,
    deprecated,
    fail_on_opt,
    json_opt,
    overwrite_opt,
    rules_opt,
    src_crs_opt,
)
from geoplan.analysis.cli.outputs import staged_outputs
from geoplan.analysis.run import CheckOptions, project_rules
from geoplan.analysis.site import check_site
from geoplan.analysis.site_input import parse_wkt, read_site
from geoplan.analysis.site_memo import SITE_OUTPUTS, site_json, site_parcels, write_site_memo
from geoplan.analysis.site_review import site_model
from geoplan.analysis.site_terminal import site_text
from geoplan.geo.boundary_points_write import write_boundary_points
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
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=str),
    help="Write the memo into this folder: site.json, site.html, site.docx, site.png, site.txt.",
)
@click.option(
    "--export-coords",
    "export_coords",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write the site as a 界址点坐标 file (GBK, X northing, Y easting with the zone).",
)
@overwrite_opt
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
    out_dir: str | None,
    export_coords: str | None,
    overwrite: bool,
) -> None:
    """Review one proposed site (SITE_FILE, or --wkt) against every layer and rule of PROJECT.toml.

    SITE_FILE is a 界址点坐标 .txt (the 用地预审/报批 exchange format), a point
    table (.csv/.xlsx: 点号, X, Y, 圈号, 地块), a .dxf (closed polylines), a
    .kml/.kmz or any vector file geoplan reads. Answers 不可行 / 需调整 / 可行
    (不可行: a rule at or above --fail-on not met; 需调整: only 限制 rules not
    met), with the areas taken, the townships, the distances and the terrain;
    each parcel of a file of several is also checked alone. Exit 1 when the
    site breaks a rule at or above --fail-on, 2 on bad input or a site
    outside the project. (--project PROJECT.toml after the site is
    deprecated: give the project as the first argument.)
    """
    project_file, site_file = _project_and_site(project_file, site_file, deprecated_project)
    if (site_file is None) == (wkt is None):
        raise click.UsageError("give a SITE_FILE or --wkt (one of them)")
    if (
        out_dir
        and export_coords
        and Path(export_coords).parent.resolve() == Path(out_dir).resolve()
    ):
        raise click.UsageError("--export-coords into the --out folder: the memo holds site.txt")
    project = read_project(project_file)
    _, rules = project_rules(project, CheckOptions(packs=packs))
    verdict_on = "prohibited" if fail_on == "never" else fail_on
    with contextlib.ExitStack() as stack:
        # opened before the check runs, so an unusable output folder is found first
        staging = None
        if out_dir is not None:
            staging = stack.enter_context(
                staged_outputs(out_dir, list(SITE_OUTPUTS), overwrite=overwrite)
            )
        coords_staging = None
        if export_coords is not None:
            target = Path(export_coords)
            coords_staging = stack.enter_context(
                staged_outputs(target.parent, [target.name], overwrite=overwrite)
            )
        loaded = load_project(project)
        site_frame = read_site(site_file, wkt, src_crs, loaded.crs)
        result = check_site(loaded, site_frame, rules, kind=as_kind, values=values)
        parcels = []
        if len(site_frame) > 1:
            for i in range(len(site_frame)):
                alone = check_site(loaded, site_frame.iloc[[i]], rules, kind=as_kind, values=values)
                row = result.site.iloc[i]
                parcels.append((row["parcel_no"] or row["id"], row["name"], alone))
        model = site_model(
            result, fail_on=verdict_on, project=project.name, values=values, parcels=parcels
        )
        written = []
        if staging is not None:
            written = [Path(out_dir) / n for n in write_site_memo(staging, model, result)]
        if coords_staging is not None:
            write_boundary_points(coords_staging / target.name, *site_parcels(result))
            written.append(target)
    if as_json:
        click.echo(site_json(model), nl=False)
    else:
        click.echo(site_text(model))
        if written:
            click.echo("")
            click.echo("outputs:")
            for path in written:
                click.echo(f"  {path.resolve()}")
    if reaches((c["severity"] for c in model["conflicts"]), fail_on):
        ctx.exit(EXIT_CONFLICTS)
