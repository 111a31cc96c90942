"""A check run: load a project, evaluate its rules and targets, write the outputs.

``geoplan check`` and ``geoplan demo`` both go through :func:`check_project`
and :func:`write_outputs` (:mod:`analysis.output_stage`); the command line
opens the output folder (see :func:`geo.outputs.atomic_outputs`) before the
check runs, and the outputs are written into its staging folder and committed
together, so a failed or killed run leaves the previous outputs as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import geopandas as gpd

from geoplan.analysis.check_result import CheckResult
from geoplan.analysis.conflict_rows import CONFLICT_COLUMNS
from geoplan.analysis.distributed import Cluster, evaluate_on_cluster, require_cluster
from geoplan.analysis.engine import evaluate
from geoplan.analysis.land_classes import land_class_breakdown
from geoplan.analysis.output_stage import (
    OUTPUT_FILES,
    OUTPUT_NAMES,
    ExportOptions,
    export_frames,
    export_to,
    render_map,
    write_outputs,
    write_outputs_into,
)
from geoplan.analysis.prepare import prepare_inputs
from geoplan.analysis.rules import Rule, check_rule_ids, pack_rules, select_rules
from geoplan.analysis.targets import measure_targets
from geoplan.analysis.township_terrain import terrain_by_township
from geoplan.geo.errors import LayerReadError
from geoplan.geo.terrain import DerivedRasters
from geoplan.geo.vector_read import list_layers, read_vector
from geoplan.layers.loader import load_project
from geoplan.layers.parts_store import stored_attributes
from geoplan.layers.project import read_project
from geoplan.layers.project_types import Project
from geoplan.layers.stored_area import judge_stored_area
from geoplan.layers.vocabulary import SEVERITIES

# The output stage lives in analysis/output_stage.py; its names stay importable from here.
__all__ = [
    "OUTPUT_FILES",
    "OUTPUT_NAMES",
    "CheckOptions",
    "Cluster",
    "ExportOptions",
    "check_project",
    "export_frames",
    "export_to",
    "project_rules",
    "read_conflicts",
    "render_map",
    "write_outputs",
    "write_outputs_into",
]


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
    fail_on : {"prohibited", "restricted", "notice", "never"}
        The severity from which the verdict is 不通过 (``fail``) and
        ``check`` exits 1 (``--fail-on``).
    """

    packs: tuple[str, ...] | None = None
    disabled: tuple[str, ...] = ()
    min_area_m2: dict[str, float] = field(default_factory=dict)
    strict: bool = False
    fail_on: str = "prohibited"


def project_rules(project: Project, options: CheckOptions) -> tuple[list[str], list[Rule]]:
    """The packs and rules a run uses: the project's, with the options applied.

    Raises
    ------
    analysis.rules.RuleError
        A pack cannot be loaded, or a rule id in ``[rules] disable`` or
        ``min_area_m2``, ``--disable`` or ``--min-area`` is in none of the
        packs; the message names which of the four.
    """
    settings = project.rules
    packs = list(options.packs or settings.packs)
    rules = pack_rules(packs)
    check_rule_ids(settings.disabled, rules, f"{project.path} [rules] disable")
    check_rule_ids(settings.min_area_m2, rules, f"{project.path} [rules] min_area_m2")
    check_rule_ids(options.disabled, rules, "--disable")
    check_rule_ids(options.min_area_m2, rules, "--min-area")
    return packs, select_rules(
        rules,
        disabled=(*settings.disabled, *options.disabled),
        min_area_m2={**settings.min_area_m2, **options.min_area_m2},
    )


