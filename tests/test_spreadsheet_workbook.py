"""The workbook (``spreadsheet/workbook.py``): its parts, its sheets' tab order, and LibreOffice
reading what it wrote."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from formserver.exports.spreadsheet import Hyperlink, Workbook

from .spreadsheets import THAI, write


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
