"""``geoplan demo``: the whole job on the embedded Bazhong dataset."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.cli.layers_cmd import inventory_table
from analysis.cli.options import out_dir_opt, overwrite_opt
from layers.bazhong import PROJECT_FILE
from layers.export import write_loaded_layers
from layers.loader import load_project
from layers.project import read_project


@click.command()
@out_dir_opt
@overwrite_opt
@click.pass_context
def demo(ctx: click.Context, out_dir: str, overwrite: bool) -> None:
    """Run the whole job on the embedded 巴中市 dataset and write the outputs to --out."""
    out = Path(out_dir)
    loaded = load_project(read_project(PROJECT_FILE))
    written = [write_loaded_layers(loaded, out / "layers.gpkg", overwrite=overwrite)]
    if not ctx.obj.get("quiet"):
        click.echo(inventory_table(loaded))
        click.echo("")
    click.echo("outputs:")
    for path in written:
        click.echo(f"  {path.resolve()}")
