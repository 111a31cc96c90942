"""``geoplan check``: evaluate a project's rules and write the outputs."""

from __future__ import annotations

from pathlib import Path

import click

from geoplan.analysis.check_result import CheckResult
from geoplan.analysis.cli.options import RunOptions, fail_on_opt, project_arg, run_options
from geoplan.analysis.cli.outputs import staged_outputs
from geoplan.analysis.reports.terminal import summary_text
from geoplan.analysis.run import OUTPUT_NAMES, check_project, write_outputs_into
from geoplan.layers.project import Project, read_project
from geoplan.layers.vocabulary import reaches

EXIT_CONFLICTS = 1


def check_and_write(ctx: click.Context, project: Project, run: RunOptions) -> CheckResult:
    """Run a check and write its outputs; print the summary and the output paths.

    Parameters
    ----------
    ctx : click.Context
        The command's context (``-q`` of the group silences progress and summary).
    project : Project
        The project to check.
    run : RunOptions
        The options ``check`` and ``demo`` share.

    Returns
    -------
    CheckResult
        The conflicts and everything the outputs were rendered from.
    """
    quiet = ctx.obj.get("quiet")
    progress = None if quiet else (lambda message: click.echo(f"geoplan: {message}", err=True))
    # opened before the check runs, so an unusable output folder is found first
    with staged_outputs(run.out_dir, list(OUTPUT_NAMES), overwrite=run.overwrite) as staging:
        result = check_project(project, run.check, progress=progress)
        written = write_outputs_into(result, staging, basemap=run.basemap, export=run.export)
    if not quiet:
        click.echo(summary_text(result.report))
        click.echo("")
    click.echo("outputs:")
    for name in written:
        click.echo(f"  {(Path(run.out_dir) / name).resolve()}")
    return result


@click.command()
@project_arg
@run_options
@fail_on_opt
@click.pass_context
def check(ctx: click.Context, project_file: str, fail_on: str, run: RunOptions) -> None:
    """Check PROJECT.toml against its rule packs; write layers, conflicts, map, report to --out.

    Exit status: 0 no conflict at or above --fail-on, 1 such conflicts, 2 bad input.
    """
    result = check_and_write(ctx, read_project(project_file), run)
    if reaches(result.conflicts["severity"], fail_on):
        ctx.exit(EXIT_CONFLICTS)
