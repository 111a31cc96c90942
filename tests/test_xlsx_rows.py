"""report.xlsx's cell writer: text stays text and numbers numbers, for openpyxl and LibreOffice."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from geoplan.analysis.reports.xlsx_rows import SheetRows, fill_sheets

HOSTILE = [
    "=1+1",
    '=HYPERLINK("http://x","y")',
    "#N/A",
    "@SUM(A1)",
    'a & <b> "c"',
    "cr\rlf\n",
    " pad ",
]


def _workbook(rows: SheetRows) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("表")
    cell = WriteOnlyCell(sheet)
    cell.number_format = "#,##0.00"
    style = cell.style_id
    rows.append(["文本", "数"], [0, 0])
    for text in HOSTILE:
        rows.append([text, 1234.5], [0, style])
    rows.skip()
    rows.append([None, np.int64(7)], [style, style])
    rows.append(["nul\x00end", float("nan")], [0, style])
    rows.append([True, np.float32(0.5)], [0, style])
    buffer = io.BytesIO()
    book.save(buffer)
    return fill_sheets(buffer.getvalue(), {"xl/worksheets/sheet1.xml": rows})


@pytest.fixture(scope="module")
def xlsx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("xlsx_rows") / "t.xlsx"
    path.write_bytes(_workbook(SheetRows()))
    return path


def test_text_is_a_string_cell_and_numbers_are_numbers(xlsx):
    sheet = openpyxl.load_workbook(xlsx)["表"]
    for row, text in enumerate(HOSTILE, start=2):
        assert sheet.cell(row, 1).value == text
        assert sheet.cell(row, 1).data_type == "s"
        assert sheet.cell(row, 2).value == 1234.5
        assert sheet.cell(row, 2).number_format == "#,##0.00"
    last = len(HOSTILE) + 1
    assert sheet.cell(last + 1, 1).value is None
    assert sheet.cell(last + 2, 1).value is None
    assert sheet.cell(last + 2, 2).value == 7
    assert sheet.cell(last + 3, 1).value == "nulend"
    assert sheet.cell(last + 3, 2).value is None
    assert sheet.cell(last + 4, 1).value is True
    assert sheet.cell(last + 4, 2).value == 0.5
    assert sheet.max_row == last + 4


def test_libreoffice_reads_the_same_cells(xlsx, tmp_path):
    profile = tmp_path / "lo-profile"
    command = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless"]
    command += ["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir"]
    subprocess.run([*command, str(tmp_path), str(xlsx)], check=True, capture_output=True)
    with open(tmp_path / "t.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    # LibreOffice shows what a cell holds: the formula-like texts as typed, numbers formatted
    # (and a carriage return as the line break it keeps).
    expected = [text.replace("\r", "\n") for text in HOSTILE]
    assert [r[0] for r in rows[1 : len(HOSTILE) + 1]] == expected
    assert rows[1][1] == "1,234.50"


def test_a_value_of_another_type_or_a_missing_sheet_is_refused():
    with pytest.raises(TypeError, match="cannot hold"):
        SheetRows().append([object()], [0])
    with pytest.raises(ValueError, match="no sheet"):
        fill_sheets(_workbook(SheetRows()), {"xl/worksheets/sheet9.xml": SheetRows()})


def test_rows_given_by_column_are_the_rows_given_one_by_one():
    # each way a column is written at once (text, text with a line feed, numbers,
    # NaN, mixed types, a style per row) against the same rows appended one by one
    columns = [
        [*HOSTILE, "", "村", "字" * 40000],
        ["a\nb", "c", "", "d", "e", "f", "g", "h", "i", "j"],
        list(range(10)),
        [0.1, 2.5, 1e16, -3.0, 7.25, 0.0, 1 / 3, 2e-7, 5.5, 6.5],
        [0.5, float("nan"), 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        [None, 1, 2.5, "t", True, np.int64(3), np.float32(0.25), "", None, 4],
    ]
    styles = [[1] * 10, [2] * 10, [3] * 10, [4] * 10, [1, 2] * 5, [5] * 10]
    by_column, by_row = SheetRows(), SheetRows()
    by_column.append(["头"] * 6, [0] * 6)
    by_row.append(["头"] * 6, [0] * 6)
    by_column.extend(columns, styles)
    for i in range(10):
        by_row.append([c[i] for c in columns], [s[i] for s in styles])
    by_column.extend([[], []], [[], []])  # no rows
    assert b"".join(by_column.chunks()) == b"".join(by_row.chunks())
    assert by_column.count == by_row.count == 11
    text = b"".join(by_column.chunks()).decode()
    assert '<c r="A2" s="1" t="inlineStr"><is><t xml:space="preserve">=1+1</t></is></c>' in text
    assert '<c r="D4" s="4"><v>1e+16</v></c>' in text and '<c r="E3" s="2"/>' in text
    assert text.count("字") == 32767  # cut to what a cell holds
