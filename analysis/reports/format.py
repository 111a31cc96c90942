"""Numbers as text, and how wide text is on screen: the one place every rendering asks.

A table column has a *kind* that says how its values are written:

=========  =================================  ==============
kind       text                               Excel format
=========  =================================  ==============
``text``   as it is                           (none)
``int``    ``12,345``                         ``#,##0``
``area``   ``12,345.68`` (two decimals)       ``#,##0.00``
``number`` ``12,345.6789`` (up to four)       ``#,##0.####``
``pct``    ``+1.25 %`` (signed)               ``+0.00" %"``
``share``  ``1.25 %`` (a share, per cent)     ``0.00" %"``
=========  =================================  ==============

A missing value is ``-`` in a number column and empty in a text column.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

#: What a missing number is written as.
MISSING = "-"
#: Excel number format of each numeric column kind.
EXCEL_FORMATS = {
    "int": "#,##0",
    "area": "#,##0.00",
    "number": "#,##0.####",
    "pct": '+0.00" %"',
    "share": '0.00" %"',
}


def number(value: float | None, digits: int = 2) -> str:
    """A number with thousands separators and ``digits`` decimals.

    Parameters
    ----------
    value : float or None
    digits : int, default 2

    Returns
    -------
    str
        :data:`MISSING` for None.

    Examples
    --------
    >>> number(437992.6912), number(12.5, 0), number(None)
    ('437,992.69', '12', '-')
    """
    return MISSING if value is None else f"{value:,.{digits}f}"


def chinese_date(iso: str) -> str:
    """An ISO 8601 date or date-time as a Chinese date.

    Examples
    --------
    >>> chinese_date("2026-12-01T12:46:34+08:00")
    '2026年12月1日'
    """
    moment = datetime.fromisoformat(iso)
    return f"{moment.year}年{moment.month}月{moment.day}日"


def chinese_datetime(iso: str) -> str:
    """An ISO 8601 date-time as a Chinese date and the time to the minute (as written).

    Examples
    --------
    >>> chinese_datetime("2026-12-01T08:05:09+08:00")
    '2026年12月1日 08:05'
    """
    moment = datetime.fromisoformat(iso)
    return f"{chinese_date(iso)} {moment:%H:%M}"


def percent(value: float | None) -> str:
    """A signed percentage with two decimals (``value`` in per cent).

    Examples
    --------
    >>> percent(0.0311), percent(-2), percent(None)
    ('+0.03 %', '-2.00 %', '-')
    """
    return MISSING if value is None else f"{float(value):+.2f} %"


def fmt(value: Any, kind: str) -> str:
    """A value as the text of a table cell of column kind ``kind`` (see the module notes).

    Examples
    --------
    >>> fmt(1234, "int"), fmt(1234.5, "area"), fmt(12.3400, "number"), fmt(None, "pct")
    ('1,234', '1,234.50', '12.34', '-')
    >>> fmt(None, "text")
    ''
    """
    if value is None or value == "":
        return MISSING if kind != "text" else ""
    if kind == "int":
        return f"{int(value):,}"
    if kind == "area":
        return number(float(value))
    if kind == "pct":
        return percent(value)
    if kind == "share":
        return f"{float(value):.2f} %"
    if kind == "number":
        return f"{float(value):,.4f}".rstrip("0").rstrip(".")
    return str(value)


def kind_of(value: Any) -> str:
    """The column kind a bare value is written as: ``area`` for a float, ``int``, else ``text``.

    Examples
    --------
    >>> kind_of(2.5), kind_of(3), kind_of(True), kind_of("3")
    ('area', 'int', 'text', 'text')
    """
    if isinstance(value, float):
        return "area"
    if isinstance(value, int) and not isinstance(value, bool):
        return "int"
    return "text"


def display_width(text: Any) -> int:
    """Columns ``str(text)`` takes in a terminal or a table: two for a wide (Chinese) character.

    Examples
    --------
    >>> display_width("巴中 ab")
    7
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))
