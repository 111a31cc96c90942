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

Targets are read and checked once, with the rest of the project file, into
:class:`layers.project_types.Target`. Areas are the sum of the features'
ellipsoidal areas (overlapping features count twice, as a plan's table of
its areas does); ``count`` counts features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from geoplan.geo.units import SQUARE_METRES
from geoplan.layers.loader import LoadedProject
from geoplan.layers.parts_store import stored_attributes
from geoplan.layers.project_types import Target


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
            "where": {k: list(v) if isinstance(v, tuple) else v for k, v in t.filters},
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
        layer = loaded.layers[target.layer]
        columns = ["area_m2", *(name for name, _ in target.filters)]
        frame = layer.frame if layer.parts is None else stored_attributes(layer, columns)
        mask = np.ones(len(frame), dtype=bool)
        for name, wanted in target.filters:
            values = list(wanted) if isinstance(wanted, tuple) else [wanted]
            mask &= frame[name].isin(values).to_numpy() if name in frame else False
        if target.unit == "count":
            measured = float(mask.sum())
        else:
            measured = float(frame.loc[mask, "area_m2"].sum()) / SQUARE_METRES[target.unit]
        rows.append(TargetRow(target, measured, "pass" if _passes(measured, target) else "fail"))
    return rows
