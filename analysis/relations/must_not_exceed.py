"""``must_not_exceed``: A may not lie where a raster measure exceeds a threshold.

The rule names a ``[rasters]`` entry of the project (``raster``), a measure of
it (``measure``: elevation, or slope and aspect by Horn's method) and the
``threshold`` (metres for elevation, degrees for slope and aspect). Before the
engine starts, the run vectorises the cells over the threshold within the left
side's extent (:func:`threshold_zone`); each breach is A ∩ that zone.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.analysis.breaches import Breaches, shared_area
from geoplan.analysis.relations import Param, Relation, Sides
from geoplan.analysis.rules import Rule
from geoplan.analysis.selection import RuleSkipped, Selection, select
from geoplan.geo.terrain import MEASURES, DerivedRasters, above_threshold
from geoplan.layers.loader import LoadedProject

_MEASURE_TITLES = {"elevation": "高程", "slope": "坡度", "aspect": "坡向"}
_MEASURE_UNITS = {"elevation": "米", "slope": "度", "aspect": "度"}


def threshold_zone(loaded: LoadedProject, rule: Rule, rasters: DerivedRasters | None) -> Selection:
    """Where the rule's raster measure exceeds its threshold, over the left side's extent.

    The cells are vectorised in the raster's CRS and brought into the working
    CRS as one pseudo-feature named after the raster and the threshold.

    Parameters
    ----------
    loaded : LoadedProject
    rule : Rule
    rasters : DerivedRasters or None
        The run's slope and aspect, derived once; None derives the measure
        of the cells in the extent directly.

    Raises
    ------
    RuleSkipped
        The project lacks the left layer or the raster.
    """
    raster, measure, threshold = (rule.params[k] for k in ("raster", "measure", "threshold"))
    frame = select(loaded, rule.left).frame
    spec = loaded.project.rasters.get(raster)
    if spec is None:
        raise RuleSkipped(
            f"the project has no raster {raster!r} ([rasters.{raster}])",
            f"项目没有栅格“{raster}”（[rasters.{raster}]）",
        )
    info = spec.info()
    surveyed = loaded.layers[rule.left.kind].parts is not None
    if len(frame) or surveyed:  # a cluster run's surveyed layer: the zone over its extent
        bounds = (
            loaded.layers[rule.left.kind].extent_in(info.crs)
            if surveyed
            else tuple(frame.to_crs(info.crs).total_bounds)
        )
        if rasters is not None:
            cells = above_threshold(rasters.get(info, measure), "elevation", threshold, bounds)
        else:
            cells = above_threshold(info, measure, threshold, bounds)
    else:
        cells = np.array([], dtype=object)
    zone = gpd.GeoSeries(cells, crs=info.crs).to_crs(frame.crs).union_all() if len(cells) else None
    title = f"{_MEASURE_TITLES[measure]}大于{threshold:g}{_MEASURE_UNITS[measure]}"
    out = pd.DataFrame(
        {
            "layer_kind": [f"raster:{raster}"],
            "id": [f"{measure}>{threshold:g}"],
            "name": [title],
            "source_fid": [-1],
        }
    )
    geoms = [zone] if zone is not None and not zone.is_empty else []
    return Selection.of(gpd.GeoDataFrame(out.iloc[: len(geoms)], geometry=geoms, crs=frame.crs))


def breaches(rule: Rule, sides: Sides) -> Breaches:
    """The area each left feature shares with the prepared threshold zone."""
    return shared_area(sides.left, sides.prepared, "exceeds")


RELATION = Relation(
    name="must_not_exceed",
    title="不得超过阈值",
    sides=("left",),
    breaches=breaches,
    params=(
        Param("raster", str, "", "= the name of a [rasters] entry", "dem", bool),
        Param("measure", str, "", "= " + ", ".join(MEASURES), "slope", MEASURES.__contains__),
        Param("threshold", float, "metres or degrees, as the measure", "= a number", 25),
    ),
    prepare=threshold_zone,
    site_sides=("left",),
)
