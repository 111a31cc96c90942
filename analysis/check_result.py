"""What a check run produced: :class:`CheckResult`, and its report model built once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import geopandas as gpd
import pandas as pd

from geoplan.analysis.engine import Evaluation
from geoplan.analysis.land_classes import LandClasses
from geoplan.analysis.reports.model import report_model
from geoplan.analysis.rules import Rule
from geoplan.analysis.targets import TargetRow
from geoplan.layers.loader import LoadedProject


@dataclass
class CheckResult:
    """Everything a check run produced.

    Attributes
    ----------
    loaded : LoadedProject
    packs : list of str
        The rule packs used (built-in names or files).
    rules : list of Rule
        The rules evaluated (after disabling and tolerance overrides).
    evaluation : Evaluation
    targets : list of TargetRow
    started : datetime
        When the run started (local time, with its offset).
    finished : datetime
        When the evaluation (rules, terrain, targets) ended, before any
        output was written (local time, with its offset).
    terrain : pandas.DataFrame, optional
        Per township: elevation (m) and slope (°) statistics from the
        project's DEM (:func:`analysis.township_terrain.terrain_by_township`).
    fail_on : str
        The severity from which the verdict is ``fail`` (``CheckOptions.fail_on``).
    land_classes : LandClasses, optional
        The land classes the occupation conflicts take, gross and net
        (:func:`analysis.land_classes.land_class_breakdown`).
    """

    loaded: LoadedProject
    packs: list[str]
    rules: list[Rule]
    evaluation: Evaluation
    targets: list[TargetRow]
    started: datetime
    finished: datetime
    terrain: pd.DataFrame | None = None
    fail_on: str = "prohibited"
    land_classes: LandClasses | None = None

    @property
    def conflicts(self) -> gpd.GeoDataFrame:
        """The conflict rows."""
        return self.evaluation.conflicts

    @cached_property
    def report(self) -> dict[str, Any]:
        """The report model (:func:`analysis.reports.model.report_model`), built on first use.

        Every output and the printed summary read this one model; a result
        changed after it was built keeps the model of before.
        """
        return report_model(self)
