"""What the export tests share: a small Thai/English form, submissions without a phone, and two readers.

Every workbook a test writes is read back with two independent readers,
openpyxl and python-calamine, which must agree cell for cell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from pathlib import Path
from unittest import mock

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from formserver import forms
from formserver.accounts import create_organisation
from formserver.exports.export import run_export
from formserver.exports.samples import add_submission, instance_xml
from formserver.models import User

from .xlsforms import xlsform

TH, EN = "label::Thai (th)", "label::English (en)"

VISIT_SURVEY = [
    {"type": "begin_group", "name": "household", TH: "ครัวเรือน", EN: "Household"},
    {"type": "text", "name": "head_name", TH: "ชื่อหัวหน้าครัวเรือน", EN: "Head of household"},
    {"type": "integer", "name": "members", TH: "จำนวนสมาชิก", EN: "Number of members"},
    {"type": "decimal", "name": "income", TH: "รายได้ต่อเดือน", EN: "Monthly income"},
    {"type": "select_one yesno", "name": "has_land", TH: "มีที่ดินหรือไม่", EN: "Has land"},
    {"type": "select_multiple langs", "name": "languages", TH: "ภาษาที่ใช้", EN: "Languages"},
    {"type": "geopoint", "name": "gps", TH: "พิกัด", EN: "Location"},
    {"type": "date", "name": "visit_date", TH: "วันที่เยี่ยม", EN: "Visit date"},
    {"type": "time", "name": "meet_time", TH: "เวลานัด", EN: "Meeting time"},
    {"type": "image", "name": "photo", TH: "รูปเอกสาร", EN: "Document photo"},
    {"type": "text", "name": "remark", TH: "หมายเหตุ", EN: "Remark"},
    {"type": "end_group", "name": ""},
    {"type": "note", "name": "read_out", TH: "อ่านให้ผู้ตอบฟัง", EN: "Read this out"},
    {"type": "begin_repeat", "name": "member", TH: "สมาชิก", EN: "Member"},
    {"type": "text", "name": "member_name", TH: "ชื่อสมาชิก", EN: "Member's name"},
    {"type": "text", "name": "id_number", TH: "เลขประจำตัว 13 หลัก", EN: "13-digit ID number", "appearance": "numbers"},
    {"type": "integer", "name": "age", TH: "อายุ", EN: "Age"},
    {"type": "begin_repeat", "name": "document", TH: "เอกสาร", EN: "Document"},
    {"type": "select_one doc_type", "name": "doc_type", TH: "ประเภทเอกสาร", EN: "Document type"},
    {"type": "date", "name": "issued", TH: "วันที่ออก", EN: "Issued on"},
    {"type": "end_repeat", "name": ""},
    {"type": "end_repeat", "name": ""},
    {"type": "start", "name": "start"},
    {"type": "end", "name": "end"},
]
VISIT_CHOICES = [
    {"list_name": "yesno", "name": "yes", TH: "ใช่", EN: "Yes"},
    {"list_name": "yesno", "name": "no", TH: "ไม่ใช่", EN: "No"},
    {"list_name": "langs", "name": "thai", TH: "ไทย", EN: "Thai"},
    {"list_name": "langs", "name": "akha", TH: "อาข่า", EN: "Akha"},
    {"list_name": "langs", "name": "lahu", TH: "ลาหู่", EN: "Lahu"},
    {"list_name": "langs", "name": "shan", TH: "ไทใหญ่", EN: "Shan"},
    {"list_name": "doc_type", "name": "tr14", TH: "ทะเบียนบ้าน ท.ร.14", EN: "House register (TR14)"},
    {"list_name": "doc_type", "name": "birth", TH: "สูติบัตร", EN: "Birth certificate"},
]


def visit_form(version: str = "1", survey=None, choices=None) -> bytes:
    return xlsform(
        survey or VISIT_SURVEY,
        choices=choices or VISIT_CHOICES,
        settings={"form_id": "visit", "form_title": "เยี่ยมบ้าน", "version": version, "default_language": "Thai (th)"},
    )


SOMCHAI = {
    "household/head_name": "สมชาย ใจดี",
    "household/members": "3",
    "household/income": "4500.50",
    "household/has_land": "yes",
    "household/languages": "thai akha",
    "household/gps": "19.9105 99.8406 412.5 4.8",
    "household/visit_date": "2024-05-01",
    "household/meet_time": "09:30:00.000+07:00",
    "household/photo": "id card.jpg",
    "household/remark": "=HYPERLINK(\"http://evil.example\")",
    "start": "2024-05-01T08:15:00.000+07:00",
    "end": "2024-05-01T02:45:30.000Z",
    "member": [
        {
            "member_name": "นางคำ แสงดี",
            "id_number": "0570189001238",
            "age": "41",
            "document": [{"doc_type": "tr14", "issued": "2010-03-15"}, {"doc_type": "birth"}],
        },
        {"member_name": "ด.ช. แดง", "id_number": "1234567890121", "age": "9"},
    ],
}
NAPAT = {
    "household/head_name": "Napat",
    "household/has_land": "no",
    "member": [{"member_name": "Napat", "document": [{"doc_type": "birth", "issued": "2019-12-31"}]}],
}


_CONVERTED: dict = {}
_convert = forms.convert


def _cached_convert(content: bytes, filename: str, **options):
    key = (hashlib.sha256(content).hexdigest(), filename, tuple(sorted(options.items())))
    if key not in _CONVERTED:
        _CONVERTED[key] = _convert(content, filename, **options)
    return _CONVERTED[key]


def upload(session, blobs, organisation, content: bytes, filename: str):
    """Add a form version; each distinct XLSForm is converted by pyxform once per test run (it takes a while)."""
    with mock.patch.object(forms, "convert", _cached_convert):
        return forms.add_form_version(session, blobs, organisation, content, filename).version


def person(session, email: str, *, admin: bool = False) -> User:
    """A user without a real password (hashing one takes a while, and exports never sign in)."""
    user = User(email=email, password_hash="!", is_admin=admin)
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def organisation(session):
    return create_organisation(session, "hillnet", "Hill network")


@pytest.fixture
def visit(session, blobs, organisation):
    """The visit form, version 1."""
    return upload(session, blobs, organisation, visit_form(), "visit.xlsx")


def export(session, settings, organisation, form, tmp_path, name="export.xlsx", **options) -> Path:
    target = tmp_path / name
    run_export(session, settings, organisation, form, options, target, requested_by=options.pop("_user", None))
    return target


# -- reading workbooks back -------------------------------------------------------------


def _normal(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        # An Excel date is a float of days: the two readers round its last millisecond each their own way.
        return _Moment(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return value.replace(microsecond=0)
    return value


class _Moment(dt.datetime):
    """A datetime read from a workbook, equal to another within two milliseconds."""

    def __new__(cls, value: dt.datetime):
        return super().__new__(cls, *value.timetuple()[:6], value.microsecond, value.tzinfo)

    def __eq__(self, other):
        return isinstance(other, dt.datetime) and abs(dt.datetime.__sub__(self, other)) <= dt.timedelta(milliseconds=2)

    __hash__ = dt.datetime.__hash__


def _trim(rows: list[list]) -> list[list]:
    result = []
    for row in rows:
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        result.append(row)
    while result and not result[-1]:
        result.pop()
    return result


def read_openpyxl(path) -> dict[str, list[list]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        sheets = {}
        for sheet in workbook.worksheets:
            rows = []
            for row in sheet.iter_rows():
                for cell in row:
                    assert getattr(cell, "data_type", None) != "f", f"a formula in {sheet.title}!{cell.coordinate}"
                rows.append([cell.value for cell in row])
            sheets[sheet.title] = _trim(rows)
        return sheets
    finally:
        workbook.close()


def read_calamine(path) -> dict[str, list[list]]:
    workbook = CalamineWorkbook.from_path(str(path))
    return {name: _trim([[None if v == "" else v for v in row] for row in workbook.get_sheet_by_name(name).to_python()]) for name in workbook.sheet_names}


def read_workbook(path) -> dict[str, list[list]]:
    """The sheets of a workbook as rows of values (openpyxl's types), checked against calamine."""
    first = read_openpyxl(path)
    second = read_calamine(path)
    assert list(first) == list(second)
    for name in first:
        a = [[_normal(v) for v in row] for row in first[name]]
        b = [[_normal(v) for v in row] for row in second[name]]
        assert _trim(a) == _trim(b), f"openpyxl and calamine disagree on sheet {name}"
    return first


def sheet_xml(path, number: int) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{number}.xml").decode("utf-8")


def table(rows: list[list], header_rows: int = 2) -> list[dict]:
    """Data rows as dicts keyed by the first header row (field names)."""
    names = rows[0]
    return [dict(zip(names, row + [None] * (len(names) - len(row)))) for row in rows[header_rows:]]


def zip_names(path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return archive.namelist()


def workbook_in_zip(path, name: str, tmp_path) -> Path:
    with zipfile.ZipFile(path) as archive:
        target = tmp_path / f"inner-{re.sub(r'[^A-Za-z0-9.]', '_', name)}"
        target.write_bytes(archive.read(name))
    return target


# -- the support itself ------------------------------------------------------------------


def test_the_sample_instance_has_every_element_of_the_form_in_order_and_the_repeats_given(session, visit):
    xml = instance_xml(visit.field_tree, SOMCHAI, instance_id="uuid:x1").decode()
    assert xml.index("<household>") < xml.index("<member>") < xml.index("<start>")
    assert xml.count("<member>") == 2 and xml.count("<document>") == 2
    assert "<read_out/>" in xml  # notes are in the instance, empty
    assert "<instanceID>uuid:x1</instanceID>" in xml


def test_two_readers_agree_on_a_stored_export(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI)
    sheets = read_workbook(export(session, settings, organisation, visit.form, tmp_path))
    assert list(sheets) == ["visit", "member", "document"]
