"""Options shared by the subcommands."""

from __future__ import annotations

import click

from analysis.rules import SEVERITIES

overwrite_opt = click.option(
    "--overwrite", is_flag=True, help="Replace outputs that already exist."
)
json_opt = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
project_arg = click.argument(
    "project_file", metavar="PROJECT.toml", type=click.Path(dir_okay=False, path_type=str)
)
out_dir_opt = click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Folder to write the outputs into.",
)


def conflicts_opt(purpose: str):
    """``--conflicts FILE``: the conflicts of an earlier check, for ``purpose``."""
    return click.option(
        "--conflicts",
        "conflicts_file",
        type=click.Path(dir_okay=False, path_type=str),
        help=f"conflicts.gpkg of a check run, {purpose}.",
    )


fail_on_opt = click.option(
    "--fail-on",
    type=click.Choice([*SEVERITIES, "never"]),
    default="prohibited",
    show_default=True,
    help="Exit 1 when a conflict of this severity or worse is found.",
)


def basemap_options(f):
    """``--basemap``, ``--tianditu-key`` and ``--basemap-gcj02``, passed on as ``basemap``."""
    options = [
        click.option(
            "--basemap",
            default="none",
            show_default=True,
            metavar="none|osm|tianditu|amap|URL",
            help="Basemap of map.html; tiles are fetched only when one is chosen. "
            "URL: an XYZ template with {z}, {x}, {y}, e.g. an intranet tile server.",
        ),
        click.option(
            "--tianditu-key",
            envvar="GEOPLAN_TIANDITU_KEY",
            metavar="TK",
            help="天地图 key for --basemap tianditu (or GEOPLAN_TIANDITU_KEY).",
        ),
        click.option(
            "--basemap-gcj02",
            is_flag=True,
            help="The tiles of a --basemap URL are in GCJ-02 (shift the overlays to match).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def export_options(f):
    """``--crs`` and ``--encoding`` of GIS exports."""
    options = [
        click.option(
            "--crs",
            "export_crs",
            metavar="CRS",
            help="CRS of the exported layers, e.g. EPSG:4490 (default: the working CRS; "
            "GeoJSON and KML are always EPSG:4326).",
        ),
        click.option(
            "--encoding",
            "export_encoding",
            type=click.Choice(["utf-8", "gbk"], case_sensitive=False),
            default="utf-8",
            show_default=True,
            help="Shapefile text encoding (gbk for older ArcGIS); written to the .cpg.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f
