"""The output stage of a check: every file it writes, timed, independent ones at once.

:func:`write_outputs_into` writes :data:`OUTPUT_FILES` (and ``export/``) into
a staging folder. Each output is a step that names what it needs (the
report model, built once; the density; the overview figure), and steps
whose needs are met run on :data:`WORKERS` threads: GDAL writes and geometry
operations release the GIL. The map (with the density) runs in a child
forked first, where the process allows (:func:`analysis.output_steps.run_steps`),
beside the report model and the documents built from it, and the workbook
and ``report.json`` in a second child forked once the model is made. A
province's county maps are shared among the map's child and children of
their own (:func:`analysis.county_maps.county_map_steps`). Each finished
output prints one progress line with its seconds.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd

from geoplan.analysis.check_result import CheckResult
from geoplan.analysis.conflict_rows import CONFLICT_ALIASES
from geoplan.analysis.county_maps import (
    COUNTY_MAPS_FOLDER,
    county_map_steps,
    has_county_maps,
    province_map,
)
from geoplan.analysis.density import Density, conflict_density
from geoplan.analysis.output_steps import Step, run_steps
from geoplan.analysis.reports.finding_maps import finding_maps, issue_ids, mapped_issues
from geoplan.analysis.reports.write import REPORT_FILES, write_report
from geoplan.geo.export import export_layers
from geoplan.geo.layer_styles import write_layer_styles
from geoplan.geo.outputs import atomic_outputs
from geoplan.geo.raster import png_bytes, write_geotiff
from geoplan.geo.terrain import overview_hillshade
from geoplan.geo.vector_write import write_vector
from geoplan.layers.export import layer_field_aliases, write_loaded_layers
from geoplan.layers.loader import LoadedProject
from geoplan.layers.parts_store import frames_with_ids, whole_frames
from geoplan.layers.region import region_bounds
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_TITLES
from geoplan.maps.basemaps import NO_BASEMAP, Basemap
from geoplan.maps.county_links import CountyLink
from geoplan.maps.images import ImageLayer, density_layer, hillshade_layer, region_outline
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
OUTPUT_NAMES = (*OUTPUT_FILES, COUNTY_MAPS_FOLDER, EXPORT_FOLDER)
#: Threads the output stage writes on.
WORKERS = 2


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
    """The layers an export writes: every loaded layer by kind (whole), then ``conflicts``."""
    return {**whole_frames(loaded), **({} if conflicts is None else {"conflicts": conflicts})}


def export_to(
    frames: dict, folder: Path, options: ExportOptions, stem: str = "geoplan"
) -> list[str]:
    """Write ``frames`` in every format of ``options`` into ``folder``; return the warnings."""
    warnings: list[str] = []
    for fmt in options.formats:
        exported = export_layers(
            frames,
            folder,
            fmt,
            crs=options.crs,
            encoding=options.encoding,
            stem=stem,
            aliases=field_aliases(frames),
        )
        warnings += exported.warnings
        if fmt == "gpkg":
            style_geopackage(folder / exported.files[0], frames)
    return warnings


def field_aliases(layers: Iterable[str]) -> dict[str, dict[str, str]]:
    """The Chinese field names of the layers a check writes: layer kinds and ``conflicts``."""
    layers = list(layers)
    aliases = layer_field_aliases(layers)
    if "conflicts" in layers:
        aliases["conflicts"] = dict(CONFLICT_ALIASES)
    return aliases


def style_geopackage(path: Path, layers: Iterable[str]) -> None:
    """Store the map's colours and field aliases as the layers' default QGIS styles."""
    layers = list(layers)
    write_layer_styles(path, geopackage_styles(layers, field_aliases(layers)))


def output_names(export: ExportOptions, county_maps: bool = False) -> list[str]:
    """The names a check writes into its output folder."""
    folders = [COUNTY_MAPS_FOLDER] if county_maps else []
    return [*OUTPUT_FILES, *folders, *([EXPORT_FOLDER] if export.formats else [])]


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
        # Read at full resolution up to 2,000 cells (a fractional decimation
        # beats against the terrain as stripes); the warp averages it down.
        shade, transform = overview_hillshade(info, max_px=2000)
        region = region_outline(loaded.frames, info.crs)
        images.append(
            hillshade_layer(
                shade, transform, info.crs, name="地形晕渲", region=region, gcj02=basemap.gcj02
            )
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
    county_maps: tuple[CountyLink, ...] = (),
    county_note: str = "",
) -> str:
    """The offline HTML map of a project's layers and (optionally) its conflicts.

    ``county_maps``: a province's overview lists them (:mod:`analysis.county_maps`).
    """
    if density is None and conflicts is not None:
        density = density_of(loaded, conflicts)
    options = MapOptions(
        title=loaded.project.name,
        subtitle=subtitle,
        basemap=basemap,
        images=map_images(loaded, density, basemap),
        county_maps=county_maps,
        county_note=county_note,
    )
    return map_html(plan_map(loaded.frames, conflicts, options))


def _steps(
    result: CheckResult, staging: Path, basemap: Basemap, export: ExportOptions
) -> list[Step]:
    """The output stage as steps, each after the steps it needs."""
    loaded, conflicts = result.loaded, result.conflicts
    layers = loaded.frames
    legend = overview_legend(layers)
    subtitle = f"规划冲突检查 · {result.started:%Y-%m-%d %H:%M}"

    def gpkg_layers() -> None:
        write_loaded_layers(loaded, staging / "layers.gpkg")
        style_geopackage(staging / "layers.gpkg", loaded.layers)

    def gpkg_conflicts() -> None:
        write_vector(
            conflicts, staging / "conflicts.gpkg", layer="conflicts", aliases=CONFLICT_ALIASES
        )
        style_geopackage(staging / "conflicts.gpkg", ["conflicts"])

    render = partial(render_map, basemap=basemap)

    def map_page(density: Density) -> None:
        if has_county_maps(loaded):
            page = province_map(result, render, subtitle=subtitle, density=density)
        else:
            page = render(loaded, conflicts, subtitle=subtitle, density=density)
        (staging / "map.html").write_text(page, encoding="utf-8")

    def report_file(name: str) -> Callable[..., None]:
        def write(
            report: dict[str, Any], png: bytes | None = None, maps: dict[str, bytes] | None = None
        ) -> None:
            write_report(name, report, staging, overview_png=png, legend=legend, issue_maps=maps)

        return write

    def exports() -> None:
        (staging / EXPORT_FOLDER).mkdir()
        for warning in export_to(export_frames(loaded, conflicts), staging / EXPORT_FOLDER, export):
            logger.warning(warning)

    tif = staging / "conflict_density.tif"
    steps = [
        # a cached property: built here once, read by every step that needs it
        Step("report model", lambda: result.report, label="汇总报告数据"),
        Step("overview", lambda: png_bytes(overview_image(layers, conflicts)), label="绘制概览图"),
        Step("density", lambda: density_of(loaded, conflicts), label="计算冲突密度"),
        Step(
            "finding maps",
            lambda report: finding_maps(
                frames_with_ids(loaded, issue_ids(mapped_issues(report["issues"]))),
                conflicts,
                report["issues"],
            ),
            ("report model",),
            label="绘制问题位置图",
        ),
        Step("map.html", map_page, ("density",)),
        Step("layers.gpkg", gpkg_layers, atomic=True),
        Step("conflicts.gpkg", gpkg_conflicts, atomic=True),
        Step("conflict_density.tif", lambda d: write_density(d, tif), ("density",)),
        *(
            Step(name, report_file(name), ("report model", *_REPORT_NEEDS.get(name, ())))
            for name in REPORT_FILES
        ),
    ]
    if has_county_maps(loaded):
        # the first share after the overview, in the map's child; each other in one of its own
        steps += county_map_steps(result, staging, render, subtitle=subtitle, first_child="map")
    if export.formats:
        steps.append(Step(f"{EXPORT_FOLDER}/", exports))
    return [replace(s, child=s.child or _CHILD.get(s.name)) for s in steps]


# Started first when ready: the longest at city scale, and what they wait for.
_FIRST = (
    "report model",
    "density",
    "map.html",
    "finding maps",
    "overview",
    "report.docx",
    "report.xlsx",
)
# What a report waits for besides the model: the overview (the DOCX: the maps too).
_REPORT_NEEDS = {"report.html": ("overview",), "report.docx": ("overview", "finding maps")}
# Steps run in a process forked for them where the process allows (Python through and
# through, they would wait for the interpreter lock beside the report model): the map
# with its density and the overview from the start, the workbook and report.json once
# the model is made; the finding maps and the GeoPackages stay beside the documents.
_CHILD = {
    **dict.fromkeys(("overview", "density", "map.html", "conflict_density.tif"), "map"),
    **dict.fromkeys(("report.xlsx", "report.json"), "reports"),
}


def write_outputs(
    result: CheckResult,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    basemap: Basemap = NO_BASEMAP,
    export: ExportOptions | None = None,
    progress: Callable[[str], None] | None = None,
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
    progress : callable, optional
        Called with one line per output as it is written (see
        :func:`write_outputs_into`).

    Returns
    -------
    list of pathlib.Path
        The outputs, in :data:`OUTPUT_FILES` order, then ``export/``.
    """
    with atomic_outputs(out_dir, list(OUTPUT_NAMES), overwrite=overwrite) as staging:
        names = write_outputs_into(
            result, staging, basemap=basemap, export=export, progress=progress
        )
    return [Path(out_dir) / name for name in names]


def write_outputs_into(
    result: CheckResult,
    staging: Path,
    *,
    basemap: Basemap = NO_BASEMAP,
    export: ExportOptions | None = None,
    progress: Callable[[str], None] | None = None,
    timings: dict[str, float] | None = None,
    workers: int = WORKERS,
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
    progress : callable, optional
        Called, as each output is done, with one line naming it and its
        seconds (``写出 map.html（3.2 秒）``); also for the report model, the
        overview figure and the conflict density the outputs share.
    timings : dict, optional
        Filled with the seconds (wall time) of each step, by name: the
        output's file name, ``"report model"``, ``"overview"``, ``"density"``,
        ``"export/"``.
    workers : int
        Threads to write on (1: one output after the other).

    Returns
    -------
    list of str
        The names written, in :data:`OUTPUT_FILES` order, then ``export``.
    """
    export = export or ExportOptions()
    say = progress or (lambda message: None)
    timings = {} if timings is None else timings
    run_steps(_steps(result, staging, basemap, export), say, timings, workers, _FIRST)
    return output_names(export, has_county_maps(result.loaded))
