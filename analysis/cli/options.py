"""The registry of the options the subcommands share: one meaning per name.

After rasterio's ``rio/options.py``, an option is declared once here and a
name means the same in every command that takes it:

- ``PROJECT.toml``: the project file, always the first argument.
- ``--out``: where the outputs go: a folder (``check``, ``demo``,
  ``export``) or the HTML file (``map``).
- ``--dst-crs``: the CRS outputs are written in.
- ``--src-crs``: the CRS of coordinates given on the command line (or in a
  file that has none).
- ``--rules``: a rule pack instead of the project's; repeatable.
- ``--conflicts``: the ``conflicts.gpkg`` of an earlier check.
- ``--overwrite``: replace outputs that exist; ``--json``: JSON, not a table.
- ``--workers`` / ``--scheduler``: run the check's rules on a dask cluster
  (``check``, ``demo``).

``--crs`` is kept for one release as a deprecated alias of ``--dst-crs`` or
``--src-crs`` (whichever the command takes), as ``site --project`` is of the
first argument: they work, with a one-line warning naming the new form.

Values are checked as click parses them (see :mod:`analysis.cli.param_types`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from geoplan.analysis.cli.param_types import CRSType, RuleTolerance
from geoplan.analysis.run import CheckOptions, Cluster, ExportOptions
from geoplan.geo.export import FORMATS
from geoplan.layers.vocabulary import SEVERITIES
from geoplan.maps import basemaps

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


CRS_TYPE = CRSType()
PROJECT_PATH = click.Path(dir_okay=False, path_type=str)


def warn_deprecated(old: str, new: str) -> None:
    """Print the one-line warning (on stderr) that ``old`` is deprecated for ``new``."""
    click.echo(
        f"geoplan: warning: {old} is deprecated and goes in the next release; use {new}", err=True
    )


def deprecated(new: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback for an option kept one release: warns, naming ``new``, when given."""

    def warn(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None and not ctx.resilient_parsing:
            warn_deprecated(param.opts[0], new)
        return value

    return warn


def _crs_option(name: str, help_text: str) -> Decorator:
    """The CRS option ``name`` and, for one release, ``--crs`` as its deprecated alias.

    The alias puts its value into the option's slot; whichever click parses
    first, giving both is refused rather than one silently winning.
    """
    dest = name.removeprefix("--").replace("-", "_")

    def from_alias(ctx: click.Context, param: click.Parameter, value: str | None):
        aliased = ctx.params.get(dest)
        if value is not None and aliased is not None:
            raise click.BadParameter(f"give {name} only, not also --crs", ctx, param)
        return aliased if value is None else value

    def into_option(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is None or ctx.resilient_parsing:
            return
        warn_deprecated("--crs", name)
        if ctx.params.get(dest) is not None:
            raise click.BadParameter(f"give {name} only, not also --crs", ctx, param)
        ctx.params[dest] = value

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option(
            "--crs", type=CRS_TYPE, hidden=True, expose_value=False, callback=into_option
        )(f)
        return click.option(
            name,
            dest,
            type=CRS_TYPE,
            callback=from_alias,
            help=f"{help_text} (--crs: deprecated alias)",
        )(f)

    return decorate


def _apply(options: list[Decorator], f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` decorated with ``options``, listed in ``--help`` in their order."""
    for option in reversed(options):
        f = option(f)
    return f


def _none_if_empty(ctx: click.Context, param: click.Parameter, value: tuple) -> tuple | None:
    return value or None


project_arg = click.argument("project_file", metavar="PROJECT.toml", type=PROJECT_PATH)
dst_crs_opt = _crs_option(
    "--dst-crs",
    "CRS the exported layers are written in, e.g. EPSG:4490 (default: the working CRS; "
    "GeoJSON and KML are always EPSG:4326).",
)
src_crs_opt = _crs_option(
    "--src-crs", "CRS of the coordinates of --wkt, or of a SITE_FILE that names none."
)
rules_opt = click.option(
    "--rules",
    "packs",
    multiple=True,
    metavar="PACK",
    callback=_none_if_empty,
    help="Rule pack (built-in name or .toml file) instead of the project's; repeatable.",
)
overwrite_opt = click.option(
    "--overwrite", is_flag=True, help="Replace outputs that already exist."
)
json_opt = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
out_dir_opt = click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Folder to write the outputs into.",
)
fail_on_opt = click.option(
    "--fail-on",
    type=click.Choice([*SEVERITIES, "never"]),
    default="prohibited",
    show_default=True,
    help="Exit 1 when a conflict of this severity or worse is found.",
)


def conflicts_opt(purpose: str) -> Decorator:
    """``--conflicts FILE``: the conflicts of an earlier check, for ``purpose``."""
    return click.option(
        "--conflicts",
        "conflicts_file",
        type=click.Path(dir_okay=False, path_type=str),
        help=f"conflicts.gpkg of a check run, {purpose}.",
    )


def export_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--dst-crs`` and ``--encoding`` (upper-cased, as GDAL takes it) of GIS exports."""
    encoding_opt = click.option(
        "--encoding",
        type=click.Choice(["utf-8", "gbk"], case_sensitive=False),
        default="utf-8",
        show_default=True,
        callback=lambda ctx, param, value: value.upper(),
        help="Shapefile text encoding (gbk for older ArcGIS); written to the .cpg.",
    )
    return _apply([dst_crs_opt, encoding_opt], f)


def basemap_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--basemap``, ``--tianditu-key``, ``--basemap-gcj02``, passed on as ``basemap``.

    The command receives one :class:`maps.basemaps.Basemap`; a choice that
    cannot be used is a :class:`maps.basemaps.BasemapError` (exit 2).
    """

    @functools.wraps(command)
    def with_basemap(
        *args: Any, basemap: str, tianditu_key: str | None, basemap_gcj02: bool, **kwargs: Any
    ) -> Any:
        chosen = basemaps.basemap(basemap, key=tianditu_key, gcj02=basemap_gcj02)
        return command(*args, basemap=chosen, **kwargs)

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
    return _apply(options, with_basemap)


@dataclass(frozen=True)
class RunOptions:
    """The options ``check`` and ``demo`` share, as :func:`run_options` passes them.

    Attributes
    ----------
    out_dir : str
        ``--out``: the folder the outputs are written into.
    overwrite : bool
        ``--overwrite``: replace the outputs of an earlier run.
    check : CheckOptions
        ``--rules``, ``--disable``, ``--min-area`` (m²) and ``--strict``.
    export : ExportOptions
        ``--export``, ``--dst-crs`` and ``--encoding``.
    basemap : maps.basemaps.Basemap
        ``--basemap``, ``--tianditu-key`` and ``--basemap-gcj02``.
    cluster : Cluster or None
        ``--workers`` or ``--scheduler``: evaluate on a dask cluster, one task
        per county; None in this process.
    """

    out_dir: str
    overwrite: bool
    check: CheckOptions
    export: ExportOptions
    basemap: basemaps.Basemap
    cluster: Cluster | None = None


def run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``check`` and ``demo`` share, passed on as ``run``, a :class:`RunOptions`."""

    @functools.wraps(command)
    def with_run(
        *args: Any,
        out_dir: str,
        overwrite: bool,
        packs: tuple[str, ...] | None,
        disable: tuple[str, ...],
        min_area: tuple[tuple[str, float], ...],
        strict: bool,
        export_formats: tuple[str, ...],
        dst_crs: str | None,
        encoding: str,
        basemap: basemaps.Basemap,
        workers: int | None,
        scheduler: str | None,
        **kwargs: Any,
    ) -> Any:
        if workers is not None and scheduler is not None:
            raise click.UsageError("give --workers or --scheduler, not both")
        cluster = Cluster(workers, scheduler) if workers or scheduler else None
        run = RunOptions(
            out_dir=out_dir,
            overwrite=overwrite,
            check=CheckOptions(
                packs=packs, disabled=disable, min_area_m2=dict(min_area), strict=strict
            ),
            export=ExportOptions(formats=export_formats, crs=dst_crs, encoding=encoding),
            basemap=basemap,
            cluster=cluster,
        )
        return command(*args, run=run, **kwargs)

    options = [
        rules_opt,
        click.option(
            "--disable", multiple=True, metavar="RULE_ID", help="Leave a rule out; repeatable."
        ),
        click.option(
            "--min-area",
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
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            metavar="N",
            help="Evaluate the rules on a local dask cluster of N worker processes, "
            "one task per county (needs geoplan[cluster]).",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            help="Evaluate the rules on a running dask cluster (tcp://host:8786); its workers "
            "must see the project's sources (a shared folder or PostGIS).",
        ),
        overwrite_opt,
        out_dir_opt,
    ]
    return basemap_options(export_options(_apply(options, with_run)))
