"""The REST API's sign-in, tokens, Basic over https only, throttling apart from the web, projects and forms."""

from __future__ import annotations

from datetime import timedelta

from formserver.api.auth import TOKEN_LIFETIME, session_of_token
from formserver.models import ApiSession, AuditEvent, User, utcnow
from formserver.web.auth import check_sign_in
from sqlalchemy import select

from .api_fixtures import api, basic, bearer  # noqa: F401
from .web_fixtures import PASSWORD, web  # noqa: F401


def test_a_session_gives_a_token_that_opens_the_api_and_is_stored_hashed(client, web, app):
    answer = client.post("/v1/sessions", json={"email": "manager@hill.example", "password": PASSWORD})
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body) == {"token", "createdAt", "expiresAt"} and body["expiresAt"].endswith("Z")
    me = client.get("/v1/users/current", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.get_json()["email"] == "manager@hill.example"
    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        stored = session.scalars(select(ApiSession.token_sha256)).all()
        assert body["token"] not in stored and len(stored) == 1
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.sign_in")).details == {"source": "api"}
    assert client.delete(f"/v1/sessions/{body['token']}", headers=bearer(body["token"])).get_json() == {"success": True}
    gone = client.get("/v1/users/current", headers=bearer(body["token"]))
    assert gone.status_code == 401 and gone.get_json()["code"] == 401.2


def test_wrong_missing_and_expired_credentials_are_401_in_centrals_shape(client, web, app):
    wrong = client.post("/v1/sessions", json={"email": "manager@hill.example", "password": "nope"})
    assert wrong.status_code == 401 and wrong.get_json()["code"] == 401.2
    assert client.post("/v1/sessions", json={"email": "x"}).get_json()["code"] == 400.2
    assert client.get("/v1/projects").get_json() == {"code": 401.2, "message": client.get("/v1/projects").get_json()["message"]}
    assert client.get("/v1/projects", headers=bearer("made-up")).status_code == 401
    token = client.post("/v1/sessions", json={"email": "viewer@hill.example", "password": PASSWORD}).get_json()["token"]
    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        assert session_of_token(session, token, now=utcnow() + TOKEN_LIFETIME + timedelta(seconds=1)) is None
        row = session.scalar(select(ApiSession))
        row.expires_at = utcnow() - timedelta(seconds=1)
    expired = client.get("/v1/projects", headers=bearer(token))
    assert expired.status_code == 401 and expired.get_json()["code"] == 401.2


def test_a_password_change_ends_the_tokens(client, web, app):
    token = client.post("/v1/sessions", json={"email": "viewer@hill.example", "password": PASSWORD}).get_json()["token"]
    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        session.get(User, web.users["viewer"]).password_hash = "pbkdf2:sha256:1000$other$hash"
    assert client.get("/v1/projects", headers=bearer(token)).status_code == 401


def test_basic_is_refused_over_http_and_accepted_behind_a_tls_proxy(client, web, app):
    refused = client.get("/v1/projects", headers=basic("manager@hill.example"))
    assert refused.status_code == 401 and refused.get_json()["code"] == 401.3
    secure = client.get("/v1/projects", headers=basic("manager@hill.example"), base_url="https://formserver.test")
    assert secure.status_code == 200 and [p["name"] for p in secure.get_json()] == ["เครือข่ายบนดอย"]


def test_wrong_api_passwords_are_throttled_without_locking_the_web(client, web, app):
    https = {"base_url": "https://formserver.test"}
    for _ in range(5):
        assert client.get("/v1/projects", headers=basic("viewer@hill.example", "stale"), **https).status_code == 401
    slowed = client.get("/v1/projects", headers=basic("viewer@hill.example"), **https)
    assert slowed.status_code == 429 and slowed.get_json()["code"] == 429.1 and slowed.headers["Retry-After"]
    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        assert session.get(User, web.users["viewer"]).failed_sign_ins == 0
        assert check_sign_in(session, "viewer@hill.example", PASSWORD).id == web.users["viewer"]  # the web still opens


def test_projects_are_the_callers_organisations(api):
    client, web, tokens = api
    assert [p["id"] for p in client.get("/v1/projects", headers=tokens["viewer"]).get_json()] == [web.own.org_id]
    assert {p["id"] for p in client.get("/v1/projects", headers=tokens["admin"]).get_json()} == {web.own.org_id, web.other.org_id}
    one = client.get(f"/v1/projects/{web.own.org_id}", headers=tokens["collector"])
    assert one.status_code == 200 and one.get_json()["name"] == "เครือข่ายบนดอย"
    hidden = client.get(f"/v1/projects/{web.other.org_id}", headers=tokens["manager"])
    assert hidden.status_code == 404 and hidden.get_json()["code"] == 404.1
    assert client.get("/v1/nothing/here", headers=tokens["manager"]).get_json()["code"] == 404.1


def test_forms_their_xform_versions_media_and_fields(api):
    client, web, tokens = api
    base = f"/v1/projects/{web.own.org_id}/forms"
    listed = client.get(base, headers=tokens["viewer"]).get_json()
    assert [(f["xmlFormId"], f["version"], f["state"], f["name"]) for f in listed] == [("intake", "1", "open", "แบบสำรวจครัวเรือน")]
    one = client.get(f"{base}/intake", headers=tokens["viewer"]).get_json()
    assert one["projectId"] == web.own.org_id and len(one["hash"]) == 32 and one["publishedAt"].endswith("Z")
    xml = client.get(f"{base}/intake.xml", headers=tokens["viewer"])
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b"<h:title>" in xml.data
    assert [v["version"] for v in client.get(f"{base}/intake/versions", headers=tokens["viewer"]).get_json()] == ["1"]
    assert client.get(f"{base}/intake/attachments", headers=tokens["viewer"]).get_json() == []
    fields = client.get(f"{base}/intake/fields?odata=false", headers=tokens["viewer"]).get_json()
    by_path = {f["path"]: f for f in fields}
    assert by_path["/household"]["type"] == "structure" and by_path["/member"]["type"] == "repeat"
    assert by_path["/household/members"]["type"] == "int" and by_path["/household/photo"]["binary"] is True
    assert by_path["/consent"]["type"] == "string" and by_path["/meta/instanceID"]["name"] == "instanceID"
    assert client.get(f"{base}/missing", headers=tokens["viewer"]).status_code == 404


def test_who_may_read_forms(api):
    client, web, tokens = api
    own, other = f"/v1/projects/{web.own.org_id}/forms", f"/v1/projects/{web.other.org_id}/forms"
    assert client.get(own, headers=tokens["admin"]).status_code == 200
    assert client.get(other, headers=tokens["admin"]).status_code == 200
    assert client.get(own, headers=tokens["manager"]).status_code == 200
    refused = client.get(own, headers=tokens["collector"])
    assert refused.status_code == 403 and refused.get_json()["code"] == 403.1
    assert client.get(other, headers=tokens["manager"]).status_code == 404
    assert client.get(own, headers=tokens["other manager"]).status_code == 404
    assert client.get(own).status_code == 401


def test_a_successful_basic_check_is_remembered_for_a_minute(client, web, app, monkeypatch):
    """Paging a feed with Basic pays for the password hash once a minute, not on every page."""
    from formserver.api import auth

    checks, clock = [], [1000.0]
    real_check = auth.check_password
    monkeypatch.setattr(auth, "_remembered", {})
    monkeypatch.setattr(auth, "check_password", lambda *a: checks.append(a[1]) or real_check(*a))
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    https = {"base_url": "https://formserver.test"}

    def projects(email="viewer@hill.example", password=PASSWORD):
        return client.get("/v1/projects", headers=basic(email, password), **https).status_code

    assert [projects() for _ in range(5)] == [200] * 5 and len(checks) == 1
    assert projects("manager@hill.example") == 200 and len(checks) == 2  # each person's own memory
    assert projects(password="not the password") == 401 and len(checks) == 3  # another password is checked
    assert projects() == 200 and len(checks) == 3
    clock[0] += auth.BASIC_MEMORY_SECONDS + 1
    assert projects() == 200 and len(checks) == 4  # a minute later: checked again
    with app.app_context(), app.extensions["formserver.db"].session_scope() as session:
        session.get(User, web.users["viewer"]).password_hash = "pbkdf2:sha256:1000$other$hash"
    assert projects() == 401 and len(checks) == 5  # a changed password is not remembered
