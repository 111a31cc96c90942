"""The 问题清单: each prohibited and restricted finding, where it is and what to do.

A finding groups the conflict rows of one rule between the same two features
(``rule_id``, ``left_id``, ``right_id``; a single-layer rule's right id is
empty), which the township split may have cut into several rows. Each
finding carries the land it takes (the union of its rows), the counties and
townships it lies in, and a centre point on its surface (on its largest
row, which lies in the union) in CGCS2000 (EPSG:4490) and in the working
CRS. Its rule's citation and remedy (data of the rule pack) are held once,
in ``summary.by_rule``, and every rendering looks them up there by
``rule_id`` (:func:`analysis.reports.review_tables.issue_remedy`): copied
into each finding they were a fifth of a city's ``report.json``.

Everything is computed per column over all findings at once: on a city the
问题清单 has tens of thousands of findings, most of them one row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geoplan.analysis.reports.land import LandIndex, grouped_land
from geoplan.geo.units import SQUARE_METRES
from geoplan.layers.vocabulary import SEVERITIES, SEVERITY_RANK, SEVERITY_TITLES

#: The severities the 问题清单 lists.
ISSUE_SEVERITIES = ("prohibited", "restricted")
#: What identifies a finding.
ISSUE_KEYS = ["rule_id", "left_id", "right_id"]
#: CGCS2000 geographic, the CRS of the centre points' longitude and latitude.
CGCS2000 = "EPSG:4490"


def issue_id(rule_id: str, left_id: str, right_id: str) -> str:
    """A finding's stable id: the rule id and 10 hex digits of the SHA-1 of its key.

    Examples
    --------
    >>> issue_id("pa-no-overlap", "ZRBHD0003", "ZRBHD0012")[:14]
    'pa-no-overlap-'
    """
    digest = hashlib.sha1(f"{rule_id}|{left_id}|{right_id}".encode()).hexdigest()[:10]
    return f"{rule_id}-{digest}"


_SIDE_COLUMNS = [f"{s}_{k}" for s in ("left", "right") for k in ("kind", "id", "name")]


def _per_group(codes: np.ndarray, values: np.ndarray, groups: int, distinct: bool) -> list[list]:
    """The values of each group's rows as lists, in row order (``distinct``: sorted, non-empty)."""
    frame = pd.DataFrame({"g": codes, "v": values})
    if distinct:
        frame = frame[frame["v"].notna() & (frame["v"] != "")].drop_duplicates()
        frame = frame.sort_values(["g", "v"], kind="stable")
    else:
        frame = frame.sort_values("g", kind="stable")
    out: list[list] = [[] for _ in range(groups)]
    g = frame["g"].to_numpy()
    texts = [str(v) for v in frame["v"].tolist()]
    bounds = (np.flatnonzero(np.diff(g)) + 1).tolist()
    for start, stop in zip([0, *bounds], [*bounds, g.size], strict=True):
        if stop > start:
            out[g[start]] = texts[start:stop]
    return out


def issues(
    conflicts: gpd.GeoDataFrame, rules: list[Mapping[str, Any]], index: LandIndex
) -> list[dict[str, Any]]:
    """The 问题清单 of ``report.json`` (``issues``), numbered from 1 in severity order.

    Parameters
    ----------
    conflicts : geopandas.GeoDataFrame
        The conflict rows in the working CRS, with a 0-based index.
    rules : list of mapping
        ``summary.by_rule`` (severities and titles by rule id).
    index : LandIndex
        Which of ``conflicts`` share area.

    Returns
    -------
    list of dict
        One per finding of a prohibited or restricted rule, with the keys of
        the report contract (see the module notes).
    """
    serious = conflicts["severity"].isin(ISSUE_SEVERITIES).to_numpy()
    if not serious.any():
        return []
    table = pd.DataFrame(conflicts.drop(columns="geometry"))[serious]
    groups, codes, land_m2 = grouped_land(table, index, ISSUE_KEYS)
    n = len(groups)
    # each group's first row (its feature names) and largest row (its centre)
    area = table["area_m2"].to_numpy(dtype=float)
    by_size = np.lexsort((-area, codes))
    largest = by_size[np.r_[True, np.diff(codes[by_size]) != 0]]
    first = np.unique(codes, return_index=True)[1]
    geoms = conflicts.geometry.to_numpy()[serious]
    centre = shapely.point_on_surface(geoms[largest])
    x, y = shapely.get_x(centre), shapely.get_y(centre)
    lon, lat = Transformer.from_crs(index.crs, CGCS2000, always_xy=True).transform(x, y)
    column = {
        k: table[k].to_numpy(dtype=object)
        for k in (*_SIDE_COLUMNS, "county", "township", "conflict_id")
    }
    by_rule = {r["rule_id"]: r for r in rules}
    rule_ids = groups["rule_id"].to_numpy(dtype=object)
    severity = np.array([by_rule[r]["severity"] for r in rule_ids], dtype=object)
    out = pd.DataFrame(
        {
            "issue_id": [
                issue_id(*key) for key in groups[ISSUE_KEYS].itertuples(index=False, name=None)
            ],
            "severity": severity,
            "severity_title": [SEVERITY_TITLES[s] for s in severity],
            "rule_id": rule_ids,
            "rule_title": [by_rule[r]["title"] for r in rule_ids],
            **{k: column[k][first] for k in _SIDE_COLUMNS},
            "counties": _per_group(codes, column["county"], n, True),
            "townships": _per_group(codes, column["township"], n, True),
            "conflict_ids": _per_group(codes, column["conflict_id"], n, False),
            "conflicts": groups["conflicts"].to_numpy(dtype=np.int64),
            "land_area_m2": np.round(land_m2, 2),
            "land_area_mu": np.round(land_m2 / SQUARE_METRES["mu"], 2),
            "land_area_ha": np.round(land_m2 / SQUARE_METRES["ha"], 4),
            "centre_lon": np.round(lon, 6),
            "centre_lat": np.round(lat, 6),
            "centre_x": np.round(x, 2),
            "centre_y": np.round(y, 2),
        }
    )
    out["rank"] = [-SEVERITY_RANK[s] for s in severity]
    out = out.sort_values(["rank", "land_area_m2", "issue_id"], ascending=[True, False, True])
    out.insert(0, "number", np.arange(1, n + 1))
    # column by column: DataFrame.to_dict boxes each cell on its own
    keys = [k for k in out.columns if k != "rank"]
    values = [out[k].to_numpy(dtype=object).tolist() for k in keys]
    return [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]


def severity_sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Summary rows in severity order (:data:`layers.vocabulary.SEVERITIES`), then land area."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(rows, key=lambda r: (rank[r["severity"]], -r["land_area_m2"]))
