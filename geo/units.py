"""Area units planners use, and the one place they are converted.

All areas inside geoplan are square metres; these helpers convert to the
units of Chinese planning documents.

=========  ==========================  =================
unit       name                        square metres
=========  ==========================  =================
``m2``     平方米 square metre           1
``mu``     亩 mu                        10000 / 15
``ha``     公顷 hectare                  10 000
``wanmu``  万亩 ten thousand mu          10000 / 15 × 10 000
``km2``    平方千米 square kilometre     1 000 000
=========  ==========================  =================
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

SQUARE_METRES: dict[str, float] = {
    "m2": 1.0,
    "mu": 10000.0 / 15.0,
    "ha": 10_000.0,
    "wanmu": 10000.0 / 15.0 * 10_000.0,
    "km2": 1_000_000.0,
}


def convert_area(value: ArrayLike, from_unit: str, to_unit: str) -> np.ndarray | float:
    """Convert an area between units.

    Parameters
    ----------
    value : float or array-like
        Area in ``from_unit``.
    from_unit, to_unit : {"m2", "mu", "ha", "wanmu", "km2"}
        Units to convert between.

    Returns
    -------
    float or numpy.ndarray
        Area in ``to_unit``; a float for a scalar input.

    Examples
    --------
    >>> convert_area(1.0, "km2", "mu")
    1500.0
    """
    try:
        factor = SQUARE_METRES[from_unit] / SQUARE_METRES[to_unit]
    except KeyError as exc:
        raise ValueError(
            f"unknown area unit {exc.args[0]!r}; expected one of {sorted(SQUARE_METRES)}"
        ) from None
    result = np.asarray(value, dtype="float64") * factor
    return float(result) if result.ndim == 0 else result


def m2_to_mu(area_m2: ArrayLike) -> np.ndarray | float:
    """Square metres to 亩 (1 亩 = 10000/15 m²)."""
    return convert_area(area_m2, "m2", "mu")


def m2_to_ha(area_m2: ArrayLike) -> np.ndarray | float:
    """Square metres to 公顷 (hectares)."""
    return convert_area(area_m2, "m2", "ha")


def m2_to_km2(area_m2: ArrayLike) -> np.ndarray | float:
    """Square metres to square kilometres."""
    return convert_area(area_m2, "m2", "km2")


def m2_to_wanmu(area_m2: ArrayLike) -> np.ndarray | float:
    """Square metres to 万亩 (ten thousand 亩)."""
    return convert_area(area_m2, "m2", "wanmu")
