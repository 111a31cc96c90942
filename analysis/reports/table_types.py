"""The parts of every report table: :class:`Column`, :class:`Table` and the labels of cells.

:mod:`analysis.reports.tables` builds the tables from the report model with
these; every rendering takes them from there (it re-exports them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from geoplan.layers.vocabulary import SEVERITY_TITLES, kind_title

#: How a plan target's status is shown.
STATUS_NAMES = {"pass": "达标", "fail": "未达标", "missing": "缺少数据"}
#: The values that mark a row as failed (a target 未达标, a rule 不符合).
FAILED = frozenset({STATUS_NAMES["fail"], "不符合"})
#: The place of a piece outside every county and township.
OUTSIDE_TOWNSHIPS = "（乡镇范围外）"
#: How a feature without a name is shown (its id follows).
UNNAMED = "（未命名）"

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One column: its key, heading (with its unit) and how values are written.

    Attributes
    ----------
    key : str
        The key of the column's value in each row.
    heading : str
    kind : {"text", "int", "area", "number", "pct"}
        See :mod:`analysis.reports.format`.
    """

    key: str
    heading: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """A titled table: columns, and rows of plain values (numbers stay numbers) by column key.

    Attributes
    ----------
    key : str
        Identifies the table (the HTML ``id``).
    title : str
    columns : tuple of Column
    rows : sequence of dict
        Column key → value; a row may hold keys no column shows. A list,
        or rows made as they are read (every conflict: read a slice at a time).
    fail_key : str, optional
        Rows whose value under this key is 未达标 or 不符合 are marked
        where a rendering can (HTML, XLSX).
    """

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: Sequence[Row]
    fail_key: str | None = None

    @property
    def headings(self) -> list[str]:
        """The column headings."""
        return [c.heading for c in self.columns]

    def failed(self, row: Row) -> bool:
        """Whether ``row`` is marked as failed (see ``fail_key``)."""
        return self.fail_key is not None and row[self.fail_key] in FAILED

    def only(self, *keys: str) -> Table:
        """The table with only the columns of ``keys``, in that order."""
        by_key = {c.key: c for c in self.columns}
        return replace(self, columns=tuple(by_key[k] for k in keys))

    def where(self, keep: Callable[[Row], Any]) -> Table:
        """The table with only the rows for which ``keep(row)`` is true."""
        return replace(self, rows=[row for row in self.rows if keep(row)])


def feature_label(kind: str | None, ident: Any, name: Any) -> str:
    """One side of a conflict as ``"永久基本农田：名称（编号）"``.

    A feature without a name is ``"生态保护红线：（未命名）（编号）"``; a
    raster side (kind ``raster:<name>``) is the raster and the zone's name.

    Examples
    --------
    >>> feature_label("ecological_redline", "STBHHX0004", "")
    '生态保护红线：（未命名）（STBHHX0004）'
    >>> feature_label("raster:dem", "slope>25", "坡度大于25度")
    '栅格（dem）：坡度大于25度'
    """
    if not kind:
        return ""
    if kind.startswith("raster:"):
        return f"栅格（{kind.removeprefix('raster:')}）：{name or ident}"
    shown = name or UNNAMED
    return f"{kind_title(kind)}：{shown}（{ident}）" if ident else f"{kind_title(kind)}：{shown}"


def place(value: str | None) -> str:
    """A county or township name, or a note that the piece lies outside them."""
    return value if value else OUTSIDE_TOWNSHIPS


def severity_title(value: str) -> str:
    """The Chinese name of a severity (禁止, 限制, 提示)."""
    return SEVERITY_TITLES.get(value, value)
