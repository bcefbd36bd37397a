"""The zip container (``exports/zipstream.py``), through the workbook that writes into it: a target
that cannot seek, deflating in a worker thread or not, the target's errors, and the ZIP64 layout
Excel accepts."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile

import pytest

from formserver.exports.spreadsheet import Hyperlink, Workbook

from .spreadsheets import THAI, NonSeekableSink, calamine_values, openpyxl_values


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
