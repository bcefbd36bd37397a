"""What the network tests share: a small household form with a ``network`` column, households sent
to it as phones send them, and organisations that share it."""

from __future__ import annotations

from formserver import forms
from formserver.accounts import create_organisation
from formserver.network import facts, sharing
from formserver.network.figures import cross_table
from formserver.network.identity import installation_key
from formserver.submissions import ingest

from .xlsforms import xlsform

TH, EN = "label::Thai (th)", "label::English (en)"
FORM_ID = "household_visit"

SURVEY = [
    {"type": "select_one province", "name": "province", TH: "จังหวัด", EN: "Province", "network": "dimension"},
    {"type": "text", "name": "head_name", TH: "ชื่อหัวหน้าครัวเรือน", EN: "Head of household"},
    {"type": "text", "name": "head_id", TH: "เลขประจำตัวหัวหน้า", EN: "Head's ID number", "network": "identity"},
    {"type": "geopoint", "name": "gps", TH: "พิกัด", EN: "Location"},
    {"type": "text", "name": "remark", TH: "หมายเหตุ", EN: "Remark"},
    {"type": "begin_repeat", "name": "member", TH: "สมาชิก", EN: "Member"},
    {"type": "text", "name": "member_name", TH: "ชื่อสมาชิก", EN: "Member's name"},
    {"type": "text", "name": "id_number", TH: "เลขประจำตัว", EN: "ID number", "network": "identity"},
    {"type": "select_one status", "name": "legal_status", TH: "สถานะ", EN: "Legal status", "network": "dimension"},
    {"type": "select_multiple doc", "name": "documents", TH: "เอกสาร", EN: "Documents", "network": "dimension"},
    {"type": "integer", "name": "age", TH: "อายุ", EN: "Age", "network": "bands 0 18 60"},
    {"type": "end_repeat", "name": ""},
]
CHOICES = [
    *({"list_name": "province", "name": code, TH: th, EN: en} for code, th, en in (
        ("50", "เชียงใหม่", "Chiang Mai"), ("57", "เชียงราย", "Chiang Rai"), ("63", "ตาก", "Tak"))),
    *({"list_name": "status", "name": name, TH: th, EN: en} for name, th, en in (
        ("thai", "สัญชาติไทย", "Thai national"), ("stateless", "ไร้สัญชาติ", "Stateless"),
        ("pending", "รอพิสูจน์สถานะ", "Status pending"))),
    *({"list_name": "doc", "name": name, TH: th, EN: en} for name, th, en in (
        ("birth", "สูติบัตร", "Birth certificate"), ("tr14", "ทะเบียนบ้าน", "House register"), ("none", "ไม่มี", "None"))),
]


def household_form(survey=None, version: str = "1") -> bytes:
    return xlsform(survey or SURVEY, CHOICES, {"form_id": FORM_ID, "form_title": "เยี่ยมบ้าน", "version": version})


def member(name: str, id_number: str = "", status: str = "stateless", documents: str = "birth", age: str = "30") -> dict:
    return {"member_name": name, "id_number": id_number, "legal_status": status, "documents": documents, "age": age}


def household_xml(
    instance_id: str, *, province: str = "57", head_name: str = "สมชาย", head_id: str = "", members=(),
    gps: str = "20.0 99.8 400 5", remark: str = "", version: str = "1", deprecated: str | None = None,
) -> bytes:
    rows = "".join(
        "<member>" + "".join(f"<{k}>{v}</{k}>" for k, v in m.items()) + "</member>" for m in members
    )
    meta = f"<instanceID>{instance_id}</instanceID>" + (f"<deprecatedID>{deprecated}</deprecatedID>" if deprecated else "")
    return (
        f'<data id="{FORM_ID}" version="{version}"><province>{province}</province><head_name>{head_name}</head_name>'
        f"<head_id>{head_id}</head_id><gps>{gps}</gps><remark>{remark}</remark>{rows}<meta>{meta}</meta></data>"
    ).encode("utf-8")


def sharing_organisation(session, blobs, slug: str, *, shared: bool = True):
    """An organisation with the household form, shared with the network (or not)."""
    organisation = create_organisation(session, slug, f"Organisation {slug}")
    upload = forms.add_form_version(session, blobs, organisation, household_form(), "household_visit.xlsx")
    session.commit()
    if shared:
        share(session, blobs, upload.form, True)
    return organisation, upload.form


def share(session, blobs, form, on: bool) -> None:
    sharing.set_shared(session, installation_key(blobs.data_dir), form, on, actor=None)
    session.commit()


def send(session, blobs, organisation, xml: bytes):
    return ingest(session, blobs, organisation, xml)


def count(session, blobs, request):
    """The cross-table, its facts brought up to date with the installation's key first."""
    return cross_table(session, request, key=installation_key(blobs.data_dir))


def catch_up(session, blobs) -> int:
    return facts.catch_up(session, installation_key(blobs.data_dir))
