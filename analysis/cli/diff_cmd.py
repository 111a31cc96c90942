"""``geoplan diff``: what a new delivery fixed and what it broke, and the pipeline gate."""

from __future__ import annotations

from pathlib import Path

import click

from geoplan.analysis.cli.options import fail_on_opt
from geoplan.analysis.revisions.check_output import read_check_output
from geoplan.analysis.revisions.model import Diff, diff_model
from geoplan.analysis.revisions.tables import headline
from geoplan.analysis.revisions.write import write_diff


def print_diff(diff: Diff, written: list[Path]) -> None:
    """The gate's headline, the counts by severity, and the files written."""
    click.echo(headline(diff.model))
    for row in diff.model["summary"]["by_severity"]:
        if row["change"] != "unchanged":
            click.echo(
                f"  {row['severity']:<10} {row['change_title']}  {row['findings']:>5} 处  "
                f"涉及土地 {row['land_area_mu']:,.2f} 亩"
            )
    if written:
        click.echo("outputs:")
        for path in written:
            click.echo(f"  {path.resolve()}")


@click.command("diff")
@click.argument("old", type=click.Path(path_type=str))
@click.argument("new", type=click.Path(path_type=str))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=str),
    help="Folder to write diff.md, diff.json, diff.html and diff.gpkg into.",
)
@click.option("--overwrite", is_flag=True, help="Replace existing diff outputs in --out.")
@fail_on_opt
def diff_command(old: str, new: str, out_dir: str | None, overwrite: bool, fail_on: str) -> None:
    """Compare two check outputs OLD and NEW (folders, or their report.json).

    Exit status: 0 when nothing at or above --fail-on is new or grew, 1 when
    something is, 2 bad input.
    """
    before = read_check_output(old)
    diff = diff_model(before, read_check_output(new, crs=before.crs), fail_on=fail_on)
    written = write_diff(diff, out_dir, overwrite=overwrite) if out_dir else []
    print_diff(diff, written)
    raise SystemExit(diff.exit_status)
