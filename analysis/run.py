"""A check run: load a project, evaluate its rules and targets, write the outputs.

``geoplan check`` and ``geoplan demo`` both go through :func:`check_project`
and :func:`write_outputs`; the command line opens the output folder (see
:func:`geo.outputs.atomic_outputs`) before the check runs, and the outputs are
written into its staging folder and committed together, so a failed or killed
run leaves the previous outputs as they were.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import geopandas as gpd

from geoplan.analysis.check_result import CheckResult
from geoplan.analysis.conflict_rows import CONFLICT_COLUMNS
from geoplan.analysis.density import Density, conflict_density
from geoplan.analysis.engine import evaluate
from geoplan.analysis.prepare import prepare_inputs
from geoplan.analysis.reports.write import REPORT_FILES, write_reports
from geoplan.analysis.rules import Rule, check_rule_ids, pack_rules, select_rules
from geoplan.analysis.targets import measure_targets
from geoplan.analysis.township_terrain import terrain_by_township
from geoplan.geo.errors import LayerReadError
from geoplan.geo.export import export_layers
from geoplan.geo.layer_styles import write_layer_styles
from geoplan.geo.outputs import atomic_outputs
from geoplan.geo.raster import png_bytes, write_geotiff
from geoplan.geo.terrain import DerivedRasters, overview_hillshade
from geoplan.geo.vector_read import list_layers, read_vector
from geoplan.geo.vector_write import write_vector
from geoplan.layers.export import write_loaded_layers
from geoplan.layers.loader import LoadedProject, load_project
from geoplan.layers.project import read_project
from geoplan.layers.project_types import Project
from geoplan.layers.region import region_bounds
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES
from geoplan.maps.basemaps import NO_BASEMAP, Basemap
from geoplan.maps.images import ImageLayer, density_layer, hillshade_layer
from geoplan.maps.overview import overview_image, overview_legend
from geoplan.maps.planmap import MapOptions, map_html, plan_map
from geoplan.maps.qml import geopackage_styles

logger = logging.getLogger(__name__)

#: The files a check writes into its output folder.
OUTPUT_FILES = (
    "layers.gpkg",
    "conflicts.gpkg",
    "map.html",
    "conflict_density.tif",
    *REPORT_FILES,
)
#: The folder of a check's GIS exports (``--export``).
EXPORT_FOLDER = "export"
#: Everything a check may write into its output folder. A check replaces all of
#: them, so that no output of an earlier run is left beside its own.
OUTPUT_NAMES = (*OUTPUT_FILES, EXPORT_FOLDER)


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


@dataclass(frozen=True)
class ExportOptions:
    """GIS exports written with a check, into ``export/`` in the output folder.

    Attributes
    ----------
    formats : tuple of str
        Keys of :data:`geo.export.FORMATS`.
    crs : str, optional
        CRS to export in (default: the working CRS; GeoJSON and KML: EPSG:4326).
    encoding : str
        Shapefile text encoding.
    """

    formats: tuple[str, ...] = ()
    crs: str | None = None
    encoding: str = "UTF-8"


def export_frames(loaded: LoadedProject, conflicts: gpd.GeoDataFrame | None) -> dict:
    """The layers an export writes: every loaded layer by kind, then ``conflicts``."""
    frames = loaded.frames
    if conflicts is not None:
        frames["conflicts"] = conflicts
    return frames


def export_to(
    frames: dict, folder: Path, options: ExportOptions, stem: str = "geoplan"
) -> list[str]:
    """Write ``frames`` in every format of ``options`` into ``folder``; return the warnings."""
    warnings: list[str] = []
    for fmt in options.formats:
        exported = export_layers(
            frames, folder, fmt, crs=options.crs, encoding=options.encoding, stem=stem
        )
        warnings += exported.warnings
        if fmt == "gpkg":
            style_geopackage(folder / exported.files[0], frames)
    return warnings


def style_geopackage(path: Path, layers: Iterable[str]) -> None:
    """Store the map's colours in a GeoPackage as the layers' default QGIS styles."""
    write_layer_styles(path, geopackage_styles(layers))


def output_names(export: ExportOptions) -> list[str]:
    """The names a check writes into its output folder."""
    return [*OUTPUT_FILES, *([EXPORT_FOLDER] if export.formats else [])]


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
) -> CheckResult:
    """Load a project and evaluate its rules and targets.

    Parameters
    ----------
    project : Project, or the path of a project file
    options : CheckOptions, optional
    progress : callable, optional
        Called with a short message before each long step.

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
    say(f"loading {len(project.layers)} layers")
    loaded = load_project(project)

    def rule_progress(i: int, n: int, rule: Rule) -> None:
        say(f"[{i + 1}/{n}] {rule.id} {rule.title}")

    with tempfile.TemporaryDirectory(prefix="geoplan-rasters-") as folder:
        derived = DerivedRasters(folder)  # a DEM's slope, derived once for the run
        prepared = prepare_inputs(
            loaded, rules, derived, progress=lambda rule: say(f"preparing {rule.id} {rule.title}")
        )
        evaluation = evaluate(
            loaded, rules, strict=options.strict, progress=rule_progress, prepared=prepared
        )
        if "dem" in project.rasters:
            say("terrain by township (zonal statistics of the DEM)")
        terrain = terrain_by_township(loaded, derived)
    return CheckResult(
        loaded=loaded,
        packs=packs,
        rules=rules,
        evaluation=evaluation,
        targets=measure_targets(loaded, list(project.targets)),
        started=started,
        terrain=terrain,
    )


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