def check_project(
    project: Project | str | os.PathLike,
    options: CheckOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    cluster: Cluster | None = None,
) -> CheckResult:
    """Load a project and evaluate its rules and targets.

    Parameters
    ----------
    project : Project, or the path of a project file
    options : CheckOptions, optional
    progress : callable, optional
        Called with a short message before each long step.
    cluster : Cluster, optional
        Evaluate the rules on a dask.distributed cluster, one task per county
        (:func:`analysis.distributed.evaluate_on_cluster`); the result is the
        one-process run's. Default: in this process.

    Returns
    -------
    CheckResult
    """
    if not isinstance(project, Project):
        project = read_project(project)
    options = options or CheckOptions()
    started = datetime.now().astimezone()
    say = progress or (lambda message: None)
    packs, rules = project_rules(project, options)
    if cluster is not None:
        require_cluster(cluster)
    say(f"loading {len(project.layers)} layers")
    store = None
    if cluster is not None:  # the layers too large for the client stay on disk, in parts
        store = Path(tempfile.mkdtemp(prefix="geoplan-parts-"))
    try:
        loaded = load_project(project, survey_above=cluster and cluster.survey_above, store=store)
    except BaseException:
        if store is not None:
            shutil.rmtree(store, ignore_errors=True)
        raise

    def rule_progress(i: int, n: int, rule: Rule) -> None:
        say(f"[{i + 1}/{n}] {rule.id} {rule.title}")

    with tempfile.TemporaryDirectory(prefix="geoplan-rasters-") as folder:
        derived = DerivedRasters(folder)  # a DEM's slope, derived once for the run
        prepared = prepare_inputs(
            loaded, rules, derived, progress=lambda rule: say(f"preparing {rule.id} {rule.title}")
        )
        if cluster is None:
            evaluation = evaluate(
                loaded, rules, strict=options.strict, progress=rule_progress, prepared=prepared
            )
        else:
            evaluation = evaluate_on_cluster(
                loaded, rules, cluster, strict=options.strict, prepared=prepared, progress=say
            )
        if "dem" in project.rasters:
            say("terrain by township (zonal statistics of the DEM)")
        terrain = terrain_by_township(loaded, derived)
    targets = measure_targets(loaded, list(project.targets))
    say("land classes taken (压占分析)")
    land_classes = land_class_breakdown(loaded, evaluation.conflicts, evaluation.land_pieces)
    for layer in loaded.layers.values():
        if layer.parts is not None:
            judged = judge_stored_area(stored_attributes(layer, ["area", "area_m2"]))
            if judged is not None:
                layer.stored_area_unit, layer.stored_area_off = judged
    result = CheckResult(
        loaded=loaded,
        packs=packs,
        rules=rules,
        evaluation=evaluation,
        targets=targets,
        started=started,
        finished=datetime.now().astimezone(),
        terrain=terrain,
        fail_on=options.fail_on,
        land_classes=land_classes,
    )
    if store is not None:
        weakref.finalize(result, shutil.rmtree, store, True)
    return result


def read_conflicts(path: str | os.PathLike, crs) -> gpd.GeoDataFrame:
    """Read the conflicts a check wrote (``conflicts.gpkg`` or an export of it).

    Parameters
    ----------
    path : str or os.PathLike
        Vector file; its layer ``conflicts`` if it has several.
    crs : pyproj.CRS
        CRS to return the conflicts in (the project's working CRS).

    Raises
    ------
    LayerReadError
        The file cannot be read, lacks columns of the conflicts table, or
        holds an unknown severity.
    """
    layers = list_layers(path)
    source = read_vector(path, "conflicts" if "conflicts" in layers else None)
    frame = source.frame
    missing = [c for c in CONFLICT_COLUMNS if c not in frame.columns]
    if missing:
        raise LayerReadError(
            f"{path} layer {source.layer!r}: not a conflicts table of geoplan check; "
            f"missing columns: {', '.join(missing)}"
        )
    unknown = sorted(set(frame["severity"].dropna()) - set(SEVERITIES))
    if unknown:
        raise LayerReadError(
            f"{path} layer {source.layer!r}: unknown severity {', '.join(map(repr, unknown))} "
            f"(expected {', '.join(SEVERITIES)})"
        )
    if frame.crs is None:
        raise LayerReadError(f"{path} layer {source.layer!r}: has no CRS")
    return frame.to_crs(crs)
