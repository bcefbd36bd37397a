"""Form designers on the web: upload a draft, see where a broken form is wrong, preview in Thai and
English with what changes for exports, publish, media, state and history."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from formserver import forms
from formserver.accounts import organisation_by_slug
from formserver.models import AuditEvent, Form, FormAssignment

from .web_fixtures import CSRF, sign_in, web  # noqa: F401
from .xlsforms import simple_form, xlsform

HOUSEHOLD = Path(__file__).resolve().parent.parent / "forms" / "household_status_intake.xlsx"


@pytest.fixture
def manager(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    return client


def upload(client, content: bytes, filename: str = "form.xlsx", media=()):
    data = {"csrf_token": CSRF, "xlsform": (io.BytesIO(content), filename)}
    if media:
        data["media"] = [(io.BytesIO(body), name) for name, body in media]
    return client.post("/orgs/hillnet/forms/new", data=data, content_type="multipart/form-data")


def stored_forms(app) -> list[str]:
    with app.extensions["formserver.db"].session_scope() as session:
        return [f.form_id for f in forms.forms_of(session, organisation_by_slug(session, "hillnet"))]


def test_a_broken_form_is_refused_with_its_sheet_row_and_column(app, manager):
    broken = xlsform(
        [{"type": "text", "name": "ok", "label": "OK"}, {"type": "calculate", "name": "total", "label": "Total"}],
        settings={"form_id": "broken", "version": "1"},
    )
    response = upload(manager, broken, "broken.xlsx")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<dd class="sheet">survey</dd>' in page
    assert '<dd class="row">3</dd>' in page
    assert "แปลงแบบฟอร์มไม่ได้ ยังไม่ได้บันทึกอะไร" in page
    assert "broken" not in stored_forms(app)


def test_a_file_that_is_not_a_form_is_refused(app, manager):
    response = upload(manager, b"%PDF-1.4", "notes.pdf")
    assert response.status_code == 400 and "ไฟล์ notes.pdf ไม่ใช่ XLSForm" in response.get_data(as_text=True)


def test_no_file_chosen(manager):
    response = manager.post("/orgs/hillnet/forms/new", data={"csrf_token": CSRF})
    assert response.status_code == 400 and "โปรดเลือกไฟล์" in response.get_data(as_text=True)


@pytest.mark.skipif(not HOUSEHOLD.exists(), reason="forms/household_status_intake.xlsx is not in this checkout")
def test_the_household_form_is_kept_as_a_draft_previewed_in_thai_and_english_then_published(app, manager):
    response = upload(manager, HOUSEHOLD.read_bytes(), HOUSEHOLD.name)
    assert response.status_code == 302
    version_page = response.location
    page = manager.get(version_page).get_data(as_text=True)
    assert "ฉบับร่าง" in page  # draft
    assert "ความยินยอม" in page and "Consent" in page  # a group's label in both languages
    assert "ถ้าไม่ยินยอม แบบสอบถามจะจบที่นี่" in page  # a hint
    assert 'class="node node-repeat' in page  # the member repeat, nested
    assert re.search(r'class="relevant">แสดงเมื่อ: “[^<]*” คือ “ไม่ยินยอม”', page)  # relevance in words
    assert "นี่เป็นเวอร์ชันแรก" in page  # nothing published to compare with
    with app.extensions["formserver.db"].session_scope() as session:
        form = forms.form_by_id(session, organisation_by_slug(session, "hillnet"), "household_status_intake")
        assert forms.served_version(session, form) is None
    publish = re.search(r'action="([^"]+/publish)"', page).group(1)
    assert manager.post(publish, data={"csrf_token": CSRF}).status_code == 302
    with app.extensions["formserver.db"].session_scope() as session:
        form = forms.form_by_id(session, organisation_by_slug(session, "hillnet"), "household_status_intake")
        assert forms.served_version(session, form).version == form.versions[0].version
    manager.set_cookie("lang", "en")
    english = manager.get(version_page).get_data(as_text=True)
    assert "Shown when" in english and "“No, I do not consent”" in english


def test_the_draft_shows_what_changes_for_exports_and_publishing_serves_it(app, manager, web):
    url = f"/orgs/hillnet/forms/intake/versions/{web.own.draft_version}"
    page = manager.get(url).get_data(as_text=True)
    assert "เมื่อเทียบกับเวอร์ชัน 1 ที่เผยแพร่อยู่" in page
    assert re.search(r'<li class="added">เพิ่มคอลัมน์: <code>village</code> – หมู่บ้าน</li>', page)
    assert "ชื่อผู้ให้ข้อมูล" in page and "Respondent&#39;s name" in page
    assert manager.post(url + "/publish", data={"csrf_token": CSRF}).status_code == 302
    with app.extensions["formserver.db"].session_scope() as session:
        form = session.scalar(select(Form).where(Form.organisation_id == web.own.org_id))
        assert forms.served_version(session, form).version == "2"
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "form.publish", AuditEvent.target == "intake@2"))
    history = manager.get("/orgs/hillnet/forms/intake").get_data(as_text=True)
    assert "โทรศัพท์ได้รับเวอร์ชัน 2" in history


def test_missing_media_are_listed_until_uploaded(app, manager):
    content = xlsform(
        [{"type": "note", "name": "logo", "label": "Logo", "media::image": "logo.png"},
         {"type": "select_one_from_file villages.csv", "name": "village", "label": "Village"}],
        settings={"form_id": "media", "version": "1"},
    )
    response = upload(manager, content, "media.xlsx", media=[("villages.csv", "name,label\nban1,บ้านหนึ่ง\n".encode())])
    page = manager.get(response.location).get_data(as_text=True)
    assert "ขาดไฟล์: logo.png" in page
    assert re.search(r"ยังไม่มี</span> <code>logo.png</code>", page)
    assert re.search(r"มีแล้ว</span> <code>villages.csv</code>", page)
    media_url = re.search(r'action="([^"]+/media)"', page).group(1)
    stored = manager.post(
        media_url, data={"csrf_token": CSRF, "media": (io.BytesIO(b"\x89PNG fake"), "logo.png")}, content_type="multipart/form-data"
    )
    assert stored.status_code == 302
    page = manager.get(response.location).get_data(as_text=True)
    assert "ขาดไฟล์" not in page and re.search(r"มีแล้ว</span> <code>logo.png</code>", page)
    refused = manager.post(
        media_url, data={"csrf_token": CSRF, "media": (io.BytesIO(b"x"), "other.png")}, content_type="multipart/form-data"
    )
    assert "ไม่ได้ใช้ไฟล์สื่อชื่อ other.png" in manager.get(refused.location).get_data(as_text=True)


def test_uploading_the_same_file_again_changes_nothing_and_a_changed_form_needs_a_new_version(app, manager):
    first = upload(manager, simple_form(version="1"), "simple.xlsx")
    again = upload(manager, simple_form(version="1"), "simple.xlsx")
    assert again.location == first.location
    assert "ไม่มีอะไรเปลี่ยน" in manager.get(again.location).get_data(as_text=True)
    clash = upload(manager, simple_form(version="1", extra=[{"type": "text", "name": "x", "label": "X"}]), "simple.xlsx")
    assert clash.status_code == 409 and "โปรดเปลี่ยน version" in clash.get_data(as_text=True)


def test_the_state_changes_and_is_audited(app, manager):
    assert manager.post("/orgs/hillnet/forms/intake/state", data={"state": "closing", "csrf_token": CSRF}).status_code == 302
    with app.extensions["formserver.db"].session_scope() as session:
        form = forms.form_by_id(session, organisation_by_slug(session, "hillnet"), "intake")
        assert form.state == "closing"
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "form.state", AuditEvent.target == "intake"))
    assert "กำลังปิด" in manager.get("/orgs/hillnet").get_data(as_text=True)
    refused = manager.post("/orgs/hillnet/forms/intake/state", data={"state": "archived", "csrf_token": CSRF})
    assert refused.status_code == 400 and "archived ไม่ใช่สถานะของแบบฟอร์ม" in refused.get_data(as_text=True)


def test_the_organisation_home_lists_forms_with_their_numbers(app, manager):
    page = manager.get("/orgs/hillnet").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td><a href=\"/orgs/hillnet/forms/intake\">.*?</tr>", page, re.S).group(0)
    assert "แบบสำรวจครัวเรือน" in row and "เปิดรับ" in row
    assert ">1</a>" in row  # one current submission (the conflict is kept aside, not counted)
    assert re.search(r"\d{1,2} [\u0E00-\u0E7F.]+ 25\d\d \d\d:\d\d", row)  # the last submission's time, Buddhist era
    assert "2 <span class=\"badge draft\">ฉบับร่าง</span>" in row  # the newest version is the draft 2


def test_in_english_the_last_submission_shows_day_month_and_gregorian_year(app, manager):
    manager.set_cookie("lang", "en")
    row = re.search(r"<tr>\s*<td><a href=\"/orgs/hillnet/forms/intake\">.*?</tr>", manager.get("/orgs/hillnet").get_data(as_text=True), re.S)
    assert re.search(r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d \d\d:\d\d", row.group(0))


def test_collectors_see_only_the_open_forms(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["collector"])
    page = client.get("/orgs/hillnet").get_data(as_text=True)
    assert "แบบฟอร์มที่เปิดรับข้อมูล" in page and "แบบสำรวจครัวเรือน" in page
    assert "/submissions" not in page and "ส่งเข้ามาล่าสุด" not in page


def test_the_source_workbook_and_xform_download(manager, web):
    xlsx = manager.get(f"/orgs/hillnet/forms/intake/versions/{web.own.published_version}/xlsform")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert "attachment" in xlsx.headers["Content-Disposition"]
    xml = manager.get(f"/orgs/hillnet/forms/intake/versions/{web.own.published_version}/xform")
    assert b"<h:html" in xml.data


def test_an_upload_larger_than_the_limit_is_refused(settings, web):
    import dataclasses

    from formserver import create_app

    small = create_app(dataclasses.replace(settings, accept_content_length=10_000))
    client = small.test_client()
    sign_in(client, small, web.users["manager"])
    response = upload(client, b"x" * 20_000, "big.xlsx")
    assert response.status_code == 413 and "ไฟล์ใหญ่เกินไป" in response.get_data(as_text=True)
    small.extensions["formserver.db"].dispose()


def _assigned(app, web) -> list[tuple]:
    with app.extensions["formserver.db"].session_scope() as session:
        rows = session.scalars(select(FormAssignment).join(Form).where(Form.organisation_id == web.own.org_id))
        return sorted((a.app_user_id, a.user_id) for a in rows)


def test_a_manager_restricts_the_form_to_one_phone_and_opens_it_again(app, manager, web):
    page = manager.get("/orgs/hillnet/forms/intake").get_data(as_text=True)
    assert "ใครได้รับแบบฟอร์มนี้" in page and "โทรศัพท์และผู้เก็บข้อมูลทุกคนของหน่วยงานได้รับแบบฟอร์มนี้" in page
    assert f'<option value="app_user:{web.own.app_user}">บัญชีอุปกรณ์ โทรศัพท์ 1</option>' in page
    assert f'<option value="user:{web.own.collector}">collector@hill.example</option>' in page
    assert f"app_user:{web.own.revoked_app_user}" not in page and f"user:{web.own.viewer}" not in page
    url = "/orgs/hillnet/forms/intake/assignments"
    assert manager.post(url, data={"who": f"app_user:{web.own.app_user}", "csrf_token": CSRF}).status_code == 302
    assert _assigned(app, web) == [(web.own.app_user, None)]
    page = manager.get("/orgs/hillnet/forms/intake").get_data(as_text=True)
    assert "เฉพาะบัญชีที่ได้รับมอบหมายเท่านั้นที่ได้รับแบบฟอร์มนี้" in page  # the flash message
    assert re.search(r"<li>บัญชีอุปกรณ์ โทรศัพท์ 1\s*<form", page)

    for outsider in (f"app_user:{web.other.app_user}", f"user:{web.other.manager}", "app_user:x", ""):
        refused = manager.post(url, data={"who": outsider, "csrf_token": CSRF})
        assert refused.status_code == 404, outsider
    assert manager.post(url, data={"who": f"app_user:{web.own.app_user}"}).status_code == 400  # no CSRF token
    assert _assigned(app, web) == [(web.own.app_user, None)]

    assert manager.post(url + "/remove", data={"who": f"app_user:{web.own.app_user}", "csrf_token": CSRF}).status_code == 302
    assert _assigned(app, web) == []
    with app.extensions["formserver.db"].session_scope() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(("form.assign", "form.unassign"))))
        assert sorted(actions) == ["form.assign", "form.unassign"]
