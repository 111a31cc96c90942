"""The map of a check whose client did not load the large layers: an overview and a map per county.

A cluster run that surveyed a layer (:func:`layers.loader.survey_layer`)
holds none of its features, so ``map.html`` cannot show them all: it becomes
the province's overview — the layers the client holds, the findings (all of
them up to :data:`OVERVIEW_MAX_FINDINGS`, else that many of the most serious)
and a panel linking each county's map — and ``county-maps/NN.html`` shows one
county (or grid cell) whole: every layer's features that meet its box, the
surveyed ones read from their stores by box, and the findings report.json
places in it (a finding outside every township: in the cell holding, or
nearest to, its representative point). The county maps are shared among a
few processes (:func:`write_county_maps`), each writing its pages one after
the other, so that each holds one county's features at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geoplan.analysis.check_result import CheckResult
from geoplan.analysis.density import Density
from geoplan.analysis.output_steps import Step
from geoplan.analysis.partition import cells_of, owners
from geoplan.layers.loader import LoadedProject
from geoplan.layers.parts_store import stored_in_box
from geoplan.layers.vocabulary import SEVERITIES
from geoplan.maps.county_links import CountyLink

#: Folder of the county maps, beside ``map.html``.
COUNTY_MAPS_FOLDER = "county-maps"

#: Processes that write a province's county maps, at most (:func:`county_map_shares`).
MAX_COUNTY_MAP_PROCESSES = 4

#: Findings the overview map shows all of; above, that many of the most serious.
OVERVIEW_MAX_FINDINGS = 50_000

#: ``render(loaded, conflicts, subtitle=…, county_maps=…, county_note=…) -> html``.
Render = Callable[..., str]


def has_county_maps(loaded: LoadedProject) -> bool:
    """Whether the check's map is an overview with county maps (a layer was surveyed)."""
    return any(layer.parts is not None for layer in loaded.layers.values())


def _county(loaded: LoadedProject, index: int) -> LoadedProject:
    """Every layer's features that meet a county's box, as layers its map draws.

    The counties layer holds that county alone, so that the map opens on it.
    """
    cell = cells_of(loaded)[1][index]
    box = shapely.bounds(cell)
    window = shapely.box(*box)
    layers = {}
    for kind, layer in loaded.layers.items():
        if kind == "counties" and layer.parts is None:
            frame = layer.frame.iloc[[index]]
        elif layer.parts is None:
            rows = np.sort(layer.frame.sindex.query(window, predicate="intersects"))
            frame = layer.frame.iloc[rows]
        else:
            frame = stored_in_box(layer, box)
        layers[kind] = replace(layer, frame=frame, parts=None)
    return LoadedProject(loaded.project, loaded.crs, layers)


def _owner(loaded: LoadedProject, conflicts: gpd.GeoDataFrame, cells: np.ndarray) -> np.ndarray:
    """The county map of each finding: its county's, else the cell holding (or nearest to) it."""
    if len(conflicts) == 0:
        return np.zeros(0, dtype=int)
    owner = owners(shapely.point_on_surface(conflicts.geometry.to_numpy()), cells)
    counties = loaded.layers.get("counties")
    if counties is not None and len(counties.frame):
        index = {name: i for i, name in enumerate(counties.frame["name"].fillna(""))}
        named = conflicts["county"].map(index)
        owner = np.where(named.notna(), named.fillna(-1).astype(int), owner)
    return owner


def _counts(conflicts: gpd.GeoDataFrame) -> dict[str, int]:
    counts = conflicts["severity"].value_counts()
    return {s: int(counts[s]) for s in SEVERITIES if s in counts}


