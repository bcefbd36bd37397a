"""What the tests of the streaming .xlsx writer share: Thai and other scripts, a one-sheet
workbook, its values read back with openpyxl and python-calamine, and a stream that cannot seek."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from python_calamine import CalamineWorkbook

from formserver.exports.spreadsheet import Workbook


MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


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
