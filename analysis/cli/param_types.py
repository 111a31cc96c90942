"""The parameter types that check command-line values as click parses them.

A bad value is a usage error (exit 2) naming the option, before any work.
"""

from __future__ import annotations

import math
from typing import Any

import click

from geoplan.geo.crs import to_crs
from geoplan.geo.errors import CRSError


class CRSType(click.ParamType):
    """A CRS pyproj resolves (``EPSG:4490``, a PROJ string, WKT); passed on as given."""

    name = "CRS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        """Check ``value`` with pyproj; fail with pyproj's reason on one line."""
        try:
            to_crs(value)
        except CRSError as exc:
            self.fail(" ".join(str(exc).split()), param, ctx)
        return value


class FiniteFloat(click.ParamType):
    """A finite number (no ``nan``, ``inf``), at least ``minimum`` if one is given."""

    name = "NUMBER"

    def __init__(self, minimum: float | None = None):
        self.minimum = minimum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """``value`` as a float; fail on text, ``nan``, ``inf`` or below ``minimum``."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.minimum is not None and number < self.minimum:
            self.fail(f"{value!r} is less than {self.minimum:g}", param, ctx)
        return number


class RuleTolerance(click.ParamType):
    """``RULE_ID=M2`` or ``M2`` (every rule): a sliver tolerance, finite and ≥ 0 m².

    Converts to ``(rule id or "*", m²)``.
    """

    name = "[RULE_ID=]M2"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, float]:
        """Split ``RULE_ID=M2``; fail on an empty RULE_ID or a bad number."""
        if isinstance(value, tuple):
            return value
        rule, sep, number = str(value).rpartition("=")
        if sep and not rule.strip():
            self.fail(f"{value!r}: no RULE_ID before '='; give RULE_ID=M2 or M2", param, ctx)
        try:
            m2 = FiniteFloat(minimum=0).convert(number, param, ctx)
        except click.BadParameter as exc:
            self.fail(f"{value!r}: {exc.message}; give RULE_ID=M2 or M2 (m², ≥ 0)", param, ctx)
        return rule.strip() or "*", m2
