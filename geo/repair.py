"""Geometry repair with a per-feature log.

Real deliveries hold invalid rings, empties, Z and M values and geometry
collections. :func:`repair_geometries` makes them usable for the kind of
layer they belong to and says, feature by feature, what was wrong and what
was done. Nothing is exploded: a multipart feature stays one feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from geoplan.geo.errors import GeometryError

#: The geometry families a layer can hold.
FAMILIES: dict[str, tuple[int, ...]] = {
    "polygon": (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON),
    "line": (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING),
    "point": (shapely.GeometryType.POINT, shapely.GeometryType.MULTIPOINT),
}

REPAIR_LOG_COLUMNS = ["source", "feature", "problem", "action"]


@dataclass
class Repaired:
    """Result of :func:`repair_geometries`.

    Attributes
    ----------
    geometries : numpy.ndarray
        Repaired geometries of the kept features, in input order.
    keep : numpy.ndarray of bool
        Which input features were kept.
    log : pandas.DataFrame
        One row per repair or drop: ``source``, ``feature`` (the source's
        feature id), ``problem``, ``action``.
    """

    geometries: np.ndarray
    keep: np.ndarray
    log: pd.DataFrame

    @property
    def repaired(self) -> int:
        """Number of kept features that were changed."""
        kept_fids = self.log.loc[self.log["action"] != "dropped", "feature"]
        return int(kept_fids.nunique())

    @property
    def dropped(self) -> int:
        """Number of features dropped."""
        return int((~self.keep).sum())


def family_part(geom: shapely.Geometry, family: str) -> shapely.Geometry | None:
    """The parts of ``geom`` of one family, merged into a (multi) geometry.

    Parameters
    ----------
    geom : shapely.Geometry
        Any geometry, e.g. the collection an intersection returns.
    family : {"polygon", "line", "point"}

    Returns
    -------
    shapely.Geometry or None
        ``None`` when ``geom`` has no non-empty part of that family.
    """
    parts = shapely.get_parts(geom)
    wanted = parts[np.isin(shapely.get_type_id(parts), FAMILIES[family])]
    wanted = shapely.get_parts(wanted)  # multi → single
    wanted = wanted[~shapely.is_empty(wanted)]
    if wanted.size == 0:
        return None
    if family == "polygon":
        return shapely.union_all(wanted) if wanted.size > 1 else wanted[0]
    if family == "line":
        return shapely.multilinestrings(wanted) if wanted.size > 1 else wanted[0]
    return shapely.multipoints(wanted) if wanted.size > 1 else wanted[0]


def repair_geometries(
    geometries: ArrayLike,
    *,
    family: str,
    source: str,
    feature_ids: Sequence | None = None,
    ids: Sequence | None = None,
) -> Repaired:
    """Make a layer's geometries valid and of one family, logging every change.

    Steps, each vectorised over the layer:

    1. missing or empty geometries are dropped; coordinates that are NaN or
       infinite are refused (no repair can place them);
    2. Z and M coordinates are dropped;
    3. invalid geometries are made valid (:func:`shapely.make_valid`, the
       linework method, which keeps a ring that touches itself as a hole);
    4. parts of another family (a line left over from a repair, a point in a
       polygon layer) are dropped from the feature; a feature left with
       nothing of its family is dropped.

    Parameters
    ----------
    geometries : array-like of shapely geometries
    family : {"polygon", "line", "point"}
        The geometry family the layer holds.
    source : str
        The file and layer, written into the log.
    feature_ids : sequence, optional
        Feature ids in the source, for the log (default: positions).
    ids : sequence, optional
        The features' ``id`` values, named with the feature id in errors.

    Returns
    -------
    Repaired

    Raises
    ------
    GeometryError
        A feature has a NaN or infinite x or y coordinate; the message names
        the source, the first such feature (feature id and ``id``) and how
        many there are.
    """
    if family not in FAMILIES:
        raise GeometryError(f"unknown geometry family {family!r}; expected one of {list(FAMILIES)}")
    geoms = np.asarray(geometries, dtype=object).copy()
    n = geoms.size
    fids = np.arange(n) if feature_ids is None else np.asarray(feature_ids)
    keep = np.ones(n, dtype=bool)
    records: list[tuple[int, str, str]] = []  # (position, problem, action)

    def note(mask: np.ndarray, problem: str | np.ndarray, action: str) -> None:
        positions = np.flatnonzero(mask)
        problems = np.broadcast_to(np.asarray(problem, dtype=object), mask.shape)[positions]
        records.extend(zip(positions, problems, [action] * positions.size, strict=True))

    missing = pd.isna(geoms) | shapely.is_empty(geoms)
    note(missing, "missing or empty geometry", "dropped")
    keep &= ~missing
    _refuse_non_finite(geoms, keep, source, fids, ids)

    has_z = keep & shapely.has_z(geoms)
    has_m = keep & _has_m(geoms)
    note(has_z | has_m, np.where(has_m, "Z/M coordinates", "Z coordinates"), "dropped Z/M, kept 2D")
    geoms[has_z | has_m] = shapely.force_2d(geoms[has_z | has_m])

    invalid = keep & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = np.full(n, None, dtype=object)
        reasons[invalid] = shapely.is_valid_reason(geoms[invalid])
        note(invalid, reasons, "made valid")
        geoms[invalid] = shapely.make_valid(geoms[invalid])

    wrong_family = keep & ~np.isin(shapely.get_type_id(geoms), FAMILIES[family])
    for pos in np.flatnonzero(wrong_family):
        part = family_part(geoms[pos], family)
        kind = shapely.get_type_id(geoms[pos])
        what = shapely.GeometryType(kind).name.lower()
        if part is None:
            records.append((pos, f"{what} has no {family} part", "dropped"))
            keep[pos] = False
        else:
            records.append((pos, f"{what} mixes geometry types", f"kept the {family} part"))
            geoms[pos] = part

    records.sort(key=lambda r: r[0])
    log = pd.DataFrame(
        {
            "source": source,
            "feature": [fids[p] for p, _, _ in records],
            "problem": [p for _, p, _ in records],
            "action": [a for _, _, a in records],
        },
        columns=REPAIR_LOG_COLUMNS,
    )
    return Repaired(geoms[keep], keep, log)


def _refuse_non_finite(
    geoms: np.ndarray, keep: np.ndarray, source: str, fids: np.ndarray, ids: Sequence | None
) -> None:
    coords, owner = shapely.get_coordinates(geoms[keep], return_index=True)
    bad = np.unique(owner[~np.isfinite(coords).all(axis=1)])
    if bad.size == 0:
        return
    pos = np.flatnonzero(keep)[bad]
    label = f"feature {fids[pos[0]]}"
    first_id = None if ids is None else np.asarray(ids, dtype=object)[pos[0]]
    if first_id is not None and not pd.isna(first_id):
        label += f" (id {first_id!r})"
    more = f"; {pos.size} features have such coordinates" if pos.size > 1 else ""
    raise GeometryError(
        f"{source} {label}: coordinates are not finite numbers (NaN or infinite){more}; "
        "correct or delete the feature"
    )


def _has_m(geoms: np.ndarray) -> np.ndarray:
    if hasattr(shapely, "has_m"):  # shapely >= 2.1
        return shapely.has_m(geoms)
    return np.zeros(geoms.shape, dtype=bool)
