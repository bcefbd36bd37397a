"""One cell of any value (``spreadsheet/cells.py``): numbers, booleans, dates and text as Excel
needs them, read back with openpyxl and python-calamine."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import openpyxl
from lxml import etree

from formserver.exports.spreadsheet import MAX_CELL_CHARS

from .spreadsheets import OTHER_SCRIPTS, THAI, calamine_values, openpyxl_values, sheet_xml, write


TYPED_ROW = [
    42,
    -7,
    3.25,
    1e-7,
    True,
    False,
    dt.date(2024, 5, 1),
    dt.datetime(2024, 5, 1, 13, 45, 30),
    dt.time(7, 30, 15),
    Decimal("12.50"),
    10**15 - 1,
]


def test_typed_cells_come_back_as_numbers_booleans_and_dates(tmp_path):
    path = tmp_path / "typed.xlsx"
    write(path, [TYPED_ROW])

    worksheet = openpyxl.load_workbook(path).active
    cells = list(worksheet.iter_rows())[0]
    assert [cell.value for cell in cells] == [
        42, -7, 3.25, 1e-7, True, False,
        dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 1, 13, 45, 30), dt.time(7, 30, 15),
        12.5, 10**15 - 1,
    ]
    assert [cell.data_type for cell in cells] == ["n", "n", "n", "n", "b", "b", "d", "d", "d", "n", "n"]
    assert cells[6].number_format == "yyyy-mm-dd"
    assert cells[7].number_format == "yyyy-mm-dd hh:mm:ss"
    assert cells[8].number_format == "hh:mm:ss"

    assert calamine_values(path) == [[
        42, -7, 3.25, 1e-7, True, False,
        dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 13, 45, 30), dt.time(7, 30, 15),
        12.5, 10**15 - 1,
    ]]


def test_decimals_keep_their_exact_digits(tmp_path):
    path = tmp_path / "decimals.xlsx"
    write(path, [[Decimal("12.50"), Decimal("0.1"), Decimal("-3"), Decimal("1E+2"), Decimal("1234567.891")]])

    assert re.findall(rb"<v>([^<]*)</v>", sheet_xml(path)) == [b"12.50", b"0.1", b"-3", b"1E+2", b"1234567.891"]
    assert openpyxl_values(path) == [[12.5, 0.1, -3, 100, 1234567.891]]


def test_thirteen_digit_identifier_stays_text_exactly(tmp_path):
    path = tmp_path / "ids.xlsx"
    write(path, [["0570189001238", "1234567890123", "007"]])

    cells = list(openpyxl.load_workbook(path).active.iter_rows())[0]
    assert [cell.value for cell in cells] == ["0570189001238", "1234567890123", "007"]
    assert {cell.data_type for cell in cells} == {"s"}
    assert calamine_values(path) == [["0570189001238", "1234567890123", "007"]]


FORMULA_LIKE = ["=1+1", "+66812345678", "-x", "@SUM(A1)", '=HYPERLINK("http://evil.example","x")', "-5", "=", "+"]


def test_formula_like_text_stays_text(tmp_path):
    path = tmp_path / "formulas.xlsx"
    write(path, [FORMULA_LIKE])

    cells = list(openpyxl.load_workbook(path).active.iter_rows())[0]
    assert [cell.value for cell in cells] == FORMULA_LIKE
    assert all(cell.data_type != "f" for cell in cells)
    assert calamine_values(path) == [FORMULA_LIKE]
    assert b"<f>" not in sheet_xml(path)


def test_thai_and_other_scripts_round_trip_byte_for_byte(tmp_path):
    path = tmp_path / "thai.xlsx"
    rows = [THAI, OTHER_SCRIPTS, [text + " " + text for text in THAI]]
    write(path, rows, name="ข้อมูลครัวเรือน")

    for read in (openpyxl_values, calamine_values):
        values = read(path)
        for written, read_back in zip(rows, values):
            assert [text.encode("utf-8") for text in written] == [
                text.encode("utf-8") for text in read_back[: len(written)]
            ]
    assert openpyxl.load_workbook(path).sheetnames == ["ข้อมูลครัวเรือน"]


def test_spaces_tabs_newlines_and_markup_characters_are_kept(tmp_path):
    path = tmp_path / "whitespace.xlsx"
    row = ["  both  ", " ", "trailing ", "\tindented", "line 1\nline 2", "crlf\r\nend",
           "a < b & c > d", "]]> not CDATA", '"quoted" \'single\'']
    write(path, [row])

    assert openpyxl_values(path) == [row]
    assert calamine_values(path) == [row]


def test_excel_escape_lookalikes_stay_literal(tmp_path):
    # Excel reads _xHHHH_ in text as an escaped character; the writer escapes
    # the underscore (_x005F_) so that the text shows exactly as written.
    path = tmp_path / "escapes.xlsx"
    row = ["_x0041_", "a_x000D_b", "_x005F_"]
    write(path, [row])

    assert calamine_values(path) == [row]
    assert b"_x005F_x0041_" in sheet_xml(path)


def test_illegal_xml_characters_are_removed(tmp_path):
    path = tmp_path / "illegal.xlsx"
    write(path, [["a\x00b\x01c\x08d\x0be\x0cf\x1fg", "x\ufffey\uffffz", "lone \ud800 surrogate", "\x00\x01"]])

    expected = ["abcdefg", "xyz", "lone  surrogate"]
    assert openpyxl_values(path) == [expected]  # nothing left of the fourth: no cell
    assert calamine_values(path) == [expected]
    etree.fromstring(sheet_xml(path))  # well-formed


def test_text_longer_than_excel_allows_is_cut_with_a_visible_marker(tmp_path):
    path = tmp_path / "long.xlsx"
    exact = "x" * MAX_CELL_CHARS
    long = "ก" * 40_000
    emoji = "😀" * 20_000  # 40,000 UTF-16 units, as Excel counts
    write(path, [[exact, long, emoji]])

    values = openpyxl_values(path)[0]
    assert values[0] == exact
    assert len(values[1]) == MAX_CELL_CHARS
    kept = values[1].split("…")[0]
    assert values[1] == kept + f"…[cut: {40_000 - len(kept)} characters]"
    assert set(kept) == {"ก"}
    assert len(values[2].encode("utf-16-le")) // 2 <= MAX_CELL_CHARS
    assert re.fullmatch(r"😀+…\[cut: \d+ characters\]", values[2])
    assert calamine_values(path)[0] == values


def test_empty_values_make_no_cell(tmp_path):
    path = tmp_path / "empty.xlsx"
    write(path, [[None, "", "x", None]])

    assert b'r="A1"' not in sheet_xml(path) and b'r="B1"' not in sheet_xml(path)
    assert openpyxl_values(path) == [[None, None, "x"]]


def test_values_excel_cannot_hold_as_numbers_are_written_as_text(tmp_path):
    path = tmp_path / "special.xlsx"
    write(path, [[float("nan"), float("inf"), -float("inf"), 12345678901234567, Decimal("NaN"),
                  Decimal("1E+400"), dt.date(1899, 12, 31), dt.datetime(1850, 1, 2, 3, 4, 5)]])

    assert openpyxl_values(path) == [["nan", "inf", "-inf", "12345678901234567", "NaN", "1E+400",
                                      "1899-12-31", "1850-01-02 03:04:05"]]


def test_dates_in_early_1900_follow_excel_numbering(tmp_path):
    path = tmp_path / "early.xlsx"
    write(path, [[dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.datetime(1900, 1, 15, 12)]])

    assert re.findall(rb"<v>([^<]*)</v>", sheet_xml(path)) == [b"1", b"59", b"61", b"15.5"]
    assert calamine_values(path) == [[dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1),
                                      dt.datetime(1900, 1, 15, 12)]]


def test_aware_datetimes_are_written_in_their_own_wall_clock_time(tmp_path):
    path = tmp_path / "aware.xlsx"
    bangkok = dt.timezone(dt.timedelta(hours=7))
    write(path, [[dt.datetime(2024, 5, 1, 13, 45, 30, tzinfo=bangkok),
                  dt.datetime(2024, 5, 1, 6, 45, 30, tzinfo=dt.timezone.utc)]])

    assert openpyxl_values(path) == [[dt.datetime(2024, 5, 1, 13, 45, 30), dt.datetime(2024, 5, 1, 6, 45, 30)]]


def test_other_types_are_written_as_their_text(tmp_path):
    import uuid

    path = tmp_path / "other.xlsx"
    identifier = uuid.UUID("12345678-1234-5678-1234-567812345678")
    write(path, [[identifier, ["a", 1]]])

    assert openpyxl_values(path) == [[str(identifier), "['a', 1]"]]
