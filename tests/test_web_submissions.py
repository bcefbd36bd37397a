"""Coordinators on the web: the paged table and its filters, one record in the chosen language with its
photo, edits as versions, review and comments, attachments served safely, differing resubmissions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from formserver.accounts import organisation_by_slug
from formserver.models import AppUser, AuditEvent, Submission, SubmissionComment, utcnow
from formserver.problems import Problem
from formserver.submissions import conflicts_of

from .web_fixtures import CSRF, PHOTO, instance, sign_in, submit, web  # noqa: F401


@pytest.fixture
def manager(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    return client


def database(app):
    return app.extensions["formserver.db"]


def add_submissions(app, count: int) -> None:
    """``count`` more submissions of hillnet's intake, one a day going back from yesterday."""
    blobs = app.extensions["formserver.blobs"]
    with database(app).session_scope() as session:
        organisation = organisation_by_slug(session, "hillnet")
        for number in range(count):
            submit(session, blobs, organisation, instance(f"uuid:extra-{number}", name=f"คน {number}"))
        session.execute(update(Submission).where(Submission.instance_id.like("uuid:extra-%")).values(review_state="approved"))
        for number in range(count):
            session.execute(
                update(Submission)
                .where(Submission.instance_id == f"uuid:extra-{number}")
                .values(received_at=utcnow() - timedelta(days=number + 1))
            )


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr(?: class="superseded")?>\s*<td><a href="/orgs/hillnet/submissions/\d+">', page)


def names_in(page: str) -> list[str]:
    return re.findall(r'<td class="record"><a href="/orgs/hillnet/submissions/\d+">([^<]+)</a>', page)


def test_the_table_is_paged_newest_first(app, manager):
    add_submissions(app, 55)
    first = manager.get("/orgs/hillnet/forms/intake/submissions").get_data(as_text=True)
    assert "ข้อมูล 56 รายการ" in first
    assert len(rows_of(first)) == 50
    assert names_in(first)[:3] == ["สมชาย", "คน 0", "คน 1"]
    second = manager.get("/orgs/hillnet/forms/intake/submissions?page=2").get_data(as_text=True)
    assert names_in(second) == [f"คน {n}" for n in range(49, 55)]
    assert "หน้า 2 จาก 2" in second


def test_filters_by_review_state_date_submitter_and_instance_id(app, manager, web):
    add_submissions(app, 5)
    base = "/orgs/hillnet/forms/intake/submissions"
    assert names_in(manager.get(base + "?review=received").get_data(as_text=True)) == ["สมชาย"]
    day = (utcnow() + timedelta(hours=7) - timedelta(days=2)).strftime("%Y-%m-%d")  # Bangkok time
    assert names_in(manager.get(f"{base}?from={day}&to={day}").get_data(as_text=True)) == ["คน 1"]
    assert names_in(manager.get(f"{base}?submitter=app:{web.own.app_user}").get_data(as_text=True)) == ["สมชาย"]
    assert names_in(manager.get(base + "?q=uuid:extra-3").get_data(as_text=True)) == ["คน 3"]
    assert names_in(manager.get(base + "?q=extra-4").get_data(as_text=True)) == ["คน 4"]  # without "uuid:"
    assert "ไม่มีข้อมูลที่ตรงกับตัวกรอง" in manager.get(base + "?q=uuid:nothing").get_data(as_text=True)


def test_a_record_is_shown_with_labels_in_the_chosen_language_repeats_nested_and_its_photo(app, manager, web):
    url = f"/orgs/hillnet/submissions/{web.own.submission}"
    page = manager.get(url).get_data(as_text=True)
    assert "ยินยอมให้ข้อมูลหรือไม่" in page and "ยินยอม <code>yes</code>" in page
    assert page.index("สมาชิก 1") < page.index("นิด") < page.index("สมาชิก 2") < page.index("น้อย")
    photo = f"/orgs/hillnet/submissions/{web.own.submission}/attachments/photo.png"
    assert f'<img class="photo" src="{photo}"' in page
    assert "โทรศัพท์ 1" in page  # the device account that sent it
    manager.set_cookie("lang", "en")
    english = manager.get(url).get_data(as_text=True)
    assert "Do you consent?" in english and "Yes <code>yes</code>" in english and "Member 2" in english


