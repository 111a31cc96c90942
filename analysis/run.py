"""A check run: load a project, evaluate its rules and targets, write the outputs.

``geoplan check`` and ``geoplan demo`` both go through :func:`check_project`
and :func:`write_outputs`; the outputs are written into a staging folder and
moved into place together, so a failed run leaves none of them behind.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from analysis.engine import evaluate
from analysis.report_json import write_report_json
from analysis.results import CheckResult
from analysis.rules import Rule, load_rules
from analysis.targets import measure_targets, parse_targets
from geo.io import atomic_outputs, write_vector
from layers.export import write_loaded_layers
from layers.loader import load_project
from layers.project import Project

logger = logging.getLogger(__name__)

#: The files a check writes into its output folder.
OUTPUT_FILES = ("layers.gpkg", "conflicts.gpkg", "report.json")


@dataclass(frozen=True)
class CheckOptions:
    """Choices that override the project file.

    Attributes
    ----------
    packs : tuple of str, optional
        Rule packs to use instead of the project's ``[rules] packs``.
    disabled : tuple of str
        Rule ids to leave out, added to the project's ``[rules] disable``.
    min_area_m2 : dict of str to float
        Sliver tolerance per rule id (m²), ``"*"`` for all; overrides the
        project's ``[rules] min_area_m2``.
    strict : bool
        A rule whose layer or field is missing is an error, not skipped.
    """

    packs: tuple[str, ...] | None = None
    disabled: tuple[str, ...] = ()
    min_area_m2: dict[str, float] = field(default_factory=dict)
    strict: bool = False


def project_rules(project: Project, options: CheckOptions) -> tuple[list[str], list[Rule]]:
    """The packs and rules a run uses: the project's, with the options applied."""
    packs = list(options.packs or project.rule_packs)
    tolerances = {**project.min_area_m2, **options.min_area_m2}
    disabled = (*project.disabled_rules, *options.disabled)
    return packs, load_rules(packs, disabled=disabled, min_area_m2=tolerances)


def check_project(
    project: Project,
    options: CheckOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> CheckResult:
    """Load a project and evaluate its rules and targets.

    Parameters
    ----------
    project : Project
    options : CheckOptions, optional
    progress : callable, optional
        Called with a short message before each long step.

    Returns
    -------
    CheckResult
    """
    options = options or CheckOptions()
    started = datetime.now().astimezone()
    say = progress or (lambda message: None)
    packs, rules = project_rules(project, options)
    targets = parse_targets(list(project.targets), str(project.path))
    say(f"loading {len(project.layers)} layers")
    loaded = load_project(project)

    def rule_progress(i: int, n: int, rule: Rule) -> None:
        say(f"[{i + 1}/{n}] {rule.id} {rule.title}")

    evaluation = evaluate(loaded, rules, strict=options.strict, progress=rule_progress)
    return CheckResult(
        loaded=loaded,
        packs=packs,
        rules=rules,
        evaluation=evaluation,
        targets=measure_targets(loaded, targets),
        started=started,
    )


def write_outputs(
    result: CheckResult, out_dir: str | os.PathLike, *, overwrite: bool = False
) -> list[Path]:
    """Write :data:`OUTPUT_FILES` into ``out_dir``, all together.

    Returns
    -------
    list of pathlib.Path
        The outputs, in :data:`OUTPUT_FILES` order.
    """
    out = Path(out_dir)
    with atomic_outputs(out, list(OUTPUT_FILES), overwrite=overwrite) as staging:
        write_loaded_layers(result.loaded, staging / "layers.gpkg")
        write_vector(result.conflicts, staging / "conflicts.gpkg", layer="conflicts")
        write_report_json(result, staging / "report.json")
    return [out / name for name in OUTPUT_FILES]
