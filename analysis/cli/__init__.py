"""The ``geoplan`` command line: one group, one module per subcommand.

Exit codes follow linters: 0 clean, 1 conflicts at or above ``--fail-on``,
2 bad input or usage.
"""

from __future__ import annotations

import logging

import click

from geoplan.geo.errors import GeoplanError

EXIT_BAD_INPUT = 2


class _Group(click.Group):
    """Turns library errors into one-line messages and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GeoplanError as exc:
            click.echo(f"geoplan: error: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)


def _configure_logging(verbosity: int) -> None:
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("geoplan: %(levelname)s: %(message)s"))
    logger = logging.getLogger("geoplan")
    logger.handlers = [h for h in logger.handlers if isinstance(h, logging.NullHandler)]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More messages (repeat for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress.")
@click.version_option(package_name="geoplan")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Check a territorial spatial plan (国土空间规划) for conflicts between its layers."""
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet
    _configure_logging(-1 if quiet else verbose)


def _register() -> None:
    from geoplan.analysis.cli import (
        check_cmd,
        coords_cmd,
        demo_cmd,
        diff_cmd,
        export_cmd,
        kinds_cmd,
        layers_cmd,
        map_cmd,
        rules_cmd,
        site_cmd,
        zonal_cmd,
    )

    cli.add_command(layers_cmd.layers)
    cli.add_command(kinds_cmd.kinds_command)
    cli.add_command(rules_cmd.rules_command)
    cli.add_command(check_cmd.check)
    cli.add_command(demo_cmd.demo)
    cli.add_command(site_cmd.site)
    cli.add_command(coords_cmd.coords_command)
    cli.add_command(map_cmd.map_command)
    cli.add_command(export_cmd.export_command)
    cli.add_command(zonal_cmd.zonal_command)
    cli.add_command(diff_cmd.diff_command)


_register()


def main() -> None:
    """Entry point of the ``geoplan`` console script."""
    cli(prog_name="geoplan")
