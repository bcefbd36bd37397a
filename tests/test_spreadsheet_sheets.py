"""A sheet and a table of numbered sheets (``spreadsheet/sheet.py``): names Excel accepts, frozen
header rows, filters and widths, hyperlinks, the row limit, rows leaving memory as they are written."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from formserver.exports.spreadsheet import MAX_ROWS, Hyperlink, RowLimitError, Workbook
from formserver.exports.spreadsheet import sheet as sheet_module

from .spreadsheets import MAIN, NonSeekableSink, calamine_values, sheet_xml, write


FORBIDDEN_IN_SHEET_NAMES = set("[]:*?/\\")


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
    monkeypatch.setattr(sheet_module, "MAX_HYPERLINKS", 2)
    path = tmp_path / "many-links.xlsx"
    write(path, [[Hyperlink(f"https://example.org/{n}", f"link {n}")] for n in range(3)])

    worksheet = openpyxl.load_workbook(path).active
    assert [worksheet[f"A{n}"].value for n in (1, 2, 3)] == ["link 0", "link 1", "https://example.org/2"]
    assert worksheet["A3"].hyperlink is None


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
    monkeypatch.setattr(sheet_module, "MAX_ROWS", 3)
    with Workbook(tmp_path / "full.xlsx") as workbook:
        sheet = workbook.add_sheet("full")
        for number in range(3):
            sheet.write_row([number])
        with pytest.raises(RowLimitError):
            sheet.write_row([4])
        assert sheet.rows_written == 3
    assert MAX_ROWS == 1_048_576


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


def test_rows_leave_memory_while_the_sheet_is_written():
    sink = NonSeekableSink()
    workbook = Workbook(sink, background=False)
    sheet = workbook.add_sheet("big")
    for number in range(60_000):
        sheet.write_row([number, "สมชาย ใจดี", number * 1.5, "yes"])
        if number == 30_000:
            written_midway = len(sink.data)
    assert written_midway > 100_000  # deflated rows reached the target before the end
    assert sum(map(len, sheet._buffer)) <= 2 * sheet_module._FLUSH_CHARS
    workbook.close()