def test_the_photo_is_served_privately_and_the_download_is_audited(app, manager, web):
    response = manager.get(f"/orgs/hillnet/submissions/{web.own.submission}/attachments/photo.png")
    assert response.status_code == 200 and response.data == PHOTO
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store, private"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == "inline; filename=\"photo.png\"; filename*=UTF-8''photo.png"
    with database(app).session_scope() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "attachment.download"))
        assert event.target == "uuid:hillnet-1/photo.png" and event.actor_user_id == web.users["manager"]
    assert manager.get(f"/orgs/hillnet/submissions/{web.own.submission}/attachments/other.png").status_code == 404
    assert manager.get(f"/orgs/hillnet/submissions/{web.own.submission}/attachments/../xml").status_code == 404


def test_a_file_that_could_run_as_a_page_is_only_ever_downloaded(app, manager):
    blobs = app.extensions["formserver.blobs"]
    with database(app).session_scope() as session:
        organisation = organisation_by_slug(session, "hillnet")
        outcome = submit(
            session, blobs, organisation, instance("uuid:html", photo="ภาพ &lt;1&gt;.html"),
            files=[("ภาพ <1>.html", b"<script>alert(1)</script>", "text/html")],
        )
        number = outcome.submission.id
    response = manager.get(f"/orgs/hillnet/submissions/{number}/attachments/ภาพ <1>.html")
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="1_.html"') and "filename*=UTF-8''%E0%B8%A0" in disposition
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_the_raw_xml_downloads_as_sent(app, manager, web):
    response = manager.get(f"/orgs/hillnet/submissions/{web.own.submission}/xml")
    assert response.data == instance("uuid:hillnet-1")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="hillnet-1.xml"')


def test_review_state_and_comments(app, manager, web):
    url = f"/orgs/hillnet/submissions/{web.own.submission}"
    response = manager.post(url + "/review", data={"state": "has_issues", "comment": "เลขบัตรไม่ครบ", "csrf_token": CSRF})
    assert response.status_code == 302
    assert manager.post(url + "/comments", data={"text": "โทรถามแล้ว", "csrf_token": CSRF}).status_code == 302
    page = manager.get(url).get_data(as_text=True)
    assert 'class="badge review-has_issues">มีปัญหา' in page
    assert page.index("เลขบัตรไม่ครบ") < page.index("โทรถามแล้ว")
    with database(app).session_scope() as session:
        assert session.get(Submission, web.own.submission).review_state == "has_issues"
        assert len(session.scalars(select(SubmissionComment)).all()) == 2
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "submission.review")).details == {"state": "has_issues"}
    assert manager.post(url + "/review", data={"state": "lost", "csrf_token": CSRF}).status_code == 400


def test_viewers_read_but_do_not_review(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["viewer"])
    page = client.get(f"/orgs/hillnet/submissions/{web.own.submission}").get_data(as_text=True)
    assert "บันทึกการตรวจ" not in page and "/review" not in page
    assert client.post(f"/orgs/hillnet/submissions/{web.own.submission}/review", data={"state": "approved", "csrf_token": CSRF}).status_code == 403


def test_an_edit_is_a_new_version_of_the_record(app, manager, web):
    blobs = app.extensions["formserver.blobs"]
    edited = instance("uuid:hillnet-1-edit", name="สมชาย ใจดี").replace(
        b"<instanceID>", b"<deprecatedID>uuid:hillnet-1</deprecatedID><instanceID>"
    )
    with database(app).session_scope() as session:
        outcome = submit(session, blobs, organisation_by_slug(session, "hillnet"), edited)
        assert outcome.status == "edit"
        new = outcome.submission.id
    page = manager.get(f"/orgs/hillnet/submissions/{new}").get_data(as_text=True)
    assert "ฉบับต่าง ๆ ของรายการนี้" in page and "แก้ไขจาก <code>uuid:hillnet-1</code>" in page
    old = manager.get(f"/orgs/hillnet/submissions/{web.own.submission}").get_data(as_text=True)
    assert "นี่คือฉบับเก่าของรายการนี้" in old
    table = manager.get("/orgs/hillnet/forms/intake/submissions").get_data(as_text=True)
    assert names_in(table) == ["สมชาย ใจดี"]
    assert names_in(manager.get("/orgs/hillnet/forms/intake/submissions?q=uuid:hillnet-1").get_data(as_text=True)) == ["สมชาย ใจดี", "สมชาย"]