def overview_conflicts(
    conflicts: gpd.GeoDataFrame, limit: int = OVERVIEW_MAX_FINDINGS
) -> tuple[gpd.GeoDataFrame, str]:
    """The findings the overview shows, and the panel's note on what it shows.

    All of them up to ``limit``; above, the ``limit`` most serious — by
    severity, then area — so that the overview stays a page a browser opens.
    """
    if len(conflicts) <= limit:
        return conflicts, f"总览图显示全部 {len(conflicts):,} 处冲突；点县名打开该县详图。"
    rank = conflicts["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    order = np.lexsort((-conflicts["area_m2"].to_numpy(), rank.to_numpy()))[:limit]
    shown = conflicts.iloc[np.sort(order)]
    note = (
        f"共 {len(conflicts):,} 处冲突，总览图只显示其中最严重的 {limit:,} 处"
        f"（按严重程度、面积）；各县详图显示该县全部冲突与图斑。"
    )
    return shown, note


def county_links(result: CheckResult) -> tuple[CountyLink, ...]:
    """The overview's link to each county map, with the county's findings by severity."""
    loaded, conflicts = result.loaded, result.conflicts
    labels, cells = cells_of(loaded)
    owner = _owner(loaded, conflicts, cells)
    return tuple(
        CountyLink(label.removeprefix("县 "), _page(i), _counts(conflicts[owner == i]))
        for i, label in enumerate(labels)
    )


def _page(index: int) -> str:
    return f"{COUNTY_MAPS_FOLDER}/{index + 1:02d}.html"


def write_county_maps(
    result: CheckResult, staging: Path, render: Render, *, subtitle: str, share: tuple[int, int]
) -> None:
    """Write one share of ``county-maps/`` into the staging folder, one page after the other.

    Parameters
    ----------
    result : CheckResult
        A check whose client surveyed a layer (:func:`has_county_maps`).
    staging : pathlib.Path
        The output stage's staging folder.
    render : callable
        Makes a map page (:func:`analysis.output_stage.render_map`).
    subtitle : str
        The maps' second title line.
    share : (int, int)
        ``(k, n)``: the pages of the counties ``k, k + n, k + 2n, …`` (n
        processes write the maps together, each its share).
    """
    loaded, conflicts = result.loaded, result.conflicts
    labels, cells = cells_of(loaded)
    (staging / COUNTY_MAPS_FOLDER).mkdir(exist_ok=True)
    owner = _owner(loaded, conflicts, cells)
    k, n = share
    for i in range(k, len(labels), n):
        page = render(
            _county(loaded, i), conflicts[owner == i], subtitle=f"{labels[i]} · {subtitle}"
        )
        (staging / _page(i)).write_text(page, encoding="utf-8")


def county_map_shares() -> int:
    """Processes that write the county maps together: one per core, at most 4.

    Each is forked from the output stage with the memory it holds, so more
    would cost memory more than they save time.
    """
    return max(1, min(MAX_COUNTY_MAP_PROCESSES, os.cpu_count() or 1))


def county_map_steps(
    result: CheckResult, staging: Path, render: Render, *, subtitle: str, first_child: str
) -> list[Step]:
    """The output steps that write ``county-maps/``: one per share, each in a forked child.

    The first share runs in the child ``first_child`` (after its steps), the
    others each in a child of their own (:func:`analysis.output_steps.run_steps`).
    """
    shares = county_map_shares()
    return [
        Step(
            f"{COUNTY_MAPS_FOLDER}/ {k + 1}",
            partial(
                write_county_maps, result, staging, render, subtitle=subtitle, share=(k, shares)
            ),
            label=f"写出 {COUNTY_MAPS_FOLDER}/（{k + 1}/{shares}）",
            child=first_child if k == 0 else f"county maps {k + 1}",
        )
        for k in range(shares)
    ]


def province_map(result: CheckResult, render: Render, *, subtitle: str, density: Density) -> str:
    """The province's overview page (``map.html``), linking to the county maps.

    Parameters
    ----------
    result : CheckResult
        A check whose client surveyed a layer (:func:`has_county_maps`).
    render : callable
        Makes a map page (:func:`analysis.output_stage.render_map`).
    subtitle : str
        The maps' second title line.
    density : Density
        Of all the conflicts, for the overview.

    Returns
    -------
    str
        The overview's HTML.
    """
    loaded = result.loaded
    held = {k: layer for k, layer in loaded.layers.items() if layer.parts is None}
    shown, note = overview_conflicts(result.conflicts)
    return render(
        LoadedProject(loaded.project, loaded.crs, held),
        shown,
        subtitle=f"总览 · {subtitle}",
        density=density,
        county_maps=county_links(result),
        county_note=note,
    )
