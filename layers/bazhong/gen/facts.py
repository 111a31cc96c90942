"""The published figures and places the Bazhong generator is calibrated to.

The plan targets (km²) are those of ``facts/plan_targets.csv`` (巴中市国土空间总体
规划); the other tables of ``facts/`` are read by the layer modules.
"""

from __future__ import annotations

from pathlib import Path

FACTS = Path(__file__).resolve().parents[1] / "facts"

#: County seats (CGCS2000 lon, lat in degrees).
SEATS = {
    "巴州区": (106.75, 31.86),
    "恩阳区": (106.63, 31.79),
    "通江县": (107.24, 31.91),
    "南江县": (106.83, 32.35),
    "平昌县": (107.10, 31.56),
}
#: 生态空间's share of the city; 城镇空间 (1.31 %) is the urban boundary, 农业空间 the rest.
ECOLOGICAL_SHARE = 0.5030
REDLINE_KM2 = 1673.0
FARMLAND_KM2 = 2187.13 * 1.0005  # a hair above the plan figure (a ">=" target)
CULTIVATED_KM2 = 2523.6 * 1.0005
URBAN_KM2 = 160.6 * 0.999  # a hair below the plan figure (a "<=" target)
CENTRAL_URBAN_KM2 = 71.8 * 0.998
