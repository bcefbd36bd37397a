"""Signing in and out, slowed-down guessing, idle sessions, CSRF, cookies, headers and the language switch."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import func, select

from formserver import accounts
from formserver.models import AuditEvent, ReviewState, Submission, User, WebSession, utcnow
from formserver.problems import Problem
from formserver.web import auth

from .web_fixtures import CSRF, PASSWORD, make_user, sign_in, web  # noqa: F401

CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'"


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in_with_form(client, email: str, password: str, **options):
    page = client.get("/login", **options).get_data(as_text=True)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_of(page)}, **options)


def db(app):
    return app.extensions["formserver.db"]


def test_signing_in_with_the_form_opens_the_organisation(app, web):
    client = app.test_client()
    response = sign_in_with_form(client, "MANAGER@hill.example ", PASSWORD)
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").location == "/orgs/hillnet"  # one organisation: straight to it
    page = client.get("/orgs/hillnet").get_data(as_text=True)
    assert "แบบสำรวจครัวเรือน" in page and "manager@hill.example" in page
    with db(app).session_scope() as session:
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "user.sign_in")) == "user.sign_in"


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_https(app, web):
    cookie = sign_in_with_form(app.test_client(), "manager@hill.example", PASSWORD).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = sign_in_with_form(app.test_client(), "manager@hill.example", PASSWORD, base_url="https://formserver.test")
    assert "Secure" in secure.headers["Set-Cookie"]


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(app, web):
    wrong = sign_in_with_form(app.test_client(), "manager@hill.example", "not the password")
    unknown = sign_in_with_form(app.test_client(), "nobody@hill.example", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "อีเมลหรือรหัสผ่านไม่ถูกต้อง" in wrong.get_data(as_text=True)
    assert "อีเมลหรือรหัสผ่านไม่ถูกต้อง" in unknown.get_data(as_text=True)


def test_repeated_failures_slow_sign_in_down_even_with_the_right_password(app, web):
    client = app.test_client()
    for _ in range(5):
        assert sign_in_with_form(client, "viewer@hill.example", "guess").status_code == 401
    refused = sign_in_with_form(client, "viewer@hill.example", PASSWORD)
    assert refused.status_code == 429
    assert "โปรดรอ 1 นาที" in refused.get_data(as_text=True)
    with db(app).session_scope() as session:
        user = session.scalar(select(User).where(User.email == "viewer@hill.example"))
        assert user.failed_sign_ins == 5
        user.last_failed_sign_in_at = utcnow() - timedelta(seconds=31)  # the first delay has passed
    assert sign_in_with_form(client, "viewer@hill.example", PASSWORD).status_code == 302
    with db(app).session_scope() as session:
        assert session.scalar(select(User.failed_sign_ins).where(User.email == "viewer@hill.example")) == 0


def test_the_delay_doubles_and_stops_at_an_hour(session):
    assert accounts.sign_in_delay(4) == timedelta(0)
    assert [accounts.sign_in_delay(n).total_seconds() for n in (5, 6, 7)] == [30, 60, 120]
    assert accounts.sign_in_delay(40) == timedelta(hours=1)
    user = make_user(session, "slow@example.org")
    user.failed_sign_ins, user.last_failed_sign_in_at = 7, utcnow()
    try:
        auth.check_sign_in(session, "slow@example.org", PASSWORD)
    except Problem as problem:
        assert problem.code == "signin.throttled" and problem.values["minutes"] == 2
    else:
        raise AssertionError("not slowed down")


def test_signing_out_ends_the_session(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    assert client.post("/logout", data={"csrf_token": CSRF}).location == "/login"
    assert client.get("/orgs/hillnet").status_code == 302


def test_signing_out_ends_every_copy_of_the_session_cookie(app, web):
    """A cookie copied before signing out (a shared office computer, a stolen browser profile) signs no one in."""
    client = app.test_client()
    sign_in_with_form(client, "manager@hill.example", PASSWORD)
    assert client.get("/orgs/hillnet").status_code == 200
    copied = client.get_cookie("session").value
    csrf = csrf_of(client.get("/orgs/hillnet/members").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": csrf}).location == "/login"
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/orgs/hillnet").status_code == 302
    with db(app).session_scope() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_a_session_lasts_a_day_however_active(app, web):
    client = app.test_client()
    sign_in_with_form(client, "manager@hill.example", PASSWORD)
    with db(app).session_scope() as session:
        session.scalar(select(WebSession)).created_at = utcnow() - auth.SESSION_LIFETIME - timedelta(seconds=1)
    assert client.get("/orgs/hillnet").status_code == 302


def test_a_session_ends_after_the_idle_time(app, settings, web):
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - settings.session_idle_minutes * 60 - 5
    response = client.get("/orgs/hillnet/members")
    assert response.status_code == 302 and response.location.startswith("/login?next=/orgs/hillnet/members")
    assert "หมดเวลาใช้งาน" in client.get(response.location).get_data(as_text=True)
    assert client.get("/orgs/hillnet").status_code == 302  # still signed out


def test_activity_keeps_the_session_open(app, settings, web):
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - settings.session_idle_minutes * 60 + 30
    assert client.get("/orgs/hillnet").status_code == 200
    with client.session_transaction() as session:
        assert session["seen"] >= int(time.time()) - 2


def test_changes_without_the_csrf_token_are_refused(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    url = f"/orgs/hillnet/submissions/{web.own.submission}/review"
    for data in ({"state": "approved"}, {"state": "approved", "csrf_token": "forged"}):
        response = client.post(url, data=data)
        assert response.status_code == 400
        assert "หมดอายุหรือมาจากเว็บไซต์อื่น" in response.get_data(as_text=True)
    with db(app).session_scope() as session:
        assert session.get(Submission, web.own.submission).review_state == ReviewState.received.value
    assert client.post(url, data={"state": "approved"}, headers={"X-CSRF-Token": CSRF}).status_code == 302
    with db(app).session_scope() as session:
        assert session.get(Submission, web.own.submission).review_state == "approved"


def test_signing_in_needs_the_token_too(app, web):
    response = app.test_client().post("/login", data={"email": "manager@hill.example", "password": PASSWORD})
    assert response.status_code == 400


def test_the_phones_endpoints_need_no_csrf_token(app, web):
    response = app.test_client().post("/o/hillnet/submission", data={})
    assert response.status_code == 401  # a Digest challenge, not the web's CSRF refusal
    assert "WWW-Authenticate" in response.headers


def test_pages_carry_the_security_headers(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    for url in ("/", "/login", "/orgs/hillnet", "/orgs/hillnet/unknown-page"):
        response = client.get(url)
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith(CSP)
    page = client.get("/orgs/hillnet").get_data(as_text=True)
    assert "<script>" not in page and "style=" not in page and "<style" not in page
    assert client.get("/orgs/hillnet").headers["Cache-Control"] == "no-store, private"


def test_the_language_switch_is_remembered(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    thai = client.get("/orgs/hillnet/members").get_data(as_text=True)
    assert "เพิ่มสมาชิก" in thai and '<html lang="th">' in thai
    response = client.post("/language", data={"lang": "en", "next": "/orgs/hillnet/members", "csrf_token": CSRF})
    assert response.location == "/orgs/hillnet/members"
    assert "lang=en" in response.headers["Set-Cookie"] and "Max-Age=31536000" in response.headers["Set-Cookie"]
    english = client.get("/orgs/hillnet/members").get_data(as_text=True)
    assert "Add a member" in english and '<html lang="en">' in english
    assert "Add a member" in client.get("/orgs/hillnet/members").get_data(as_text=True)


def test_the_language_switch_goes_back_only_within_this_site(app):
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        session["csrf_token"] = CSRF
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert client.post("/language", data={"lang": "th", "next": target, "csrf_token": CSRF}).location == "/"


def test_a_browser_that_prefers_english_gets_english_until_it_chooses(app):
    page = app.test_client().get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "E-mail address" in page
    assert "อีเมล" in app.test_client().get("/login").get_data(as_text=True)  # Thai first


def test_changing_the_password_ends_the_other_sessions(app, settings, web):
    first, second = app.test_client(), app.test_client()
    sign_in(first, app, web.users["viewer"])
    sign_in(second, app, web.users["viewer"])
    page = first.post("/account/password", data={"current": "wrong", "new": "x" * 12, "again": "x" * 12, "csrf_token": CSRF})
    assert page.status_code == 400
    page = first.post("/account/password", data={"current": PASSWORD, "new": "short", "again": "short", "csrf_token": CSRF})
    assert page.status_code == 400 and "10" in page.get_data(as_text=True)
    response = first.post(
        "/account/password", data={"current": PASSWORD, "new": "a new long password", "again": "a new long password", "csrf_token": CSRF}
    )
    assert response.status_code == 302
    assert first.get("/orgs/hillnet").status_code == 200  # this session continues
    assert second.get("/orgs/hillnet").status_code == 302  # the other one ended
    with db(app).session_scope() as session:
        user = session.get(User, web.users["viewer"])
        from formserver.accounts import digest_ha1, password_matches

        assert password_matches(user, "a new long password")
        assert user.digest_ha1 == digest_ha1(user.email, settings.digest_realm, "a new long password")


def test_someone_in_two_organisations_chooses_between_them(app, web):
    from formserver.accounts import add_member, organisation_by_slug

    with db(app).session_scope() as session:
        add_member(session, organisation_by_slug(session, "rivernet"), session.get(User, web.users["viewer"]), "viewer")
    client = app.test_client()
    sign_in(client, app, web.users["viewer"])
    page = client.get("/").get_data(as_text=True)
    assert 'href="/orgs/hillnet"' in page and 'href="/orgs/rivernet"' in page
    assert client.get("/orgs/rivernet/forms/intake/submissions").status_code == 200
