"""The streaming writer of zipped CSV files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest

from formserver.exports.csvzip import CsvZip, guard_formula
from formserver.exports.spreadsheet import Hyperlink

THAI = ["สวัสดีครับ", "ผู้ใหญ่บ้าน หมู่ที่ ๓ ตำบลหนองบัว", "น้ำ่ ่ ้", "👨‍👩‍👧 emoji", "日本語"]


def build(tables, **options) -> bytes:
    """A zip from {name: rows}; returns its bytes."""
    target = io.BytesIO()
    with CsvZip(target, **options) as archive:
        for name, rows in tables.items():
            sheet = archive.add_sheet(name)
            for row in rows:
                sheet.write_row(row)
    return target.getvalue()


def files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
        return {name: archive.read(name) for name in archive.namelist()}


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_byte_order_mark_is_written_by_default():
    content = files(build({"t": [["a", "b"]]}))["t.csv"]
    assert content == "\ufeffa,b\r\n".encode("utf-8")
    assert content.startswith(b"\xef\xbb\xbf")


def test_byte_order_mark_can_be_left_out():
    content = files(build({"t": [["a", "b"]]}, bom=False))["t.csv"]
    assert content == b"a,b\r\n"


def test_thai_and_other_scripts_round_trip_byte_for_byte():
    content = files(build({"ครัวเรือน": [THAI, ["a,b", 'say "hi"', "line 1\nline 2"]]}))["ครัวเรือน.csv"]
    rows = rows_of(content)
    assert [text.encode("utf-8") for text in rows[0]] == [text.encode("utf-8") for text in THAI]
    assert rows[1] == ["a,b", 'say "hi"', "line 1\nline 2"]


@pytest.mark.parametrize("text", ["=1+1", "+cmd|' /C calc'!A0", "-x", "@SUM(A1)", "\t=1", "\r=1", "=", "-", "+66 81 234 5678"])
def test_formula_like_text_gets_a_leading_quote(text):
    assert guard_formula(text) == "'" + text
    assert rows_of(files(build({"t": [[text]]}))["t.csv"]) == [["'" + text]]


@pytest.mark.parametrize("text", ["-5", "+5", "-3.25", "+66812345678", "1e5", "-1.5E-3", ".5", "-.5", "0570189001238", "plain", "a=b", "", " =1"])
def test_plain_numbers_and_ordinary_text_are_untouched(text):
    assert guard_formula(text) == text
    assert rows_of(files(build({"t": [[text, "x"]]}))["t.csv"]) == [[text, "x"]]


def test_values_are_written_plainly():
    bangkok = dt.timezone(dt.timedelta(hours=7))
    row = [
        None, 42, -5, 3.25, Decimal("12.50"), True, False,
        dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 13, 45, 30),
        dt.datetime(2024, 5, 1, 13, 45, 30, 120000, tzinfo=bangkok), dt.time(7, 30),
        Hyperlink("https://example.org/a.jpg", "a.jpg"), Hyperlink("=cmd()"), "",
    ]
    assert rows_of(files(build({"t": [row]}))["t.csv"]) == [[
        "", "42", "-5", "3.25", "12.50", "true", "false",
        "2024-05-01", "2024-05-01T13:45:30", "2024-05-01T13:45:30.120000+07:00", "07:30:00",
        "https://example.org/a.jpg", "'=cmd()", "",
    ]]


def test_numbers_are_never_prefixed():
    content = files(build({"t": [[-5, -3.25, Decimal("-1.5"), -(10**20)]]}))["t.csv"]
    assert rows_of(content) == [["-5", "-3.25", "-1.5", "-100000000000000000000"]]


def test_file_names_are_safe_unique_and_end_in_csv():
    data = build({
        "households": [["a"]],
        "Households": [["b"]],
        "HOUSEHOLDS.csv": [["c"]],
        'a/b\\c:d*e?f"g<h>i|j': [["d"]],
        "  ..hidden.. ": [["e"]],
        "": [["f"]],
        "CON": [["g"]],
        "สมาชิก ครัวเรือน": [["h"]],
        "x" * 300: [["i"]],
    })
    names = list(files(data))
    assert names == [
        "households.csv", "Households_2.csv", "HOUSEHOLDS_3.csv", "a_b_c_d_e_f_g_h_i_j.csv",
        "hidden.csv", "table.csv", "CON_.csv", "สมาชิก ครัวเรือน.csv", "x" * 100 + ".csv",
    ]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        thai = archive.getinfo("สมาชิก ครัวเรือน.csv")
        assert thai.flag_bits & 0x800  # the name is marked as UTF-8


def test_a_table_of_ready_fields_writes_them_as_they_are_and_its_header_converted():
    target = io.BytesIO()
    with CsvZip(target) as archive:
        table = archive.add_table("t", [["=name", "n"]], ready=True)
        table.write_row([guard_formula("=1+1"), 5])
        table.write_row(["2024-05-01", None])
    assert rows_of(files(target.getvalue())["t.csv"]) == [["'=name", "n"], ["'=1+1", "5"], ["2024-05-01", ""]]
    assert table.rows_written == 2


def test_sheet_and_table_interface_matches_the_workbook():
    target = io.BytesIO()
    with CsvZip(target) as archive:
        sheet = archive.add_sheet("main", freeze_rows=1, autofilter=True, column_widths=[10])
        sheet.write_row(["id"], style="header")
        sheet.write_row([1])
        table = archive.add_table("members", [["member"], ["label"]], max_rows=5)
        for number in range(10):
            table.write_row([number])
        sheet.write_row(["later"])  # every file stays writable until the archive closes
    with pytest.raises(RuntimeError):
        sheet.write_row(["too late"])
    assert sheet.name == "main.csv" and sheet.rows_written == 3
    assert table.sheet_names == ["members.csv"] and table.rows_written == 10
    content = files(target.getvalue())
    assert rows_of(content["members.csv"]) == [["member"], ["label"]] + [[str(n)] for n in range(10)]
    assert rows_of(content["main.csv"]) == [["id"], ["1"], ["later"]]


def test_lone_surrogates_are_dropped():
    assert rows_of(files(build({"t": [["a\ud800b"]]}))["t.csv"]) == [["ab"]]


def test_streams_large_tables_to_a_non_seekable_target():
    class Sink(io.RawIOBase):
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, chunk):
            self.data += chunk
            return len(chunk)

        def tell(self):
            raise OSError("not seekable")

    sink = Sink()
    # In the foreground: the background worker may hold the first chunks in its queue (at most four).
    archive = CsvZip(sink, background=False)
    sheet = archive.add_sheet("big")
    for number in range(100_000):
        sheet.write_row([number, "สมชาย ใจดี", "yes"])
        if number == 80_000:
            assert len(sink.data) > 50_000  # already streamed
    archive.close()
    rows = rows_of(files(bytes(sink.data))["big.csv"])
    assert len(rows) == 100_000 and rows[-1] == ["99999", "สมชาย ใจดี", "yes"]


def test_generated_row_converters_make_the_same_fields_as_value_by_value():
    import random

    from formserver.exports import csvzip

    class Text(str):
        pass

    rng = random.Random(5)
    values = [
        None, "", "plain", "=1+1", "+66812345678", "-5", "@SUM(A1)", "\tx", "\rx", "0570189001238", THAI[0],
        0, -3, 2**70, 1.5, float("nan"), True, False, dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 13, 45, 30),
        dt.datetime(2024, 5, 1, 13, 45, tzinfo=dt.timezone(dt.timedelta(hours=7))), dt.time(7, 30),
        Hyperlink("https://example.org/a b", "photo"), Hyperlink("=cmd|' /C calc'!A0"), Decimal("12.50"), Text("=x"),
    ]
    for _ in range(500):
        row = [rng.choice(values) for _ in range(rng.randrange(1, 12))]
        converter = csvzip._converter(len(row))
        assert converter(row) == [csvzip.csv_field(value) for value in row], row
