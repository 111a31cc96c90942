"""Options shared by the subcommands, and the parameter types that check values.

A value given on the command line is checked when click parses it, before
any work: a bad one is a usage error (exit 2) naming the option.
"""

from __future__ import annotations

import math
from typing import Any

import click

from geoplan.geo.crs import to_crs
from geoplan.geo.errors import CRSError
from geoplan.layers.vocabulary import SEVERITIES


class CRSType(click.ParamType):
    """A CRS pyproj resolves (``EPSG:4490``, a PROJ string, WKT); passed on as given."""

    name = "CRS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        """Check ``value`` with pyproj; fail with pyproj's reason on one line."""
        try:
            to_crs(value)
        except CRSError as exc:
            self.fail(" ".join(str(exc).split()), param, ctx)
        return value


class FiniteFloat(click.ParamType):
    """A finite number (no ``nan``, ``inf``), at least ``minimum`` if one is given."""

    name = "NUMBER"

    def __init__(self, minimum: float | None = None):
        self.minimum = minimum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """``value`` as a float; fail on text, ``nan``, ``inf`` or below ``minimum``."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.minimum is not None and number < self.minimum:
            self.fail(f"{value!r} is less than {self.minimum:g}", param, ctx)
        return number


class RuleTolerance(click.ParamType):
    """``RULE_ID=M2`` or ``M2`` (every rule): a sliver tolerance, finite and ≥ 0 m².

    Converts to ``(rule id or "*", m²)``.
    """

    name = "[RULE_ID=]M2"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, float]:
        """Split ``RULE_ID=M2``; fail on an empty RULE_ID or a bad number."""
        if isinstance(value, tuple):
            return value
        rule, sep, number = str(value).rpartition("=")
        if sep and not rule.strip():
            self.fail(f"{value!r}: no RULE_ID before '='; give RULE_ID=M2 or M2", param, ctx)
        try:
            m2 = FiniteFloat(minimum=0).convert(number, param, ctx)
        except click.BadParameter as exc:
            self.fail(f"{value!r}: {exc.message}; give RULE_ID=M2 or M2 (m², ≥ 0)", param, ctx)
        return rule.strip() or "*", m2


CRS_TYPE = CRSType()

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
            type=CRS_TYPE,
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
