"""Plan targets: each layer's measured total against the plan's figure.

A target (``[[targets]]`` in the project file)::

    [[targets]]
    indicator = "永久基本农田保护面积"
    layer = "permanent_farmland"     # a layer kind
    value = 328.07
    unit = "万亩"                     # 万亩 公顷 亩 km2 m2 (or wanmu ha mu), or "count"
    constraint = ">="                 # ">=", "<=" or "="
    tolerance = 0.005                 # optional: relative tolerance of "=" (default 0.5 %)
    where = { function_type = "城镇化地区" }   # optional attribute filter
    year = 2035
    source = "巴中市国土空间总体规划（2021—2035年）"

Areas are the sum of the features' ellipsoidal areas (overlapping features
count twice, as a plan's table of its areas does); ``count`` counts features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.errors import ProjectError
from geo.units import SQUARE_METRES
from layers.catalog import KINDS
from layers.loader import LoadedProject

#: Unit names accepted in targets → geo.units keys.
UNIT_NAMES = {
    "m2": "m2",
    "m²": "m2",
    "平方米": "m2",
    "mu": "mu",
    "亩": "mu",
    "ha": "ha",
    "公顷": "ha",
    "wanmu": "wanmu",
    "万亩": "wanmu",
    "km2": "km2",
    "km²": "km2",
    "平方公里": "km2",
    "count": "count",
    "个": "count",
}
CONSTRAINTS = (">=", "<=", "=")
#: Relative tolerance of an "=" target when the target gives none.
DEFAULT_EQUAL_TOLERANCE = 0.005


@dataclass(frozen=True)
class Target:
    """One plan target, validated."""

    indicator: str
    layer: str
    value: float
    unit: str
    constraint: str
    tolerance: float = DEFAULT_EQUAL_TOLERANCE
    where: tuple[tuple[str, Any], ...] = ()
    year: str = ""
    source: str = ""


@dataclass(frozen=True)
class TargetRow:
    """A target with its measured value.

    Attributes
    ----------
    target : Target
    measured : float or None
        In the target's unit; None when the layer is not in the project.
    status : {"pass", "fail", "missing"}
    """

    target: Target
    measured: float | None
    status: str

    @property
    def difference(self) -> float | None:
        """Measured minus target, in the target's unit."""
        return None if self.measured is None else self.measured - self.target.value

    @property
    def difference_pct(self) -> float | None:
        """The difference as a percentage of the target."""
        if self.measured is None or self.target.value == 0:
            return None
        return 100.0 * (self.measured - self.target.value) / self.target.value

    def as_dict(self) -> dict[str, Any]:
        """The row as plain values (for JSON and tables)."""
        t = self.target
        return {
            "indicator": t.indicator,
            "layer": t.layer,
            "where": dict(t.where),
            "unit": t.unit,
            "constraint": t.constraint,
            "target": t.value,
            "measured": None if self.measured is None else round(self.measured, 4),
            "difference": None if self.difference is None else round(self.difference, 4),
            "difference_pct": None
            if self.difference_pct is None
            else round(self.difference_pct, 3),
            "tolerance": t.tolerance if t.constraint == "=" else 0.0,
            "status": self.status,
            "year": t.year,
            "source": t.source,
        }


def parse_targets(raw: list[dict[str, Any]], where: str) -> list[Target]:
    """Validate the ``[[targets]]`` tables of a project file.

    Raises
    ------
    ProjectError
        Naming the target and the field that is wrong.
    """
    targets = []
    for i, entry in enumerate(raw):
        at = f"{where} [[targets]] #{i + 1}"
        for key in ("indicator", "layer", "value", "unit", "constraint"):
            if key not in entry:
                raise ProjectError(f"{at}: missing key {key!r}")
        at = f"{at} ({entry['indicator']})"
        if entry["layer"] not in KINDS:
            raise ProjectError(f"{at}: unknown layer kind {entry['layer']!r}")
        unit = UNIT_NAMES.get(str(entry["unit"]))
        if unit is None:
            raise ProjectError(
                f"{at}: unit {entry['unit']!r} is not one of {', '.join(UNIT_NAMES)}"
            )
        if entry["constraint"] not in CONSTRAINTS:
            raise ProjectError(f"{at}: constraint must be one of {', '.join(CONSTRAINTS)}")
        value = entry["value"]
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or not math.isfinite(value):
            raise ProjectError(f"{at}: value must be a number, got {value!r}")
        filters = entry.get("where", {})
        if not isinstance(filters, dict):
            raise ProjectError(f"{at}: where must be a table of field = value")
        fields = {f.name for f in KINDS[entry["layer"]].all_fields}
        for name in filters:
            if name not in fields:
                raise ProjectError(f"{at}: {entry['layer']} has no field {name!r}")
        tolerance = entry.get("tolerance", DEFAULT_EQUAL_TOLERANCE if unit != "count" else 0.0)
        targets.append(
            Target(
                indicator=str(entry["indicator"]),
                layer=entry["layer"],
                value=float(value),
                unit=unit,
                constraint=entry["constraint"],
                tolerance=float(tolerance),
                where=tuple(sorted(filters.items())),
                year=str(entry.get("year", "")),
                source=str(entry.get("source", "")),
            )
        )
    return targets


def _passes(measured: float, target: Target) -> bool:
    if target.constraint == ">=":
        return measured >= target.value
    if target.constraint == "<=":
        return measured <= target.value
    return abs(measured - target.value) <= target.tolerance * abs(target.value)


def measure_targets(loaded: LoadedProject, targets: list[Target]) -> list[TargetRow]:
    """Measure each target on the loaded layers.

    Parameters
    ----------
    loaded : LoadedProject
    targets : list of Target

    Returns
    -------
    list of TargetRow
        In the order of ``targets``.
    """
    rows = []
    for target in targets:
        if target.layer not in loaded.layers:
            rows.append(TargetRow(target, None, "missing"))
            continue
        frame = loaded.frame(target.layer)
        mask = np.ones(len(frame), dtype=bool)
        for name, wanted in target.where:
            values = wanted if isinstance(wanted, list) else [wanted]
            mask &= frame[name].isin(values).to_numpy() if name in frame else False
        if target.unit == "count":
            measured = float(mask.sum())
        else:
            measured = float(frame.loc[mask, "area_m2"].sum()) / SQUARE_METRES[target.unit]
        rows.append(TargetRow(target, measured, "pass" if _passes(measured, target) else "fail"))
    return rows
