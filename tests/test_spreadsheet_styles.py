"""The styles part (``spreadsheet/styles.py``): header rows in bold keep their number and date formats."""

from __future__ import annotations

import datetime as dt

import openpyxl

from .spreadsheets import write


def test_header_style_keeps_number_and_date_formats(tmp_path):
    path = tmp_path / "header.xlsx"
    write(path, [("header", ["when", dt.date(2024, 1, 2), 5])])

    cells = list(openpyxl.load_workbook(path).active.iter_rows())[0]
    assert all(cell.font.b for cell in cells)
    assert cells[1].value == dt.datetime(2024, 1, 2) and cells[1].number_format == "yyyy-mm-dd"
