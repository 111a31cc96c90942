"""Relations: what a rule may require of its layers, one module per relation.

Every module of this package defines one relation as ``RELATION``, a
:class:`Relation` named like the module: its Chinese title, the sides a rule
gives it, its parameters (with their units and validation), the function that
computes its breaches, what the run prepares for it before the engine starts,
and how ``geoplan site`` uses it. Rule packs (:mod:`analysis.rules`), the
engine (:mod:`analysis.engine`) and the site check (:mod:`analysis.site`)
read these entries, so a new relation is one new module here and its test;
``tests/test_relations.py`` holds the README's table of relations to the
registry.

Examples
--------
>>> from geoplan.analysis.relations import registry
>>> registry()["must_keep_distance"].params[0].name
'distance_m'
>>> registry()["must_tile"].sides
('layers', 'region')
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geoplan.analysis.breaches import Breaches
    from geoplan.analysis.rules import Rule
    from geoplan.analysis.selection import Selection
    from geoplan.geo.terrain import DerivedRasters
    from geoplan.layers.loader import LoadedProject

#: The sides a rule may give: ``left`` and ``right`` (A and B), or ``layers``
#: (a list) and ``region``.
SIDE_NAMES = ("left", "right", "layers", "region")


@dataclass(frozen=True)
class Param:
    """A parameter a relation takes from its rules.

    Attributes
    ----------
    name : str
        The rule's key, e.g. ``distance_m``.
    type : {float, str}
        A number (an integer is taken as a float) or a string.
    unit : str
        Its unit in words (``"metres"``), empty for none.
    requirement : str
        What a valid value is, after the name: ``"> 0"``, ``"= a number"``.
    example : object
        A valid value.
    valid : callable, optional
        Whether a value of the right type is acceptable (default: any).
    """

    name: str
    type: type
    unit: str
    requirement: str
    example: Any
    valid: Callable[[Any], bool] = lambda value: True

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` (from the TOML) is of the type and valid.

        Examples
        --------
        >>> distance = Param("distance_m", float, "metres", "> 0", 1000, lambda v: v > 0)
        >>> distance.accepts(1000), distance.accepts(0), distance.accepts("1000")
        (True, False, False)
        """
        types = (int, float) if self.type is float else (self.type,)
        return isinstance(value, types) and bool(self.valid(value))

    def needed(self) -> str:
        """What a rule must give, as an error says it.

        Examples
        --------
        >>> Param("distance_m", float, "metres", "> 0", 1000).needed()
        'distance_m > 0 (metres), e.g. distance_m = 1000'
        """
        unit = f" ({self.unit})" if self.unit else ""
        return f"{self.name} {self.requirement}{unit}, e.g. {self.name} = {self.example!r}"


@dataclass(frozen=True)
class Sides:
    """What a relation's breach function is given for one rule.

    Attributes
    ----------
    left, right, region : Selection or None
        The selected features of those sides, where the rule has them.
    layers : tuple of Selection
        The selected features of each of its ``layers``.
    prepared : object
        What the relation's ``prepare`` gave for the rule before the engine
        started (a raster's threshold zone), else None.
    """

    left: Selection | None = None
    right: Selection | None = None
    layers: tuple[Selection, ...] = ()
    region: Selection | None = None
    prepared: Any = None


@dataclass(frozen=True)
class Relation:
    """One relation a rule may require: everything rules, engine and site need of it.

    Attributes
    ----------
    name : str
        The ``relation`` of a rule; the module's name.
    title : str
        Chinese title.
    sides : tuple of str
        The sides its rules give, from :data:`SIDE_NAMES`.
    breaches : callable
        ``breaches(rule, sides) -> Breaches``: where the rule is broken,
        before slivers and the split by township; ``sides`` is :class:`Sides`.
    params : tuple of Param
        The parameters its rules must give.
    prepare : callable, optional
        ``prepare(loaded, rule, rasters) -> object``: what the rule needs
        from outside the layers (reading rasters), computed by the run
        before the engine starts and given as :attr:`Sides.prepared`;
        ``rasters`` is the run's :class:`~geoplan.geo.terrain.DerivedRasters`,
        or None to derive measures directly. Raises
        :class:`~geoplan.analysis.selection.RuleSkipped` when the project lacks it.
    site_sides : tuple of str
        The sides a proposed site may stand in for in ``geoplan site``
        (empty: site checks leave the relation out).
    reach : str, optional
        The parameter (metres) by which the relation looks beyond a
        feature; a site check keeps the features that near the site.
    """

    name: str
    title: str
    sides: tuple[str, ...]
    breaches: Callable[[Rule, Sides], Breaches]
    params: tuple[Param, ...] = ()
    prepare: Callable[[LoadedProject, Rule, DerivedRasters | None], Any] | None = None
    site_sides: tuple[str, ...] = ()
    reach: str | None = None

    def __post_init__(self) -> None:
        unknown = [s for s in (*self.sides, *self.site_sides) if s not in SIDE_NAMES]
        if unknown or not set(self.site_sides) <= set(self.sides):
            raise ValueError(f"relation {self.name}: sides must be some of {SIDE_NAMES}")
        if self.reach is not None and self.reach not in {p.name for p in self.params}:
            raise ValueError(f"relation {self.name}: reach {self.reach!r} is not a parameter")


@cache
def registry() -> dict[str, Relation]:
    """Every relation, by name: the ``RELATION`` of each module of this package.

    Raises
    ------
    TypeError
        A module defines no ``RELATION`` or names it unlike the module.
    """
    found = {}
    for module in pkgutil.iter_modules(__path__):
        entry = getattr(importlib.import_module(f"{__name__}.{module.name}"), "RELATION", None)
        if not isinstance(entry, Relation) or entry.name != module.name:
            raise TypeError(f"{__name__}.{module.name} defines no RELATION named {module.name!r}")
        found[entry.name] = entry
    return found