def density_of(loaded: LoadedProject, conflicts: gpd.GeoDataFrame) -> Density:
    """The conflicts' density over the project's counties (or all its layers)."""
    extent = region_bounds(loaded.frames or {"conflicts": conflicts})
    return conflict_density(conflicts, extent, SEVERITIES)


def write_density(density: Density, path: Path) -> None:
    """``conflict_density.tif``: m² of conflict per 1 km² cell, a band per severity."""
    write_geotiff(
        path,
        density.values,
        density.transform,
        density.crs,
        band_names=[f"{s} {SEVERITY_TITLES[s]}" for s in density.bands],
        units="m2 per km2",
    )


def map_images(
    loaded: LoadedProject, density: Density | None, basemap: Basemap
) -> tuple[ImageLayer, ...]:
    """The map's raster overlays: the DEM's hillshade (if any) and the conflict density."""
    images = []
    dem = loaded.project.rasters.get("dem")
    if dem is not None:
        info = dem.info()
        shade, transform = overview_hillshade(info, max_px=1000)
        images.append(
            hillshade_layer(shade, transform, info.crs, name="地形晕渲", gcj02=basemap.gcj02)
        )
    if density is not None and density.values.any():
        total = density.values.sum(axis=0)
        images.append(
            density_layer(
                total, density.transform, density.crs, name="冲突密度", gcj02=basemap.gcj02
            )
        )
    return tuple(images)


def render_map(
    loaded: LoadedProject,
    conflicts: gpd.GeoDataFrame | None,
    *,
    subtitle: str,
    basemap: Basemap = NO_BASEMAP,
    density: Density | None = None,
) -> str:
    """The offline HTML map of a project's layers and (optionally) its conflicts."""
    if density is None and conflicts is not None:
        density = density_of(loaded, conflicts)
    options = MapOptions(
        title=loaded.project.name,
        subtitle=subtitle,
        basemap=basemap,
        images=map_images(loaded, density, basemap),
    )
    return map_html(plan_map(loaded.frames, conflicts, options))


def write_outputs(
    result: CheckResult,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    basemap: Basemap = NO_BASEMAP,
    export: ExportOptions | None = None,
) -> list[Path]:
    """Write :data:`OUTPUT_FILES` (and ``export/``) into ``out_dir``, all together.

    The folder is locked and committed as :func:`geo.outputs.atomic_outputs`
    does; a command that must find an unusable folder before its analysis
    enters that itself and calls :func:`write_outputs_into`.

    Parameters
    ----------
    result : CheckResult
    out_dir : str or os.PathLike
        Output folder, created if missing.
    overwrite : bool, default False
        Replace outputs that exist; otherwise raise ``OutputExistsError``.
    basemap : Basemap
        Basemap of ``map.html`` (none by default: nothing fetched).
    export : ExportOptions, optional
        GIS exports to write into ``export/``.

    Returns
    -------
    list of pathlib.Path
        The outputs, in :data:`OUTPUT_FILES` order, then ``export/``.
    """
    with atomic_outputs(out_dir, list(OUTPUT_NAMES), overwrite=overwrite) as staging:
        names = write_outputs_into(result, staging, basemap=basemap, export=export)
    return [Path(out_dir) / name for name in names]


def write_outputs_into(
    result: CheckResult,
    staging: Path,
    *,
    basemap: Basemap = NO_BASEMAP,
    export: ExportOptions | None = None,
) -> list[str]:
    """Write :data:`OUTPUT_FILES` (and ``export/``) into an empty staging folder.

    Parameters
    ----------
    result : CheckResult
    staging : pathlib.Path
        The staging folder of the output folder, from
        :func:`geo.outputs.atomic_outputs` entered with :data:`OUTPUT_NAMES`.
    basemap : Basemap
        Basemap of ``map.html`` (none by default: nothing fetched).
    export : ExportOptions, optional
        GIS exports to write into ``export/``.

    Returns
    -------
    list of str
        The names written, in :data:`OUTPUT_FILES` order, then ``export``.
    """
    export = export or ExportOptions()
    write_loaded_layers(result.loaded, staging / "layers.gpkg")
    style_geopackage(staging / "layers.gpkg", result.loaded.layers)
    write_vector(result.conflicts, staging / "conflicts.gpkg", layer="conflicts")
    style_geopackage(staging / "conflicts.gpkg", ["conflicts"])
    subtitle = f"规划冲突检查 · {result.started:%Y-%m-%d %H:%M}"
    density = density_of(result.loaded, result.conflicts)
    write_density(density, staging / "conflict_density.tif")
    page = render_map(
        result.loaded, result.conflicts, subtitle=subtitle, basemap=basemap, density=density
    )
    (staging / "map.html").write_text(page, encoding="utf-8")
    layers = result.loaded.frames
    figure = png_bytes(overview_image(layers, result.conflicts))
    write_reports(result.report, staging, overview_png=figure, legend=overview_legend(layers))
    if export.formats:
        (staging / EXPORT_FOLDER).mkdir()
        frames = export_frames(result.loaded, result.conflicts)
        for warning in export_to(frames, staging / EXPORT_FOLDER, export):
            logger.warning(warning)
    return output_names(export)
