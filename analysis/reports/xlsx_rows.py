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
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.utils import get_column_letter

from geoplan.geo.text import xml_text

#: The longest text a cell holds (characters); Excel refuses longer.
_CELL_TEXT_LIMIT = 32767
_EMPTY_SHEET_DATA = b"<sheetData></sheetData>"
#: A sheet's rows are kept in memory up to this many bytes of text, then in a file.
_IN_MEMORY = 64 * 2**20
_READ = 2**20


def _escaped(text: str) -> str:
    # "\r" is escaped because an XML reader turns a literal one into "\n".
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _text(value: str) -> str:
    return _escaped(xml_text(value)[:_CELL_TEXT_LIMIT])


def _texts(values: list[str]) -> list[str]:
    """:func:`_text` of each value: escaped as one text when none holds a line feed.

    Every change the escaping makes is to one character, so the escaped
    text of the values joined by line feeds, split at them, is the escaped
    values (10 times as fast as one by one).
    """
    joined = "\n".join(values)
    if joined.count("\n") == len(values) - 1 and max(map(len, values)) <= _CELL_TEXT_LIMIT:
        return _escaped(xml_text(joined)).split("\n")
    return [_text(v) for v in values]


def _body(value: Any, style: int) -> str:
    """A ``<c>`` element after its reference: text as an inline string, numbers as numbers.

    None is a styled blank.
    """
    kind = type(value)
    if kind is str:
        if not value:
            return f'" s="{style}" t="inlineStr"/>'
        return (
            f'" s="{style}" t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
        )
    if kind is int:
        return f'" s="{style}"><v>{value}</v></c>'
    if kind is float:
        if not math.isfinite(value):
            # A workbook cannot hold NaN or infinity: the cell stays blank.
            return f'" s="{style}"/>'
        return f'" s="{style}"><v>{value!r}</v></c>'
    if value is None:
        return f'" s="{style}"/>'
    if kind is bool:
        return f'" s="{style}" t="b"><v>{int(value)}</v></c>'
    # Subclasses (numpy numbers, str enums) as the plain value.
    if isinstance(value, str):
        return _body(str.__str__(value), style)
    if isinstance(value, numbers.Integral):
        return _body(int(value), style)
    if isinstance(value, numbers.Real):
        return _body(float(value), style)
    raise TypeError(f"a report.xlsx cell cannot hold {type(value).__name__} {value!r}")


def _column(values: list[Any], styles: Sequence[int]) -> pa.Array:
    """:func:`_body` of each cell of a column: a column of one type and style at once.

    Text is escaped as one text (:func:`_texts`), numbers are converted by
    ``map``, and the elements are put around them by Arrow; a column of
    mixed types or styles goes cell by cell.
    """
    kinds = set(map(type, values))
    if len(kinds) != 1 or len(set(styles)) != 1:
        return pa.array([_body(v, s) for v, s in zip(values, styles, strict=True)], pa.string())
    style = styles[0]
    if kinds == {str}:
        texts = pa.array(_texts(values), pa.string())
        start = f'" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
        cells = pc.binary_join_element_wise(start, texts, "</t></is></c>", "")
        return pc.if_else(pc.equal(texts, ""), _body("", style), cells)
    if kinds == {int}:
        numbers = map(str, values)
    elif kinds == {float} and math.isfinite(sum(values)):
        numbers = map(repr, values)
    else:
        return pa.array([_body(v, style) for v in values], pa.string())
    return pc.binary_join_element_wise(
        f'" s="{style}"><v>', pa.array(list(numbers), pa.string()), "</v></c>", ""
    )


def _utf8(array: pa.StringArray) -> bytes:
    """The values of a string array without nulls, one after the other, as UTF-8."""
    if array.null_count:
        raise ValueError("a row of report.xlsx came out empty")
    _, offsets, data = array.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    return data[int(offsets[0]) : int(offsets[-1])].to_pybytes()


class SheetRows:
    """The rows of one sheet, from row 1, as SpreadsheetML ``<row>`` elements.

    Each cell has a style: the index of a cell format the workbook's
    ``styles.xml`` holds (openpyxl's ``cell.style_id``).
    """

    def __init__(self) -> None:
        self.count = 0
        self._letters: list[str] = []
        self._rows: list[str] = []
        # A province's 冲突明细 is hundreds of MB of text: past this, it waits on disk.
        self._text = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)

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
        if not values:
            self.count += 1
            self._rows.append(f'<row r="{self.count}"></row>')
            return
        self.extend([[v] for v in values], [[s] for s in styles])

    def extend(self, columns: Sequence[Sequence[Any]], styles: Sequence[Sequence[int]]) -> None:
        """Add rows given column by column: ``columns[j][i]`` is row i's value in column j.

        Parameters
        ----------
        columns : sequence of sequences
            Values as :meth:`append` takes them, all columns as long.
        styles : sequence of sequences of int
            The style of each cell, in the same shape.

        Raises
        ------
        TypeError
            For a value of a type :meth:`append` refuses.
        """
        if len(columns) != len(styles):
            raise ValueError(f"{len(columns)} columns but {len(styles)} columns of styles")
        while len(self._letters) < len(columns):
            self._letters.append(get_column_letter(len(self._letters) + 1))
        size = len(columns[0]) if columns else 0
        if not size:
            return
        # Rows joined from the columns by Arrow: one string operation over all rows.
        numbers = pa.array(np.arange(self.count + 1, self.count + size + 1)).cast(pa.string())
        parts: list[Any] = ['<row r="', numbers, '">']
        for letter, values, column_styles in zip(self._letters, columns, styles, strict=False):
            parts += [f'<c r="{letter}', numbers, _column(list(values), column_styles)]
        parts.append("</row>")
        self._flush()
        self._text.write(_utf8(pc.binary_join_element_wise(*parts, "")))
        self.count += size

    def skip(self) -> None:
        """Leave the next row empty."""
        self.count += 1

    def _flush(self) -> None:
        self._text.write("".join(self._rows).encode("utf-8"))
        self._rows.clear()

    def chunks(self) -> Iterator[bytes]:
        """The rows as UTF-8 pieces of text, in order."""
        self._flush()
        self._text.seek(0)
        yield from iter(partial(self._text.read, _READ), b"")


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
            # zlib level 1: a city's sheets in a third of the default's time, somewhat
            # larger (ZipInfo's level; public as compress_level from Python 3.13).
            info._compresslevel = 1
            with target.open(info, "w") as part:
                part.write(head + b"<sheetData>")
                for chunk in rows[info.filename].chunks():
                    part.write(chunk)
                part.write(b"</sheetData>" + tail)
            filled.add(info.filename)
    if missing := set(rows) - filled:
        raise ValueError(f"the workbook has no sheet {sorted(missing)}")
    return out.getvalue()
