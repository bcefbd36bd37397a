"""Shown tables taken away — the workbook, the CSV file and a snapshot's JSON: hidden counts only
as their marks, Thai labels byte for byte, no formula, and a method sheet that says how."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import zipfile

import openpyxl
import pytest

from formserver.network.suppression import suppress
from formserver.network.table import Choice, Dimension, TableRequest
from formserver.network.workbook import METHOD_SHEET, from_json, table_csv, table_rows, to_json, write_workbook
from tests.network_tables import (
    DOCUMENTS, LEGAL_STATUS, PROVINCE, SEX, crosstable, documents_by_sex, legal_status, legal_status_by_province,
    months,
)

TABLES = [legal_status_by_province, documents_by_sex, legal_status, months]
SMALL = {1, 2, 3, 4}
MADE = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.timezone.utc)


def workbook_bytes(tables, language="th") -> bytes:
    out = io.BytesIO()
    write_workbook(out, tables, language, made=MADE, background=False)
    return out.getvalue()


def shown_tables():
    return [suppress(make(), 5) for make in TABLES]


def read(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


# -- XLSX -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["th", "en"])
def test_no_count_under_k_is_a_number_anywhere_in_the_workbook(language):
    data = workbook_bytes(shown_tables(), language)
    book = read(data)
    for sheet in book:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, int) and value in SMALL), (sheet.title, row)
                assert not (isinstance(value, str) and value.strip() in {"1", "2", "3", "4"}), (sheet.title, row)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode("utf-8")
                assert not {int(v) for v in re.findall(r"<v>(\d+)</v>", xml)} & SMALL, name
                assert "<f>" not in xml


def test_a_sheet_is_the_table_with_counts_as_numbers_and_hidden_ones_as_their_marks():
    book = read(workbook_bytes([suppress(legal_status_by_province(), 5)], "en"))
    rows = list(book["Legal status × Province"].iter_rows(values_only=True))
    assert rows[0] == ("Legal status", "Chiang Mai", "Chiang Rai", "Mae Hong Son", "Tak", "Total")
    assert rows[1] == ("Thai national", 120, 85, "<5", "x", 248)
    assert rows[6] == ("Total", 207, 172, 34, 101, 514)
    assert rows[8][0] == "<5: fewer than 5, not shown"
    assert rows[9][0] == "x: hidden so that a small count cannot be worked out from the totals"


def test_thai_labels_round_trip_byte_for_byte():
    data = workbook_bytes([suppress(legal_status_by_province(), 5)], "th")
    book = read(data)
    sheet = book["สถานะทางกฎหมาย × จังหวัด"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("สถานะทางกฎหมาย", "เชียงใหม่", "เชียงราย")
    assert rows[3][0] == "บุคคลที่ไม่มีสถานะทางทะเบียน (เลข 0)"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
        workbook_xml = archive.read("xl/workbook.xml")
    assert "แรงงานข้ามชาติ (ท.ร.38/1)".encode("utf-8") in sheet_xml
    assert "สถานะทางกฎหมาย × จังหวัด".encode("utf-8") in workbook_xml


def test_sheet_names_follow_excels_rules_and_stay_unique():
    rows = Dimension("status", {"en": "Status [old/new]: which one? *really* a very long label"},
                     LEGAL_STATUS.choices)
    table = suppress(crosstable(rows, None, [30, 40, 50, 60, 70]), 5)
    book = read(workbook_bytes([table, table], "en"))
    names = book.sheetnames
    assert len(names) == 3 and names[2] == METHOD_SHEET
    assert names[0] != names[1]
    for name in names[:2]:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")


def test_formula_like_labels_stay_text():
    evil = '=HYPERLINK("http://evil.example","click")'
    rows = Dimension("status", {"en": "+cmd|' /C calc'!A0"}, (Choice("a", {"en": evil}), Choice("b", {"en": "@SUM(1+1)"})))
    columns = Dimension("sex", {"en": "-2+3"}, (Choice("m", {"en": "=1+1"}), Choice("f", {"en": "F"})))
    data = workbook_bytes([suppress(crosstable(rows, columns, [[10, 20], [30, 40]]), 5)], "en")
    book = read(data)
    sheet = book.worksheets[0]
    assert sheet["A2"].value == evil and sheet["A2"].data_type == "s"
    assert sheet["B1"].value == "=1+1" and sheet["B1"].data_type == "s"
    assert sheet["A3"].value == "@SUM(1+1)" and sheet["A3"].data_type == "s"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_the_method_sheet_says_how_the_figures_were_made():
    table = crosstable(LEGAL_STATUS, PROVINCE, [[120, 85, 3, 40], [14, 9, 0, 2], [61, 77, 25, 18],
                                                  [8, 1, 6, 30], [4, 0, 0, 11]], without_identity=23)
    request = dataclasses.replace(table.request, since=dt.date(2026, 1, 1), until=dt.date(2026, 6, 30),
                                  filters={"province": ("50", "57"), "sex": ("female",)})
    shown = suppress(dataclasses.replace(table, request=request), 5)
    book = read(workbook_bytes([shown], "en"))
    method = {row[0]: row[1] for row in book[METHOD_SHEET].iter_rows(values_only=True) if row[0]}
    assert method["Made"] == "2026-12-05 09:30 UTC"
    assert method["Smallest count shown (k)"] == 5
    assert "counted once" in method["De-duplication"]
    assert method["Form"] == "household_status_intake"
    assert method["Period"] == "2026-01-01 – 2026-06-30"
    assert method["Filters"] == "province = 50, 57; sex = female"
    assert method["Unit"] == "Rows of member"
    assert method["Organisations included"] == "hillnet, mae-sai-legal, tak-rights"
    assert method["Counted without an ID number (not de-duplicated)"] == 23
    assert method["Sheet"] == book.sheetnames[0]


def test_the_method_sheet_in_thai_is_in_thai():
    book = read(workbook_bytes([suppress(months(), 5)], "th"))
    labels = [row[0] for row in book[METHOD_SHEET].iter_rows(values_only=True) if row[0]]
    assert all(re.search("[\u0e00-\u0e7f]", label) for label in labels), labels


def test_a_withheld_table_has_its_header_and_the_reason_only():
    shown = suppress(crosstable(LEGAL_STATUS, SEX, [[0, 1, 0], [0, 0, 0], [2, 0, 0], [0, 0, 0], [0, 0, 0]]), 5)
    book = read(workbook_bytes([shown], "en"))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "Legal status"
    assert [row[0] for row in rows[1:] if row[0]] == ["Fewer than 5 in this selection: nothing is shown."]
    assert not [v for row in rows for v in row if isinstance(v, int)]


def test_a_select_multiple_total_is_the_number_who_answered():
    rows = table_rows(suppress(documents_by_sex(), 5), "en")
    assert rows[-1] == ["Total", 70, 66, 6, 142]


# -- CSV ------------------------------------------------------------------------------------


def test_the_csv_file_is_the_issues_shape():
    assert table_csv(suppress(legal_status_by_province(), 5)) == (
        "legal_status,50,57,58,63,total\r\n"
        "thai,120,85,<5,x,248\r\n"
        "s7bis,14,x,0,<5,25\r\n"
        "no_reg_status,61,77,25,18,181\r\n"
        "migrant,x,<5,x,30,45\r\n"
        "undocumented,<5,0,0,x,15\r\n"
        "total,207,172,34,101,514\r\n"
    )


def test_a_csv_file_of_one_dimension_has_one_total_column():
    assert table_csv(suppress(legal_status(), 5)).splitlines() == [
        "legal_status,total", "thai,207", "s7bis,25", "no_reg_status,181", "migrant,<5", "undocumented,<5",
        "total,417",
    ]


def test_a_withheld_csv_file_has_its_header_and_the_mark_only():
    shown = suppress(crosstable(LEGAL_STATUS, None, [0, 0, 3, 0, 0]), 5)
    assert table_csv(shown).splitlines() == ["legal_status,total", "total,<5"]


@pytest.mark.parametrize("make", TABLES)
def test_no_count_under_k_is_a_field_of_a_csv_file(make):
    fields = {f for line in table_csv(suppress(make(), 5)).splitlines() for f in line.split(",")}
    assert not fields & {"1", "2", "3", "4"}


def test_formula_like_choice_names_are_guarded_in_csv():
    rows = Dimension("=cmd", {}, (Choice("-1+1"), Choice("@a"), Choice("-5"), Choice("ok")))
    text = table_csv(suppress(crosstable(rows, None, [10, 20, 30, 40]), 5))
    assert text.splitlines() == ["'=cmd,total", "'-1+1,10", "'@a,20", "-5,30", "ok,40", "total,100"]


# -- JSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize("make", TABLES)
def test_a_snapshots_json_gives_back_the_same_shown_table(make):
    shown = suppress(make(), 5)
    assert from_json(json.loads(json.dumps(to_json(shown), ensure_ascii=False))) == shown


def test_a_snapshots_json_keeps_the_request_and_thai_labels():
    table = legal_status_by_province()
    request = TableRequest("household_status_intake", "legal_status", "province", "member",
                           dt.date(2026, 1, 1), dt.date(2026, 3, 31), {"province": ("50",)})
    shown = suppress(dataclasses.replace(table, request=request), 5)
    text = json.dumps(to_json(shown), ensure_ascii=False)
    assert "บุคคลที่ไม่มีสถานะทางทะเบียน (เลข 0)" in text
    assert from_json(json.loads(text)).request == request


@pytest.mark.parametrize("make", TABLES)
def test_a_snapshots_json_holds_no_count_under_k(make):
    data = to_json(suppress(make(), 5))
    del data["k"], data["version"]

    def numbers(item):
        if isinstance(item, bool):
            return
        if isinstance(item, int):
            yield item
        elif isinstance(item, dict):
            for inner in item.values():
                yield from numbers(inner)
        elif isinstance(item, list):
            for inner in item:
                yield from numbers(inner)
    assert not set(numbers(data)) & SMALL


def test_a_snapshot_of_another_version_or_with_a_strange_value_is_refused():
    data = to_json(suppress(legal_status(), 5))
    with pytest.raises(ValueError):
        from_json({**data, "version": 2})
    with pytest.raises(ValueError):
        from_json({**data, "total": 4.5})
    assert DOCUMENTS.multiple and from_json(to_json(suppress(documents_by_sex(), 5))).rows.multiple
