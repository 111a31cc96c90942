"""The 田坎 deduction of a land-survey patch: KCXS checked, KCMJ and TBDLMJ against TBMJ.

In a 三调 地类图斑 (DLTB) the 扣除系数 KCXS is the share of the patch that is
田坎 (or another deducted class, KCDLBM), as a fraction: the 扣除地类面积 is
KCMJ = TBMJ × KCXS and the 图斑地类面积 TBDLMJ = TBMJ − KCMJ, all in m².
The 二调 database stored the same share as a percent (TKXS, Float 5.2, see
《土地利用数据库标准》 表A.2 as reproduced at
http://www.fymate.com/html/text/chl/1624/162409_5.html), so a value of 1 or
more is refused with a hint rather than read either way. Patches on slopes
of 2° or less carry no coefficient: their 田坎 are mapped one by one (二调 and
三调 规程, as summarised at https://mip.book118.com/html/2017/0619/116587090.shtm).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from geoplan.layers.errors import ProjectError
from geoplan.layers.project_types import LayerSpec

logger = logging.getLogger(__name__)

#: Relative difference (of TBMJ) beyond which TBDLMJ is reported as not
#: TBMJ × (1 − KCXS) (or TBMJ − KCMJ): 0.1 %, well above the rounding of
#: KCXS to four decimals and of the areas to 0.01 m².
DEDUCTION_TOLERANCE = 1e-3


def patch_area(mapped: dict[str, pd.Series]) -> pd.Series | None:
    """The 图斑面积 (m²) a deduction applies to: ``survey_area``, else the stored ``area``."""
    return mapped.get("survey_area", mapped.get("area"))


def check_deductions(mapped: dict[str, pd.Series], spec: LayerSpec) -> int:
    """Refuse a KCXS outside [0, 1); warn about TBDLMJ that does not follow from TBMJ.

    Parameters
    ----------
    mapped : dict of str to pandas.Series
        The layer's standard fields, indexed by source feature id
        (:func:`layers.field_mapping.map_fields`).
    spec : LayerSpec
        The layer, for messages.

    Returns
    -------
    int
        How many features have a TBDLMJ more than :data:`DEDUCTION_TOLERANCE`
        of their TBMJ away from TBMJ × (1 − KCXS), or from TBMJ − KCMJ when
        KCXS is missing (a warning names the layer and the first feature).

    Raises
    ------
    ProjectError
        A KCXS below 0 or not below 1, naming the layer, feature and value.
    """
    coefficient = mapped.get("deduction_coefficient")
    if coefficient is not None:
        bad = coefficient.notna() & ~((coefficient >= 0) & (coefficient < 1))
        if bad.any():
            fid = coefficient.index[bad][0]
            value = coefficient[fid]
            hint = (
                f" (a percent? 三调 stores KCXS as a fraction: {value / 100:g} for {value:g} %)"
                if 1 < value <= 100
                else ""
            )
            raise ProjectError(
                f"{spec.source} ({spec.kind}) feature {fid}: deduction_coefficient (扣除系数) "
                f"is {value:g}; expected 0 ≤ KCXS < 1{hint} ({int(bad.sum())} features)"
            )
    net, gross = mapped.get("net_land_area"), patch_area(mapped)
    if net is None or gross is None:
        return 0
    deducted = mapped.get("deduction_area")
    expected = pd.Series(np.nan, index=net.index)
    if deducted is not None:
        expected = gross - deducted
    if coefficient is not None:
        expected = (gross * (1 - coefficient)).fillna(expected)
    off = (expected - net).abs() > DEDUCTION_TOLERANCE * gross.abs() + 0.01
    n = int(off.sum())
    if n:
        fid = net.index[off][0]
        logger.warning(
            "%s (%s): %d features have a 图斑地类面积 (TBDLMJ) that is not "
            "图斑面积 × (1 − 扣除系数); the first is feature %s: %s m² for %s m²",
            spec.source,
            spec.kind,
            n,
            fid,
            f"{net[fid]:.2f}",
            f"{expected[fid]:.2f}",
        )
    return n
