"""The streaming .xlsx writer, read back with openpyxl, python-calamine and
(when installed) LibreOffice."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import shutil
import struct
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from formserver.exports import spreadsheet
from formserver.exports.spreadsheet import (
    MAX_CELL_CHARS,
    MAX_ROWS,
    Hyperlink,
    RowLimitError,
    Workbook,
)

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
FORBIDDEN_IN_SHEET_NAMES = set("[]:*?/\\")
THAI = [
    "สวัสดีครับ",
    "ผู้ใหญ่บ้าน หมู่ที่ ๓ ตำบลหนองบัว",
    "น้ำ่ ่ ้ (วรรณยุกต์ซ้อน)",
    "เด็กชาย สมชาย ใจดี อายุ ๑๒ ปี",
    "กรุงเทพมหานคร อมรรัตนโกสินทร์",
]
OTHER_SCRIPTS = ["日本語のテキスト", "العربية", "עברית", "Ελληνικά", "👨‍👩‍👧 emoji ✓", "e\u0301 combining", "zero\u200bwidth"]


def write(path, rows, **sheet_options):
    """A one-sheet workbook; returns the Sheet (already finished)."""
    with Workbook(path) as workbook:
        sheet = workbook.add_sheet(sheet_options.pop("name", "data"), **sheet_options)
        for row in rows:
            if isinstance(row, tuple) and len(row) == 2 and row[0] == "header":
                sheet.write_row(row[1], style="header")
            else:
                sheet.write_row(row)
    return sheet


def openpyxl_values(path, sheet=0):
    workbook = openpyxl.load_workbook(path)
    worksheet = workbook.worksheets[sheet] if isinstance(sheet, int) else workbook[sheet]
    return [[cell.value for cell in row] for row in worksheet.iter_rows()]


def calamine_values(path, sheet=0):
    workbook = CalamineWorkbook.from_path(str(path))
    name = workbook.sheet_names[sheet] if isinstance(sheet, int) else sheet
    return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)


def sheet_xml(path, number=1):
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{number}.xml")


# -- sheet names -------------------------------------------------------------


def test_sheet_names_are_sanitised_unique_and_kept_within_31_characters(tmp_path):
    path = tmp_path / "names.xlsx"
    requested = [
        "Households",
        "households",  # the same name for Excel (case-insensitive)
        "HOUSEHOLDS",
        "A very long repeat group name that Excel would refuse",
        "A very long repeat group name that Excel would refuse",
        "Q1/Q2: [draft]*?\\",
        "'quoted'",
        "   ",
        "",
        "History",  # reserved by Excel
        "สมาชิกในครัวเรือนทั้งหมดที่อาศัยอยู่จริงในปัจจุบัน",  # 46 Thai characters
        "สมาชิกในครัวเรือนทั้งหมดที่อาศัยอยู่จริงในปัจจุบัน",
        "tab\there & <there>",
    ]
    with Workbook(path) as workbook:
        names = [workbook.add_sheet(name).name for name in requested]

    assert names[:3] == ["Households", "households_2", "HOUSEHOLDS_3"]
    assert names[3] == "A very long repeat group name t"
    assert names[4] == "A very long repeat group name_2"
    assert names[5] == "Q1_Q2_ _draft____"
    assert names[6] == "quoted"
    assert names[7] == "Sheet" and names[8] == "Sheet_2"
    assert names[9] == "History_2"
    assert names[10] == "สมาชิกในครัวเรือนทั้งหมดที่อาศั"
    assert names[11] == "สมาชิกในครัวเรือนทั้งหมดที่อา_2"
    assert names[12] == "tab_here & <there>"
    assert len({name.casefold() for name in names}) == len(names)
    for name in names:
        assert 0 < len(name) <= 31
        assert not FORBIDDEN_IN_SHEET_NAMES & set(name)
        assert not name.startswith("'") and not name.endswith("'")
        assert name.strip()

    assert openpyxl.load_workbook(path).sheetnames == names
    assert CalamineWorkbook.from_path(str(path)).sheet_names == names


# -- typed cells -------------------------------------------------------------


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


# -- sheet layout --------------------------------------------------------------


def test_frozen_header_rows_autofilter_and_column_widths(tmp_path):
    path = tmp_path / "layout.xlsx"
    with Workbook(path) as workbook:
        first = workbook.add_sheet("one", freeze_rows=1, autofilter=True, column_widths=[12, None, 30.5])
        first.write_row(["id", "name", "age"], style="header")
        first.write_row([1, "a", 30])
        first.write_row([2, "b", 40, "a wider row"])
        second = workbook.add_sheet("two", freeze_rows=2, autofilter=True)
        second.write_row(["Group", None, "Other"], style="header")
        second.write_row(["id", "name", "note"], style="header")
        for number in range(5):
            second.write_row([number, "x", "y"])
        workbook.add_sheet("three")

    workbook = openpyxl.load_workbook(path)
    one, two, three = workbook.worksheets
    assert one.freeze_panes == "A2" and two.freeze_panes == "A3" and three.freeze_panes is None
    assert one.auto_filter.ref == "A1:D3"
    assert two.auto_filter.ref == "A2:C7"  # from the last header row
    assert three.auto_filter.ref is None
    assert one.column_dimensions["A"].width == 12 and one.column_dimensions["C"].width == 30.5
    assert one["A1"].font.b and not one["A2"].font.b
    assert two["A2"].font.b

    with zipfile.ZipFile(path) as archive:
        book = etree.fromstring(archive.read("xl/workbook.xml"))
    names = book.findall(f"{MAIN}definedNames/{MAIN}definedName")
    assert [(n.get("name"), n.get("localSheetId"), n.get("hidden"), n.text) for n in names] == [
        ("_xlnm._FilterDatabase", "0", "1", "'one'!$A$1:$D$3"),
        ("_xlnm._FilterDatabase", "1", "1", "'two'!$A$2:$C$7"),
    ]


def test_header_style_keeps_number_and_date_formats(tmp_path):
    path = tmp_path / "header.xlsx"
    write(path, [("header", ["when", dt.date(2024, 1, 2), 5])])

    cells = list(openpyxl.load_workbook(path).active.iter_rows())[0]
    assert all(cell.font.b for cell in cells)
    assert cells[1].value == dt.datetime(2024, 1, 2) and cells[1].number_format == "yyyy-mm-dd"


def test_worksheet_elements_follow_the_schema_order(tmp_path):
    path = tmp_path / "order.xlsx"
    write(path, [("header", ["a", "b"]), [1, Hyperlink("https://example.org", "link")]],
          freeze_rows=1, autofilter=True, column_widths=[10, 20])

    root = etree.fromstring(sheet_xml(path))
    assert [child.tag.replace(MAIN, "") for child in root] == [
        "sheetViews", "sheetFormatPr", "cols", "sheetData", "autoFilter", "hyperlinks", "pageMargins",
    ]
    for row_number, row in enumerate(root.find(f"{MAIN}sheetData"), start=1):
        assert row.get("r") == str(row_number)
        assert all(re.fullmatch(rf"[A-Z]+{row_number}", cell.get("r")) for cell in row)


def test_all_package_parts_are_well_formed_and_declared(tmp_path):
    path = tmp_path / "parts.xlsx"
    write(path, [["x", Hyperlink("https://example.org/?a=1&b=<2>", "link & more")]])

    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        for name in names:
            etree.fromstring(archive.read(name))
        types = etree.fromstring(archive.read("[Content_Types].xml"))
    overrides = {element.get("PartName") for element in types if element.get("PartName")}
    assert overrides == {"/xl/workbook.xml", "/xl/worksheets/sheet1.xml", "/xl/styles.xml",
                         "/docProps/core.xml", "/docProps/app.xml"}
    assert set(names) == {
        "[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml",
        "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
        "xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels",
    }


def test_a_workbook_without_sheets_still_has_one(tmp_path):
    path = tmp_path / "nothing.xlsx"
    Workbook(path).close()

    assert openpyxl.load_workbook(path).sheetnames == ["Sheet1"]


# -- hyperlinks ----------------------------------------------------------------


def test_hyperlinks_point_at_their_urls(tmp_path):
    path = tmp_path / "links.xlsx"
    write(path, [
        ("header", ["photo", "plain"]),
        [Hyperlink("https://example.org/media/photo 1.jpg?a=1&b=2", "photo 1.jpg"), "x"],
        [Hyperlink("https://example.org/ไฟล์/รูป.jpg"), None],
        [Hyperlink("", "no address"), Hyperlink("https://example.org/%E0%B8%81", "escaped already")],
    ])

    worksheet = openpyxl.load_workbook(path).active
    assert worksheet["A2"].value == "photo 1.jpg"
    assert worksheet["A2"].hyperlink.target == "https://example.org/media/photo%201.jpg?a=1&b=2"
    assert worksheet["A3"].value == "https://example.org/ไฟล์/รูป.jpg"
    assert worksheet["A3"].hyperlink.target == (
        "https://example.org/%E0%B9%84%E0%B8%9F%E0%B8%A5%E0%B9%8C/%E0%B8%A3%E0%B8%B9%E0%B8%9B.jpg"
    )
    assert worksheet["A4"].value == "no address" and worksheet["A4"].hyperlink is None
    assert worksheet["B4"].hyperlink.target == "https://example.org/%E0%B8%81"
    assert worksheet["B2"].hyperlink is None
    font = worksheet["A2"].font
    assert font.u == "single" and font.color.rgb == "FF0563C1"
    assert calamine_values(path)[1][0] == "photo 1.jpg"


def test_hyperlinks_beyond_excels_limit_are_written_as_their_address(tmp_path, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_HYPERLINKS", 2)
    path = tmp_path / "many-links.xlsx"
    write(path, [[Hyperlink(f"https://example.org/{n}", f"link {n}")] for n in range(3)])

    worksheet = openpyxl.load_workbook(path).active
    assert [worksheet[f"A{n}"].value for n in (1, 2, 3)] == ["link 0", "link 1", "https://example.org/2"]
    assert worksheet["A3"].hyperlink is None


# -- row limit -----------------------------------------------------------------


def test_tables_continue_on_numbered_sheets_with_the_header_repeated(tmp_path):
    path = tmp_path / "split.xlsx"
    header = [["member_id", "name"]]
    with Workbook(path) as workbook:
        table = workbook.add_table("members", header, autofilter=True, max_rows=5)
        for number in range(1, 14):
            table.write_row([number, f"name {number}"])
        after = workbook.add_sheet("after")
        after.write_row(["still fine"])

    assert table.sheet_names == ["members", "members (2)", "members (3)", "members (4)"]
    assert table.rows_written == 13
    assert [sheet.rows_written for sheet in table.sheets] == [5, 5, 5, 2]  # header + data
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["members", "members (2)", "members (3)", "members (4)", "after"]
    numbers = []
    for name in table.sheet_names:
        rows = [[cell.value for cell in row] for row in workbook[name].iter_rows()]
        assert rows[0] == header[0]
        assert workbook[name]["A1"].font.b
        assert workbook[name].freeze_panes == "A2"
        assert workbook[name].auto_filter.ref == f"A1:B{len(rows)}"
        numbers += [row[0] for row in rows[1:]]
    assert numbers == list(range(1, 14))


def test_continuation_sheet_names_stay_within_31_characters(tmp_path):
    path = tmp_path / "split-long.xlsx"
    with Workbook(path) as workbook:
        table = workbook.add_table("x" * 40, [["h"]], max_rows=2)
        for number in range(3):
            table.write_row([number])

    assert table.sheet_names == ["x" * 31, "x" * 27 + " (2)", "x" * 27 + " (3)"]


def test_a_sheet_refuses_rows_beyond_excels_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 3)
    with Workbook(tmp_path / "full.xlsx") as workbook:
        sheet = workbook.add_sheet("full")
        for number in range(3):
            sheet.write_row([number])
        with pytest.raises(RowLimitError):
            sheet.write_row([4])
        assert sheet.rows_written == 3
    assert MAX_ROWS == 1_048_576


def test_sheets_are_written_side_by_side_and_keep_their_tab_order(tmp_path):
    path = tmp_path / "side.xlsx"
    with Workbook(path, spool_dir=tmp_path) as workbook:
        households = workbook.add_table("households", [["id"]], autofilter=True)
        members = workbook.add_table("members", [["id", "name"]], max_rows=4)
        for number in range(1, 6):
            households.write_row([number])
            members.write_row([number, THAI[number % len(THAI)]])
            members.write_row([number, f"{number}b"])
        last = workbook.add_sheet("notes")
        last.write_row(["end"])
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["households", "members", "members (2)", "members (3)", "members (4)", "notes"]
    assert [row[0].value for row in workbook["households"].iter_rows()] == ["id", 1, 2, 3, 4, 5]
    assert workbook["households"].auto_filter.ref == "A1:A6"
    names = [row[1].value for name in workbook.sheetnames[1:5] for row in list(workbook[name].iter_rows())[1:]]
    assert names == [value for number in range(1, 6) for value in (THAI[number % len(THAI)], f"{number}b")]
    calamine = CalamineWorkbook.from_path(str(path))
    assert calamine.sheet_names == workbook.sheetnames
    assert calamine.get_sheet_by_name("notes").to_python() == [["end"]]
    assert not list(tmp_path.glob("zip-entry-*"))  # the temporary files are gone


def test_a_finished_sheet_refuses_rows(tmp_path):
    with Workbook(tmp_path / "order.xlsx") as workbook:
        table = workbook.add_table("t", [["h"]], max_rows=2)
        table.write_row([1])
        table.write_row([2])  # starts "t (2)" and finishes "t"
        with pytest.raises(RuntimeError):
            table.sheets[0].write_row(["late"])


def test_many_hyperlinks_stay_on_their_cells(tmp_path):
    path = tmp_path / "links.xlsx"
    count = 5_000  # more than one batch of 4,096 when the links are written out
    with Workbook(path, spool_dir=tmp_path) as workbook:
        sheet = workbook.add_sheet("links")
        for number in range(1, count + 1):
            link = Hyperlink(f"https://example.org/s/{number}/attachments/ภาพ {number}.jpg", f"{number}.jpg")
            sheet.write_row([number, link] if number % 3 else [number, None, link])
        assert len(sheet._links) == count and sheet._links._file is not None  # on disk, not in memory
    worksheet = openpyxl.load_workbook(path)["links"]
    for number in (1, 2, 3, 4, 4_097, count):
        cell = worksheet.cell(number, 2 if number % 3 else 3)
        assert cell.value == f"{number}.jpg"
        assert cell.hyperlink.target == f"https://example.org/s/{number}/attachments/%E0%B8%A0%E0%B8%B2%E0%B8%9E%20{number}.jpg"
    assert sum(1 for row in worksheet.iter_rows() for cell in row if cell.hyperlink) == count


def test_unknown_row_style_is_refused(tmp_path):
    with Workbook(tmp_path / "style.xlsx") as workbook:
        with pytest.raises(ValueError):
            workbook.add_sheet("s").write_row(["x"], style="bold")


# -- streaming -------------------------------------------------------------------


class NonSeekableSink(io.RawIOBase):
    """A write-only stream like a socket or an HTTP response: no seek, no tell."""

    def __init__(self):
        self.data = bytearray()
        self.writes = 0

    def writable(self):
        return True

    def write(self, chunk):
        self.data += chunk
        self.writes += 1
        return len(chunk)

    def seekable(self):
        return False

    def tell(self):
        raise OSError("not seekable")

    def seek(self, *args):
        raise OSError("not seekable")


def test_streams_to_a_non_seekable_file_object(tmp_path):
    sink = NonSeekableSink()
    with Workbook(sink) as workbook:
        sheet = workbook.add_sheet("ข้อมูล", freeze_rows=1)
        sheet.write_row(["id", "name"], style="header")
        for number in range(2000):
            sheet.write_row([number, THAI[number % len(THAI)]])
    assert not sink.closed  # the caller's stream stays open

    data = bytes(sink.data)
    values = openpyxl_values(io.BytesIO(data))
    assert len(values) == 2001 and values[1999] == [1998, THAI[1998 % len(THAI)]]
    path = tmp_path / "streamed.xlsx"
    path.write_bytes(data)
    assert calamine_values(path)[2000] == [1999, THAI[1999 % len(THAI)]]


def test_rows_leave_memory_while_the_sheet_is_written():
    sink = NonSeekableSink()
    workbook = Workbook(sink, background=False)
    sheet = workbook.add_sheet("big")
    for number in range(60_000):
        sheet.write_row([number, "สมชาย ใจดี", number * 1.5, "yes"])
        if number == 30_000:
            written_midway = len(sink.data)
    assert written_midway > 100_000  # deflated rows reached the target before the end
    assert sum(map(len, sheet._buffer)) <= 2 * spreadsheet._FLUSH_CHARS
    workbook.close()


def fill(workbook):
    sheet = workbook.add_sheet("ข้อมูล", freeze_rows=1, autofilter=True)
    sheet.write_row(["id", "name", "when"], style="header")
    for number in range(30_000):
        sheet.write_row([number, THAI[number % len(THAI)], dt.datetime(2024, 1, 1, number % 24)])
    workbook.add_sheet("links").write_row([Hyperlink("https://example.org/x", "x")])


def test_background_and_foreground_writing_give_the_same_archive():
    contents = []
    for background in (True, False):
        target = io.BytesIO()
        with Workbook(target, background=background) as workbook:
            fill(workbook)
        with zipfile.ZipFile(target) as archive:
            assert archive.testzip() is None
            contents.append({name: archive.read(name) for name in archive.namelist()
                             if name != "docProps/core.xml"})  # holds the time of writing
    assert contents[0] == contents[1]


class FailingSink(NonSeekableSink):
    """A connection that breaks after some data."""

    def write(self, chunk):
        if len(self.data) > 200_000:
            raise ConnectionResetError("the client went away")
        return super().write(chunk)


@pytest.mark.parametrize("background", [True, False])
def test_an_error_of_the_target_reaches_the_caller(background):
    with pytest.raises(ConnectionResetError):
        with Workbook(FailingSink(), background=background) as workbook:
            fill(workbook)


def test_exports_can_run_in_several_threads_at_once(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(spreadsheet, "_COLUMNS", [])  # grow the shared letters concurrently
    monkeypatch.setattr(spreadsheet, "_COMPILED", {})
    widths = [300, 700, 1200, 2000]

    def export(width):
        path = tmp_path / f"wide-{width}.xlsx"
        with Workbook(path) as workbook:
            sheet = workbook.add_sheet("wide")
            for number in range(20):
                sheet.write_row([f"{number}:{column}" for column in range(width)])
        return path

    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(export, widths))
    for width, path in zip(widths, paths):
        worksheet = openpyxl.load_workbook(path, read_only=True).active
        last = list(worksheet.iter_rows(min_row=20, max_row=20, values_only=True))[0]
        assert len(last) == width and last[-1] == f"19:{width - 1}"
    assert spreadsheet._COLUMNS == [spreadsheet.column_letter(n) for n in range(1, 2001)]


def test_zip_entries_use_the_layout_excel_accepts_for_streamed_zip64():
    # Excel rejects streamed entries whose local header carries a ZIP64
    # extra field with 0xFFFFFFFF sizes (what zipfile writes with
    # force_zip64=True on a non-seekable stream).  Each entry must have
    # version 4.5, the data-descriptor flag, zero sizes and no extra field.
    sink = NonSeekableSink()
    with Workbook(sink) as workbook:
        workbook.add_sheet("a").write_row(["x"])
    data = bytes(sink.data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        for info in archive.infolist():
            header = data[info.header_offset: info.header_offset + 30]
            (signature, version, flags, method, _time, _date, crc, compressed, size,
             name_length, extra_length) = struct.unpack("<IHHHHHIIIHH", header)
            assert signature == 0x04034B50
            assert (version, flags & 0x08, method) == (45, 0x08, 8)
            assert (crc, compressed, size, extra_length) == (0, 0, 0, 0)
            assert info.extra == b""


# -- the two row paths agree -------------------------------------------------------


def value_makers(rng):
    """Functions making values of one type each, edge cases included."""
    return [
        lambda: rng.choice(["", *THAI, *OTHER_SCRIPTS, "yes", "no", "a & b", "<x>", " pad ", "_x0041_",
                            "l1\nl2", "\x01", "a|b", "ok"]),
        lambda: rng.choice([rng.randrange(-10**6, 10**6), 10**15, -(10**15), 10**20, 0]),
        lambda: rng.choice([rng.uniform(-1e6, 1e6), float("nan"), float("inf"), 0.0, -0.0, 1e300, 1e-300]),
        lambda: rng.random() < 0.5,
        lambda: dt.date(1899 + rng.randrange(200), 1 + rng.randrange(12), 1 + rng.randrange(28)),
        lambda: rng.choice([
            dt.datetime(1899 + rng.randrange(200), 3, 1, rng.randrange(24), rng.randrange(60),
                        rng.randrange(60), rng.randrange(10**6)),
            dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc),
        ]),
        lambda: rng.choice([Decimal(rng.randrange(10**6)) / 100, Decimal("NaN"), Decimal("1E+400"), Decimal("-0")]),
        lambda: dt.time(rng.randrange(24), rng.randrange(60)),
        lambda: Hyperlink(f"https://example.org/{rng.randrange(100)}/ภาพ.jpg", rng.choice([None, "ภาพ.jpg", ""])),
    ]


def test_row_functions_take_values_of_any_type_in_any_column(tmp_path):
    rng = random.Random(7)
    makers = value_makers(rng)
    mixed = lambda: rng.choice(makers)()  # noqa: E731 - a column whose values change type
    compared = 0
    with Workbook(tmp_path / "mixed.xlsx") as workbook:
        sheet = workbook.add_sheet("mixed")
        for _ in range(2000):
            row = [None if rng.random() < 0.3 else mixed() for _ in range(9)]
            sheet.write_row(row)
            fast = sheet._profile.render(row, "7", sheet._other_cell)
            if fast is not None:
                assert fast.encode("latin-1") == sheet._render_cells(row, "7").encode("utf-8"), row
                compared += 1
    assert compared > 200


def test_generated_row_functions_and_cell_by_cell_rows_give_the_same_xml(tmp_path):
    rng = random.Random(20240501)
    makers = value_makers(rng)
    compared = 0
    with Workbook(tmp_path / "paths.xlsx") as workbook:
        for _ in range(6):
            sheet = workbook.add_sheet("paths")
            columns = [rng.choice(makers) for _ in range(rng.randrange(1, 15))]
            for _ in range(600):
                row = [None if rng.random() < 0.2 else make() for make in columns]
                sheet.write_row(row)  # learns the column types and grows the column letters
                fast = sheet._profile.render(row, "7", sheet._other_cell)
                if fast is not None:
                    assert fast.encode("latin-1") == sheet._render_cells(row, "7").encode("utf-8"), row
                    compared += 1
    assert compared > 500


# -- LibreOffice ---------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: "
                    "apt-get install libreoffice-calc-nogui to run this test")
def test_libreoffice_opens_the_workbook_and_reads_the_same_values(tmp_path):
    path = tmp_path / "export.xlsx"
    header = ["id", "ชื่อ", "when", "date", "time", "ok", "link", "amount", "code", "formula", "escape"]
    rows = [
        [1, THAI[0], dt.datetime(2024, 5, 1, 13, 45, 30), dt.date(2024, 5, 1), dt.time(7, 30),
         True, Hyperlink("https://example.org/a b", "photo"), Decimal("12.5"), "0570189001238", "=1+1", "_x0041_"],
        [2, THAI[1], dt.datetime(2023, 12, 31, 23, 59, 59), dt.date(2023, 12, 31), dt.time(23, 0, 5),
         False, None, -3.25, "  padded  ", "@SUM(A1)", "a & b < c"],
    ]
    with Workbook(path) as workbook:
        sheet = workbook.add_sheet("ครัวเรือน", freeze_rows=1, autofilter=True)
        sheet.write_row(header, style="header")
        for row in rows:
            sheet.write_row(row)
        table = workbook.add_table("members", [["n"]], max_rows=3)
        for number in range(4):
            table.write_row([number])

    out = tmp_path / "out"
    out.mkdir()
    command = [
        SOFFICE, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
        "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
        "--outdir", str(out), str(path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    files = {file.name: file for file in out.glob("*.csv")}
    assert set(files) == {"export-ครัวเรือน.csv", "export-members.csv", "export-members (2).csv"}, (
        files, result.stdout, result.stderr)

    with open(files["export-ครัวเรือน.csv"], newline="", encoding="utf-8") as handle:
        read = list(csv.reader(handle))
    assert read[0] == header
    expected = [
        ["1", THAI[0], "2024-05-01 13:45:30", "2024-05-01", "07:30:00", "TRUE", "photo", "12.5",
         "0570189001238", "=1+1", "_x0041_"],
        ["2", THAI[1], "2023-12-31 23:59:59", "2023-12-31", "23:00:05", "FALSE", "", "-3.25",
         "  padded  ", "@SUM(A1)", "a & b < c"],
    ]
    for got, want in zip(read[1:], expected):
        # LibreOffice may show hh:mm:ss in its locale's 12-hour clock.
        got[4] = dt.datetime.strptime(got[4], "%I:%M:%S %p").strftime("%H:%M:%S") if got[4].endswith("M") else got[4]
        assert got == want
    with open(files["export-members (2).csv"], encoding="utf-8") as handle:
        assert handle.read().split() == ["n", "2", "3"]
