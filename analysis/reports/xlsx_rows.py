"""The cells of ``report.xlsx`` written as SpreadsheetML text, put into the workbook openpyxl wrote.

openpyxl (write-only mode) writes the workbook itself: its styles, and per
sheet the frozen panes, column widths, autofilter and print settings. Its
cells cost some 20 µs each (a cell object, type inference and an lxml element
per cell), half a minute for a city's 1.5 million; :class:`SheetRows` writes
them as text instead, about 1 µs a cell, and :func:`fill_sheets` puts them
into each sheet's empty ``<sheetData>``.

A text value is always an inline string cell (``t="inlineStr"``), whatever
it starts with: ``=HYPERLINK(…)`` is shown as those characters, never
evaluated, and ``#N/A`` is text, not an error value.
"""

from __future__ import annotations

import io
import math
import numbers
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl.utils import get_column_letter

from geoplan.geo.text import xml_text

#: The longest text a cell holds (characters); Excel refuses longer.
_CELL_TEXT_LIMIT = 32767
#: Rows joined into one piece of the sheet's text.
_CHUNK_ROWS = 5000
_EMPTY_SHEET_DATA = b"<sheetData></sheetData>"


def _text(value: str) -> str:
    text = xml_text(value)[:_CELL_TEXT_LIMIT]
    # "\r" is escaped because an XML reader turns a literal one into "\n".
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _cell(ref: str, value: Any, style: int) -> str:
    """One ``<c>`` element: text as an inline string, numbers as numbers, None as a styled blank."""
    kind = type(value)
    if kind is str:
        if not value:
            return f'<c r="{ref}" s="{style}" t="inlineStr"/>'
        text = f'<is><t xml:space="preserve">{_text(value)}</t></is>'
        return f'<c r="{ref}" s="{style}" t="inlineStr">{text}</c>'
    if kind is int:
        return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'
    if kind is float:
        if not math.isfinite(value):
            # A workbook cannot hold NaN or infinity: the cell stays blank.
            return f'<c r="{ref}" s="{style}"/>'
        return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
    if value is None:
        return f'<c r="{ref}" s="{style}"/>'
    if kind is bool:
        return f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>'
    # Subclasses (numpy numbers, str enums) as the plain value.
    if isinstance(value, str):
        return _cell(ref, str.__str__(value), style)
    if isinstance(value, numbers.Integral):
        return _cell(ref, int(value), style)
    if isinstance(value, numbers.Real):
        return _cell(ref, float(value), style)
    raise TypeError(f"a report.xlsx cell cannot hold {type(value).__name__} {value!r}")


class SheetRows:
    """The rows of one sheet, from row 1, as SpreadsheetML ``<row>`` elements.

    Each cell has a style: the index of a cell format the workbook's
    ``styles.xml`` holds (openpyxl's ``cell.style_id``).
    """

    def __init__(self) -> None:
        self.count = 0
        self._letters: list[str] = []
        self._rows: list[str] = []
        self._chunks: list[bytes] = []

    def append(self, values: Sequence[Any], styles: Sequence[int]) -> None:
        """Add a row: one value and one style per column from column A.

        Parameters
        ----------
        values : sequence
            str (text), int or float (numbers), bool, or None (a blank cell).
        styles : sequence of int
            As long as ``values``.

        Raises
        ------
        TypeError
            For a value of any other type.
        """
        if len(values) != len(styles):
            raise ValueError(f"{len(values)} values but {len(styles)} styles")
        while len(self._letters) < len(values):
            self._letters.append(get_column_letter(len(self._letters) + 1))
        self.count += 1
        number = str(self.count)
        cells = "".join(
            _cell(letter + number, value, style)
            for letter, value, style in zip(self._letters, values, styles, strict=False)
        )
        self._rows.append(f'<row r="{number}">{cells}</row>')
        if len(self._rows) >= _CHUNK_ROWS:
            self._flush()

    def skip(self) -> None:
        """Leave the next row empty."""
        self.count += 1

    def _flush(self) -> None:
        self._chunks.append("".join(self._rows).encode("utf-8"))
        self._rows.clear()

    def chunks(self) -> list[bytes]:
        """The rows as UTF-8 pieces of text, in order."""
        self._flush()
        return self._chunks


def fill_sheets(workbook: bytes, rows: Mapping[str, SheetRows]) -> bytes:
    """``workbook`` with each sheet of ``rows`` (by its part name) holding those rows.

    Parameters
    ----------
    workbook : bytes
        An XLSX file whose sheets named in ``rows`` have an empty
        ``<sheetData>`` (openpyxl's write-only sheet with nothing appended).
    rows : mapping of str to SheetRows
        Part name, such as ``xl/worksheets/sheet1.xml`` → its rows.

    Returns
    -------
    bytes
        The XLSX file, every other part as it was.
    """
    out = io.BytesIO()
    filled = set()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename not in rows:
                target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            head, empty, tail = data.partition(_EMPTY_SHEET_DATA)
            if not empty:
                raise ValueError(f"{info.filename} has no empty <sheetData>")
            info.compress_type = zipfile.ZIP_DEFLATED
            with target.open(info, "w") as part:
                part.write(head + b"<sheetData>")
                for chunk in rows[info.filename].chunks():
                    part.write(chunk)
                part.write(b"</sheetData>" + tail)
            filled.add(info.filename)
    if missing := set(rows) - filled:
        raise ValueError(f"the workbook has no sheet {sorted(missing)}")
    return out.getvalue()
