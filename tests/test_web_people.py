"""Phones, members, administrators and the audit log on the web."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import select

from formserver import appusers
from formserver.models import AppUser, AuditEvent, Membership, Organisation, User

from .web_fixtures import CSRF, sign_in, web  # noqa: F401


def client_as(app, web, role):
    client = app.test_client()
    sign_in(client, app, web.users[role])
    return client


def database(app):
    return app.extensions["formserver.db"]


# -- phones ------------------------------------------------------------------------------------------


def test_a_device_account_is_created_with_its_qr_code_and_url_and_revoked(app, web):
    manager = client_as(app, web, "manager")
    response = manager.post("/orgs/hillnet/phones", data={"name": "แท็บเล็ต ดอยตุง", "csrf_token": CSRF})
    assert response.status_code == 302
    page = manager.get(response.location).get_data(as_text=True)
    with database(app).session_scope() as session:
        app_user = session.scalar(select(AppUser).where(AppUser.name == "แท็บเล็ต ดอยตุง"))
        token = app_user.token
        number = app_user.id
    assert f"http://localhost/key/{token}/o/hillnet" in page
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1))
    assert png.startswith(b"\x89PNG")
    expected = appusers.qr_png(
        appusers.qr_payload(appusers.collect_settings(f"http://localhost/key/{token}/o/hillnet", "เครือข่ายบนดอย (แท็บเล็ต ดอยตุง)"))
    )
    assert png == expected  # the QR code carries Collect's settings for this token URL
    listing = manager.get("/orgs/hillnet/phones").get_data(as_text=True)
    assert "แท็บเล็ต ดอยตุง" in listing and "ใช้งานอยู่" in listing
    assert manager.post(f"/orgs/hillnet/phones/{number}/revoke", data={"csrf_token": CSRF}).status_code == 302
    assert "ถูกเพิกถอนเมื่อ" in manager.get(f"/orgs/hillnet/phones/{number}").get_data(as_text=True)
    assert token not in manager.get(f"/orgs/hillnet/phones/{number}").get_data(as_text=True)
    with database(app).session_scope() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target == "แท็บเล็ต ดอยตุง")).all()
        assert actions == ["app_user.create", "app_user.revoke"]


def test_a_name_already_in_use_is_refused(app, web):
    manager = client_as(app, web, "manager")
    response = manager.post("/orgs/hillnet/phones", data={"name": "โทรศัพท์ 1", "csrf_token": CSRF})
    assert response.status_code == 409 and "มีบัญชีอุปกรณ์ชื่อ โทรศัพท์ 1 อยู่แล้ว" in response.get_data(as_text=True)


def test_collectors_get_the_instructions_for_their_own_account_in_both_languages(app, web):
    page = client_as(app, web, "collector").get("/orgs/hillnet/phones").get_data(as_text=True)
    assert "http://localhost/o/hillnet" in page and "collector@hill.example" in page
    assert "ลงชื่อเข้า ODK Collect ด้วยบัญชีของคุณเอง" in page and "Sign in to ODK Collect with your own account" in page
    assert "HTTP Digest" in page
    assert "บัญชีอุปกรณ์" not in page.split("</figure>")[1]  # no device accounts for collectors
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1))
    settings = appusers.collect_settings("http://localhost/o/hillnet", "เครือข่ายบนดอย")
    settings["general"]["username"] = "collector@hill.example"
    assert png == appusers.qr_png(appusers.qr_payload(settings))  # no password in it


# -- members -------------------------------------------------------------------------------------


def test_a_manager_adds_an_existing_user_changes_the_role_and_removes_them(app, web):
    manager = client_as(app, web, "manager")
    response = manager.post("/orgs/hillnet/members", data={"email": "Viewer@River.example", "role": "viewer", "csrf_token": CSRF})
    assert response.status_code == 302
    with database(app).session_scope() as session:
        river_viewer = session.scalar(select(User).where(User.email == "viewer@river.example")).id
    page = manager.get("/orgs/hillnet/members").get_data(as_text=True)
    assert "viewer@river.example เป็นผู้ดูข้อมูลของหน่วยงานนี้แล้ว" in page
    assert manager.post(f"/orgs/hillnet/members/{river_viewer}/role", data={"role": "collector", "csrf_token": CSRF}).status_code == 302
    with database(app).session_scope() as session:
        assert session.scalar(
            select(Membership.role).where(Membership.user_id == river_viewer, Membership.organisation_id == web.own.org_id)
        ) == "collector"
    assert manager.post(f"/orgs/hillnet/members/{river_viewer}/remove", data={"csrf_token": CSRF}).status_code == 302
    with database(app).session_scope() as session:
        assert session.scalar(select(Membership).where(Membership.user_id == river_viewer, Membership.organisation_id == web.own.org_id)) is None
        assert session.scalar(select(Membership).where(Membership.user_id == river_viewer)) is not None  # still in rivernet
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "member.remove")) == "member.remove"


def test_a_manager_cannot_create_accounts_but_an_administrator_can(app, web):
    manager = client_as(app, web, "manager")
    refused = manager.post("/orgs/hillnet/members", data={"email": "new@hill.example", "role": "collector", "csrf_token": CSRF})
    assert refused.status_code == 404
    assert "ไม่พบผู้ใช้ new@hill.example" in refused.get_data(as_text=True) and "ผู้ดูแลระบบเครือข่าย" in refused.get_data(as_text=True)
    admin = client_as(app, web, "admin")
    created = admin.post("/orgs/hillnet/members", data={"email": "new@hill.example", "role": "collector", "csrf_token": CSRF})
    assert created.status_code == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', created.get_data(as_text=True)).group(1)
    with database(app).session_scope() as session:
        from formserver.accounts import password_matches

        user = session.scalar(select(User).where(User.email == "new@hill.example"))
        assert password_matches(user, password)


def test_the_last_manager_stays(app, web):
    manager = client_as(app, web, "manager")
    me = web.users["manager"]
    demoted = manager.post(f"/orgs/hillnet/members/{me}/role", data={"role": "viewer", "csrf_token": CSRF})
    assert demoted.status_code == 409 and "ผู้จัดการคนสุดท้าย" in demoted.get_data(as_text=True)
    assert manager.post(f"/orgs/hillnet/members/{me}/remove", data={"csrf_token": CSRF}).status_code == 409
    manager.post(f"/orgs/hillnet/members/{web.users['viewer']}/role", data={"role": "manager", "csrf_token": CSRF})
    assert manager.post(f"/orgs/hillnet/members/{me}/role", data={"role": "viewer", "csrf_token": CSRF}).status_code == 302


# -- administrators -----------------------------------------------------------------------------


def test_an_administrator_creates_an_organisation_and_a_user(app, web):
    admin = client_as(app, web, "admin")
    response = admin.post("/admin/organisations", data={"slug": "maesai", "name": "แม่สาย", "csrf_token": CSRF})
    assert response.location == "/orgs/maesai/members"
    assert admin.post("/admin/organisations", data={"slug": "maesai", "name": "again", "csrf_token": CSRF}).status_code == 409
    created = admin.post("/admin/users", data={"email": "coordinator@maesai.example", "password": "a long password 1", "csrf_token": CSRF})
    assert created.status_code == 200 and "secret" not in created.get_data(as_text=True)
    generated = admin.post("/admin/users", data={"email": "second@maesai.example", "csrf_token": CSRF}).get_data(as_text=True)
    assert re.search(r'<code class="secret">[^<]{12,}</code>', generated)
    with database(app).session_scope() as session:
        assert session.scalar(select(Organisation).where(Organisation.slug == "maesai")).name == "แม่สาย"
    page = admin.get("/").get_data(as_text=True)
    assert 'href="/orgs/maesai"' in page and 'href="/orgs/rivernet"' in page  # every organisation


# -- the audit log -----------------------------------------------------------------------------


def test_the_audit_log_shows_this_organisations_events_and_its_members_sign_ins(app, web):
    from .test_web_auth import sign_in_with_form
    from .web_fixtures import PASSWORD

    sign_in_with_form(app.test_client(), "viewer@hill.example", PASSWORD)
    sign_in_with_form(app.test_client(), "viewer@river.example", PASSWORD)
    manager = client_as(app, web, "manager")
    manager.get(f"/orgs/hillnet/submissions/{web.own.submission}/attachments/photo.png")
    page = manager.get("/orgs/hillnet/audit").get_data(as_text=True)
    assert "<code>user.sign_in</code>" in page and "viewer@hill.example" in page
    assert "viewer@river.example" not in page
    assert "<code>attachment.download</code>" in page and "<code>form.upload</code>" in page
    assert "<code>submission.conflict</code>" in page
    only = manager.get("/orgs/hillnet/audit?action=attachment.").get_data(as_text=True)
    assert "<code>form.upload</code>" not in only
    everything = client_as(app, web, "admin").get("/admin/audit").get_data(as_text=True)
    assert "viewer@river.example" in everything


@pytest.mark.parametrize("role", ["viewer", "collector"])
def test_the_navigation_offers_only_what_the_role_may_do(app, web, role):
    page = client_as(app, web, role).get("/orgs/hillnet/phones").get_data(as_text=True)
    nav = re.search(r'<nav class="org-nav".*?</nav>', page, re.S).group(0)
    assert "/members" not in nav and "/audit" not in nav and "/conflicts" not in nav
    assert ("/exports" in nav) == (role == "viewer")
