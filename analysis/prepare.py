"""What rules need from outside the layers, prepared by the run before the engine starts.

A relation with a ``prepare`` (:mod:`analysis.relations`) reads rasters: the
run calls it once per rule here — with the run's derived slope, so that the
DEM is derived once — and the engine is given the result, never a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from geoplan.analysis.relations import registry
from geoplan.analysis.rules import Rule
from geoplan.analysis.selection import RuleSkipped
from geoplan.geo.terrain import DerivedRasters
from geoplan.layers.loader import LoadedProject


@dataclass
class Prepared:
    """What was prepared for each rule, by rule id.

    Attributes
    ----------
    inputs : dict of str to object
        What the relation's ``prepare`` gave (a raster's threshold zone).
    skipped : dict of str to RuleSkipped
        Why a rule could not be prepared (no such raster); the engine skips
        it with that reason.
    """

    inputs: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, RuleSkipped] = field(default_factory=dict)

    def of(self, rule: Rule) -> Any:
        """What was prepared for ``rule``.

        Raises
        ------
        RuleSkipped
            It could not be prepared.
        ValueError
            It was never prepared (:func:`prepare_inputs` was not given it).
        """
        if rule.id in self.skipped:
            reason = self.skipped[rule.id]
            raise RuleSkipped(str(reason), reason.reason_zh)
        if rule.id not in self.inputs:
            raise ValueError(f"rule {rule.id}: its inputs were not prepared (prepare_inputs)")
        return self.inputs[rule.id]


def prepare_inputs(
    loaded: LoadedProject,
    rules: list[Rule],
    rasters: DerivedRasters | None = None,
    progress: Callable[[Rule], None] | None = None,
) -> Prepared:
    """Prepare what each rule's relation needs before the engine starts.

    Parameters
    ----------
    loaded : LoadedProject
    rules : list of Rule
    rasters : DerivedRasters, optional
        Where the run keeps the slope it derives, for the rest of the run;
        None derives the measures of each rule's extent directly.
    progress : callable, optional
        Called with each rule before it is prepared.

    Returns
    -------
    Prepared
    """
    prepared = Prepared()
    for rule in rules:
        prepare = registry()[rule.relation].prepare
        if prepare is None:
            continue
        if progress is not None:
            progress(rule)
        try:
            prepared.inputs[rule.id] = prepare(loaded, rule, rasters)
        except RuleSkipped as exc:
            prepared.skipped[rule.id] = exc
    return prepared
