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
fail_on_opt = click.option(
    "--fail-on",
    type=click.Choice([*SEVERITIES, "never"]),
    default="prohibited",
    show_default=True,
    help="Exit 1 when a conflict of this severity or worse is found.",
)
