"""``geoplan demo``: the whole job on the embedded Bazhong dataset."""

from __future__ import annotations

import click

from geoplan.analysis.cli.check_cmd import check_and_write
from geoplan.analysis.cli.options import RunOptions, run_options
from geoplan.layers.bazhong import PROJECT_FILE
from geoplan.layers.project import read_project


@click.command()
@run_options
@click.pass_context
def demo(ctx: click.Context, run: RunOptions) -> None:
    """Run the whole job on the embedded 巴中市 dataset and write the outputs to --out.

    Exits 0 when the run completed, whatever it found: it is a demonstration.
    """
    check_and_write(ctx, read_project(PROJECT_FILE), run)