def test_a_differing_resubmission_is_shown_side_by_side_and_taken(app, manager, web):
    assert "มีข้อมูลส่งซ้ำ 1 รายการ" in manager.get("/orgs/hillnet").get_data(as_text=True)
    page = manager.get(f"/orgs/hillnet/conflicts/{web.own.conflict}").get_data(as_text=True)
    row = re.search(r'<tr class="differs">.*?</tr>', page, re.S).group(0)
    assert "จำนวนสมาชิก" in row and "<td>3</td>" in row and "<td>4</td>" in row
    response = manager.post(f"/orgs/hillnet/conflicts/{web.own.conflict}/resolve", data={"resolution": "take_new", "csrf_token": CSRF})
    assert response.status_code == 302
    current = int(response.location.rsplit("/", 1)[1])
    with database(app).session_scope() as session:
        submission = session.get(Submission, current)
        assert submission.is_current and b"<members>4</members>" in submission.xml
        assert not session.get(Submission, web.own.submission).is_current
    assert "ไม่มีรายการรอการตัดสิน" in manager.get("/orgs/hillnet/conflicts").get_data(as_text=True)
    again = manager.post(f"/orgs/hillnet/conflicts/{web.own.conflict}/resolve", data={"resolution": "keep_stored", "csrf_token": CSRF})
    assert again.status_code == 409


def test_the_photo_sent_with_a_differing_resubmission_can_be_opened_before_deciding(app, manager, web):
    with database(app).session_scope() as session:
        organisation = organisation_by_slug(session, "hillnet")
        phone = session.get(AppUser, web.own.app_user)
        blobs = app.extensions["formserver.blobs"]
        with pytest.raises(Problem):
            submit(session, blobs, organisation, instance("uuid:hillnet-1", members="5", photo="new photo.png"),
                   files=[("new photo.png", PHOTO, "image/png")], app_user=phone)
        [conflict] = [c.id for c in conflicts_of(session, organisation) if c.id != web.own.conflict]
    page = manager.get(f"/orgs/hillnet/conflicts/{conflict}").get_data(as_text=True)
    link = f"/orgs/hillnet/conflicts/{conflict}/attachments/new%20photo.png"
    assert f'href="{link}"' in page
    response = manager.get(link)
    assert response.status_code == 200 and response.data == PHOTO and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store, private"
    assert manager.get(f"/orgs/hillnet/conflicts/{conflict}/attachments/photo.png").status_code == 404
    assert manager.get(f"/orgs/hillnet/conflicts/{web.other.conflict}/attachments/new%20photo.png").status_code == 404
    with database(app).session_scope() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "attachment.download"))
        assert event.target == "uuid:hillnet-1/new photo.png"


def test_keeping_the_stored_version(app, manager, web):
    response = manager.post(f"/orgs/hillnet/conflicts/{web.own.conflict}/resolve", data={"resolution": "keep_stored", "csrf_token": CSRF})
    assert response.location == f"/orgs/hillnet/submissions/{web.own.submission}"
    with database(app).session_scope() as session:
        assert session.get(Submission, web.own.submission).is_current
    decided = manager.get("/orgs/hillnet/conflicts?all=1").get_data(as_text=True)
    assert "เก็บฉบับเดิม" in decided


def test_another_organisations_ids_are_not_found_under_this_organisation(app, manager, web):
    for url in (
        f"/orgs/hillnet/submissions/{web.other.submission}",
        f"/orgs/hillnet/submissions/{web.other.submission}/attachments/photo.png",
        f"/orgs/hillnet/conflicts/{web.other.conflict}",
        f"/orgs/rivernet/submissions/{web.other.submission}/attachments/photo.png",
    ):
        assert manager.get(url).status_code == 404, url
    with database(app).session_scope() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "attachment.download")) is None


def test_the_submitter_filter_lists_who_sent_this_form(app, manager, web):
    page = manager.get("/orgs/hillnet/forms/intake/submissions").get_data(as_text=True)
    with database(app).session_scope() as session:
        name = session.get(AppUser, web.own.app_user).name
    assert f'<option value="app:{web.own.app_user}">{name}</option>' in page
