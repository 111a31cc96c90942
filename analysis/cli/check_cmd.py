"""``geoplan check``: evaluate a project's rules and write the outputs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from geoplan.analysis.check_result import CheckResult
from geoplan.analysis.cli.diff_cmd import print_diff
from geoplan.analysis.cli.options import RunOptions, fail_on_opt, project_arg, run_options
from geoplan.analysis.cli.outputs import staged_outputs
from geoplan.analysis.reports.terminal import summary_text
from geoplan.analysis.revisions.check_output import CheckOutput, read_check_output
from geoplan.analysis.revisions.model import Diff, diff_model
from geoplan.analysis.revisions.write import DIFF_FILES, write_diff_into
from geoplan.analysis.run import OUTPUT_NAMES, check_project, write_outputs_into
from geoplan.layers.project import Project, read_project

EXIT_CONFLICTS = 1


def check_and_write(
    ctx: click.Context, project: Project, run: RunOptions, baseline: CheckOutput | None = None
) -> tuple[CheckResult, Diff | None]:
    """Run a check and write its outputs; print the summary and the output paths.

    Parameters
    ----------
    ctx : click.Context
        The command's context (``-q`` of the group silences progress and summary).
    project : Project
        The project to check.
    run : RunOptions
        The options ``check`` and ``demo`` share.
    baseline : CheckOutput, optional
        An accepted check to compare with; the diff files are written with the outputs.

    Returns
    -------
    CheckResult
        The conflicts and everything the outputs were rendered from.
    Diff or None
        The comparison with ``baseline``.
    """
    quiet = ctx.obj.get("quiet")
    progress = None if quiet else (lambda message: click.echo(f"geoplan: {message}", err=True))
    # opened before the check runs, so an unusable output folder is found first
    names = [*OUTPUT_NAMES, *(DIFF_FILES if baseline else ())]
    diff = None
    with staged_outputs(run.out_dir, names, overwrite=run.overwrite) as staging:
        result = check_project(project, run.check, progress=progress, cluster=run.cluster)
        written = write_outputs_into(
            result, staging, basemap=run.basemap, export=run.export, progress=progress
        )
        if baseline is not None:
            diff = diff_model(
                baseline, read_check_output(staging, crs=baseline.crs), fail_on=run.check.fail_on
            )
            written += write_diff_into(diff, staging)
    if not quiet:
        click.echo(summary_text(result.report))
        click.echo("")
    if diff is not None and not quiet:
        print_diff(diff, [])
        click.echo("")
    click.echo("outputs:")
    for name in written:
        click.echo(f"  {(Path(run.out_dir) / name).resolve()}")
    return result, diff


@click.command()
@project_arg
@run_options
@fail_on_opt
@click.option(
    "--baseline",
    type=click.Path(path_type=str),
    help="Output folder of an accepted check: also write diff.md/json/html/gpkg against it "
    "and exit with the gate's status (1 only for new or grown findings at --fail-on).",
)
@click.pass_context
def check(
    ctx: click.Context, project_file: str, fail_on: str, baseline: str | None, run: RunOptions
) -> None:
    """Check PROJECT.toml against its rule packs; write layers, conflicts, map, report to --out.

    Exit status: 0 no conflict at or above --fail-on, 1 such conflicts (the report's
    verdict 不通过), 2 bad input. With --baseline: 1 only when a finding at or above
    --fail-on is new or grew since the baseline.
    """
    run = replace(run, check=replace(run.check, fail_on=fail_on))
    accepted = read_check_output(baseline) if baseline else None
    result, diff = check_and_write(ctx, read_project(project_file), run, accepted)
    failed = diff.exit_status == 1 if diff else result.report["verdict"]["status"] == "fail"
    if failed:
        ctx.exit(EXIT_CONFLICTS)
