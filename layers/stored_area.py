"""A layer's stored area (MJ, TBMJ …) against the area geoplan computes.

Delivered layers often carry an area field whose unit is not written
anywhere; the unit is judged from the values — the one of
:data:`geo.units.SQUARE_METRES` that brings the median stored/computed ratio
nearest 1 — and the features whose stored area is off are counted.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geoplan.geo.units import SQUARE_METRES

#: Relative difference beyond which a stored area is reported as off.
STORED_AREA_TOLERANCE = 0.01


def judge_stored_area(frame: gpd.GeoDataFrame) -> tuple[str, int] | None:
    """The unit of a layer's stored ``area`` and how many features it is off for.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        A loaded polygon layer: ``area`` (stored, unit unknown) and
        ``area_m2`` (ellipsoidal, m²).

    Returns
    -------
    tuple of (str, int) or None
        The unit (a key of :data:`geo.units.SQUARE_METRES`) and the number of
        features whose stored area differs from the computed one by more
        than :data:`STORED_AREA_TOLERANCE`; None when the layer has no stored
        area to compare.
    """
    if "area" not in frame or frame["area"].isna().all() or len(frame) == 0:
        return None
    stored = frame["area"].to_numpy(dtype="float64")
    computed = frame["area_m2"].to_numpy()
    ok = np.isfinite(stored) & (computed > 0)
    if not ok.any():
        return None
    ratio = np.median(stored[ok] / computed[ok])
    unit = min(SQUARE_METRES, key=lambda u: abs(np.log(ratio * SQUARE_METRES[u])))
    stored_m2 = stored * SQUARE_METRES[unit]
    off = ok & (np.abs(stored_m2 - computed) > STORED_AREA_TOLERANCE * computed)
    return unit, int(off.sum())
