"""Land classes taken (压占分析): each occupation conflict broken down by 地类, gross and net.

The conflicts whose pieces are land a plan feature takes — ``overlap``,
``outside``, ``within_distance`` and ``exceeds`` pieces (:data:`OCCUPATION_DETAILS`:
every relation but ``must_tile``, whose gaps, double cover and spill are
faults of the zoning map, not land taken) — are intersected with the
land-survey polygons: the ``land_survey`` layer (三调 地类图斑) if the project
has one, else ``cultivated_land`` with 地类编码, else ``permanent_farmland``
with 地类编码 (:data:`SOURCE_KINDS`). The gross area of a piece is the
ellipsoidal area of the intersection; its net area deducts the 田坎:

- ``coefficient``: gross × (1 − KCXS), when the patch has a 扣除系数;
- ``pro_rata``: gross × TBDLMJ / TBMJ, when it has both areas instead;
- ``gross``: the gross area, when it has neither.

The pieces are summed by rule × township × land class. Survey polygons are
taken to tile the ground (as a 三调 delivery does); overlapping ones would
count their shared ground twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.geo.area import ellipsoidal_area
from geoplan.geo.units import m2_to_ha, m2_to_mu
from geoplan.layers.deductions import patch_area
from geoplan.layers.land_classes import land_class_name
from geoplan.layers.loader import LoadedProject
from geoplan.layers.vocabulary import SEVERITY_RANK

#: Conflict details whose pieces are land taken.
OCCUPATION_DETAILS = ("overlap", "outside", "within_distance", "exceeds")
#: The layers a breakdown reads its land classes from, in order of preference.
SOURCE_KINDS = ("land_survey", "cultivated_land", "permanent_farmland")
#: How a row's net area was found (``net_method``); ``mixed`` when its pieces differ.
NET_METHODS = ("coefficient", "pro_rata", "gross", "mixed")
#: Columns of :attr:`LandClasses.rows`, in order.
ROW_COLUMNS = (
    "rule_id",
    "severity",
    "county",
    "township",
    "land_class",
    "land_class_name",
    "gross_area_m2",
    "gross_area_mu",
    "gross_area_ha",
    "net_area_m2",
    "net_area_mu",
    "net_area_ha",
    "net_method",
)
#: Longest edge (m) of a piece before its area is measured.
_MAX_EDGE_M = 25.0
_KEYS = ["rule_id", "severity", "county", "township", "land_class", "land_class_name"]


@dataclass(frozen=True)
class LandClasses:
    """The land classes the occupation conflicts take.

    Attributes
    ----------
    source : str or None
        The layer kind the classes were read from; None when the project
        has none of :data:`SOURCE_KINDS` with a 地类编码 (``rows`` is empty).
    rows : pandas.DataFrame
        :data:`ROW_COLUMNS`, one row per rule × county × township × land
        class, ordered by severity (most severe first), rule id and gross
        area (largest first); areas unrounded.
    """

    source: str | None
    rows: pd.DataFrame


def land_class_source(loaded: LoadedProject) -> str | None:
    """The first of :data:`SOURCE_KINDS` the project has with any 地类编码, or None."""
    for kind in SOURCE_KINDS:
        layer = loaded.layers.get(kind)
        if layer is not None and layer.parts is not None:
            if "land_class" in layer.parts.valued:
                return kind
        elif layer is not None and "land_class" in layer.frame:
            if layer.frame["land_class"].notna().any():
                return kind
    return None


def net_factors(survey: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per survey polygon: net/gross factor and its method (a value of :data:`NET_METHODS`).

    Examples
    --------
    >>> frame = pd.DataFrame({"deduction_coefficient": [0.1, None, None],
    ...                       "net_land_area": [None, 80.0, None],
    ...                       "survey_area": [100.0, 100.0, 100.0]})
    >>> factor, method = net_factors(frame)
    >>> factor.round(2).tolist(), method.tolist()
    ([0.9, 0.8, 1.0], ['coefficient', 'pro_rata', 'gross'])
    """
    n = len(survey)
    nan = pd.Series(np.nan, index=survey.index)
    coefficient = survey.get("deduction_coefficient", nan).to_numpy(dtype="float64")
    net = survey.get("net_land_area", nan).to_numpy(dtype="float64")
    gross = patch_area({c: survey[c] for c in ("survey_area", "area") if c in survey})
    gross = np.full(n, np.nan) if gross is None else gross.to_numpy(dtype="float64")
    by_coefficient = np.isfinite(coefficient)
    pro_rata = ~by_coefficient & np.isfinite(net) & np.isfinite(gross) & (gross > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(by_coefficient, 1 - coefficient, np.where(pro_rata, net / gross, 1.0))
    method = np.where(by_coefficient, "coefficient", np.where(pro_rata, "pro_rata", "gross"))
    return factor, method.astype(object)


def _area(geoms: np.ndarray, crs) -> np.ndarray:
    # geo.area densifies to 1 km edges, which leaves ~1e-5 on the thin pieces
    # a field cut by a boundary leaves; 25 m edges bring that under 1e-6.
    if len(geoms) == 0:
        return np.zeros(0)
    return ellipsoidal_area(shapely.segmentize(geoms, _MAX_EDGE_M), crs)


def shared_areas(
    left: np.ndarray, right: np.ndarray, crs
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of ``left`` and ``right`` geometries that meet, and the area (m²) each shares.

    A pair of which one lies within the other shares the smaller one's own
    area, measured once per geometry; only the other pairs are intersected
    (on a city nearly every pair is of the first sort: intersecting them all
    took twice as long as the rest of the breakdown). The pairs come from
    one "intersects" query; identical geometries (a patch a conflict takes
    whole: a third of a city's pairs) are found by comparing coordinates,
    and only the rest are tested for "within" and "contains" — three tree
    queries with those predicates took four times as long.

    Returns
    -------
    li, ri : numpy.ndarray of int
        Positions in ``left`` and ``right``.
    area_m2 : numpy.ndarray of float
        Ellipsoidal area of ``left[li] ∩ right[ri]``.
    """
    li, ri = shapely.STRtree(right).query(left, predicate="intersects")
    one, other = left[li], right[ri]
    inside = shapely.equals_exact(one, other, 0.0)
    rest = ~inside
    inside[rest] = shapely.within(one[rest], other[rest])
    covers = np.zeros_like(inside)
    rest = ~inside
    shapely.prepare(left)  # each piece is tested against all its patches: 6x as fast
    try:
        covers[rest] = shapely.contains(one[rest], other[rest])
    finally:
        shapely.destroy_prepared(left)
    cut = ~(inside | covers)
    area = np.zeros(li.size)
    for part, own, index in ((inside, left, li), (covers, right, ri)):
        used, at = np.unique(index[part], return_inverse=True)
        area[part] = _area(own[used], crs)[at]
    area[cut] = _area(shapely.intersection(left[li[cut]], right[ri[cut]]), crs)
    return li, ri, area


def occupation_pieces(conflicts: gpd.GeoDataFrame, survey: gpd.GeoDataFrame, crs) -> pd.DataFrame:
    """Each occupation conflict ∩ each survey polygon it meets, with gross and net areas.

    Parameters
    ----------
    conflicts : geopandas.GeoDataFrame
        Conflict rows (working CRS).
    survey : geopandas.GeoDataFrame
        The land-survey layer as loaded (``land_class`` and optionally
        ``land_class_name`` and the deduction fields).
    crs : pyproj.CRS
        Working CRS.

    Returns
    -------
    pandas.DataFrame
        :data:`_KEYS` plus ``gross_m2``, ``net_m2`` and ``net_method``, one
        row per piece of positive area.
    """
    taken = conflicts[conflicts["detail"].isin(OCCUPATION_DETAILS)]
    left, right = (np.asarray(f.geometry.values, dtype=object) for f in (taken, survey))
    ci, si, gross = shared_areas(left, right, crs)
    keep = gross > 0
    ci, si, gross = ci[keep], si[keep], gross[keep]
    factor, method = net_factors(pd.DataFrame(survey.drop(columns=survey.geometry.name)))
    codes = survey["land_class"].iloc[si]
    delivered = survey.get("land_class_name", pd.Series(None, index=survey.index)).iloc[si]
    names = [land_class_name(c, d) for c, d in zip(codes, delivered, strict=True)]
    part = taken.iloc[ci]
    return pd.DataFrame(
        {
            "rule_id": part["rule_id"].to_numpy(),
            "severity": part["severity"].to_numpy(),
            "county": part["county"].fillna("").to_numpy(),
            "township": part["township"].fillna("").to_numpy(),
            "land_class": codes.fillna("").to_numpy(dtype=object),
            "land_class_name": np.array(names, dtype=object),
            "gross_m2": gross,
            "net_m2": gross * factor[si],
            "net_method": method[si],
        }
    )


def group_pieces(pieces: pd.DataFrame) -> pd.DataFrame:
    """Pieces summed by rule × township × land class, as :data:`ROW_COLUMNS`, ordered."""
    if len(pieces) == 0:
        return pd.DataFrame({c: [] for c in ROW_COLUMNS})
    grouped = pieces.groupby(_KEYS, sort=False, dropna=False)
    table = grouped.agg(
        gross_area_m2=("gross_m2", "sum"),
        net_area_m2=("net_m2", "sum"),
        methods=("net_method", "nunique"),
        net_method=("net_method", "first"),
    ).reset_index()
    table.loc[table["methods"] > 1, "net_method"] = "mixed"
    for side in ("gross", "net"):
        m2 = table[f"{side}_area_m2"].to_numpy()
        table[f"{side}_area_mu"] = m2_to_mu(m2)
        table[f"{side}_area_ha"] = m2_to_ha(m2)
    table["_rank"] = -table["severity"].map(SEVERITY_RANK)
    table = table.sort_values(
        ["_rank", "rule_id", "gross_area_m2", "township", "land_class"],
        ascending=[True, True, False, True, True],
        kind="stable",
    )
    return table[list(ROW_COLUMNS)].reset_index(drop=True)


def land_class_breakdown(
    loaded: LoadedProject, conflicts: gpd.GeoDataFrame, pieces: pd.DataFrame | None = None
) -> LandClasses:
    """The land classes the occupation conflicts take, gross and net of the 田坎 deduction.

    Parameters
    ----------
    loaded : LoadedProject
    conflicts : geopandas.GeoDataFrame
        The check's conflict rows (working CRS).
    pieces : pandas.DataFrame, optional
        The pieces already cut (:func:`occupation_pieces`), all partitions'
        of a cluster run whose client does not hold the source layer.

    Returns
    -------
    LandClasses
        Empty rows, and ``source`` None, when the project has no layer of
        :data:`SOURCE_KINDS` with a 地类编码.
    """
    source = land_class_source(loaded)
    if source is None or len(conflicts) == 0:
        return LandClasses(source, group_pieces(pd.DataFrame()))
    if pieces is None:
        pieces = occupation_pieces(conflicts, usable(loaded.layers[source].frame), loaded.crs)
    return LandClasses(source, group_pieces(pieces))


def usable(survey: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The survey polygons with a geometry."""
    return survey[survey.geometry.notna() & ~survey.geometry.is_empty]


def land_class_summary(land_classes: LandClasses | None) -> dict:
    """``land_class_source`` and ``by_land_class`` of ``report.json``'s summary.

    Areas rounded as ``report.json`` holds them (m² and 亩 to 2 decimals,
    公顷 to 4); no rows and source None when the check made no breakdown.
    """
    if land_classes is None:
        return {"land_class_source": None, "by_land_class": []}
    decimals = {
        f"{side}_area_{unit}": 4 if unit == "ha" else 2
        for side in ("gross", "net")
        for unit in ("m2", "mu", "ha")
    }
    rows = land_classes.rows.round(decimals).astype(object)
    return {"land_class_source": land_classes.source, "by_land_class": rows.to_dict("records")}
