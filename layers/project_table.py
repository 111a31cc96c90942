"""Reading one table of a project file: every value checked for its type and range.

A wrong value fails with one line naming the file, the table and the key:
``"{file} [table] key: problem"``.
"""

from __future__ import annotations

import math
from typing import Any

from geoplan.geo.crs import to_crs
from geoplan.geo.errors import CRSError
from geoplan.layers.errors import ProjectError

#: Longest piece of a bad value quoted in a message (characters).
_SHOWN = 60
_MISSING = object()


def show_value(value: Any) -> str:
    """``repr(value)``, cut to :data:`_SHOWN` characters, for a message."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def table_label(name: str) -> str:
    """A table or key name for a message: as written, or quoted if it holds a line break."""
    return name if name.isprintable() else repr(name)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class ProjectTable:
    """One table of the project file; every value read from it is checked.

    Parameters
    ----------
    value : Any
        The table as TOML gave it; anything but a dict is refused.
    at : str
        ``"{file} [table]"``, the start of every message.
    allowed : set of str
        The keys it may hold.
    required : tuple of str
        The keys it must hold.
    prefix : str
        Put before every key in messages (``"fields."`` for an inline table).

    Raises
    ------
    ProjectError
        Not a table, an unknown key or a missing one.
    """

    def __init__(
        self,
        value: Any,
        at: str,
        allowed: set[str],
        required: tuple[str, ...] = (),
        *,
        prefix: str = "",
    ):
        if not isinstance(value, dict):
            raise ProjectError(f"{at}: expected a table, got {show_value(value)}")
        extra = sorted(set(value) - allowed)
        if extra:
            raise ProjectError(
                f"{at}: unknown key {extra[0]!r}; allowed keys: {', '.join(sorted(allowed))}"
            )
        for key in required:
            if key not in value:
                raise ProjectError(f"{at}: missing key {key!r}")
        self.values = value
        self.at = at
        self.prefix = prefix

    def error(self, key: str, problem: str) -> ProjectError:
        """The error of ``key``'s value, its message naming the file, table and key."""
        return ProjectError(f"{self.at} {self.prefix}{table_label(key)}: {problem}")

    def text(self, key: str, default: Any = None) -> Any:
        """A non-empty string without NUL (C libraries would cut it there)."""
        value = self.values.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"expected a non-empty string, got {show_value(value)}")
        if "\0" in value:
            raise self.error(key, f"contains a NUL character: {show_value(value)}")
        return value

    def number(self, key: str, default: Any = None, *, minimum: float | None = None) -> Any:
        """A finite int or float (not a boolean), at least ``minimum``."""
        value = self.values.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not _is_number(value) or not math.isfinite(value):
            raise self.error(key, f"expected a finite number, got {show_value(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be ≥ {minimum:g}, got {show_value(value)}")
        return float(value)

    def crs(self, key: str, *, projected: bool = False) -> str | None:
        """A CRS string pyproj resolves (``projected``: and not geographic)."""
        value = self.text(key)
        if value is None:
            return None
        try:
            crs = to_crs(value)
        except CRSError as exc:
            raise self.error(key, " ".join(str(exc).split())) from None
        if projected and not crs.is_projected:
            raise self.error(key, f"{value} is geographic; give a projected CRS such as EPSG:4545")
        return value

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """An array of non-empty strings."""
        value = self.values.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of strings, got {show_value(value)}")
        for item in value:
            if not isinstance(item, str) or not item.strip() or "\0" in item:
                raise self.error(key, f"expected non-empty strings, got {show_value(item)}")
        return tuple(value)

    def mapping(self, key: str) -> dict[str, Any]:
        """A table (``{}`` when absent)."""
        value = self.values.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {show_value(value)}")
        return value
