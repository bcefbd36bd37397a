"""Who may use a Collect server URL: Digest for people, token URLs for device accounts, each in its organisation."""

from __future__ import annotations

import dataclasses
import re
import time

import pytest
from sqlalchemy import func, select

from formserver import accounts, appusers, create_app, forms
from formserver.models import AuditEvent, FormAssignment, Submission
from formserver.openrosa import auth

from .collect_client import as_xform, CollectClient, FlaskTransport, instance_xml
from .xlsforms import simple_form

PASSWORD = "correct horse battery"
D = "deviceID=collect%3AAbCdEf0123456789"


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """scrypt takes 0.3 s a password; these tests are about Digest and Basic, not the web's hash."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(accounts, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1"))


@pytest.fixture
def world(session, blobs, settings):
    """Two organisations with a form each, a collector, a viewer and a manager of hillnet, a device account each."""
    hill = accounts.create_organisation(session, "hillnet", "Hill network")
    low = accounts.create_organisation(session, "lowland", "Lowland network")
    forms.add_form_version(session, blobs, hill, as_xform(simple_form(form_id="hill_form")), "hill.xml")
    forms.add_form_version(session, blobs, low, as_xform(simple_form(form_id="low_form")), "low.xml")
    people = {}
    for email, role in [("collector@hill.org", "collector"), ("viewer@hill.org", "viewer"), ("manager@hill.org", "manager")]:
        people[role] = accounts.create_user(session, email, PASSWORD, realm=settings.digest_realm)
        accounts.add_member(session, hill, people[role], role)
    tokens = {
        "hill": appusers.create_app_user(session, hill, "hill phone").token,
        "low": appusers.create_app_user(session, low, "low phone").token,
    }
    session.commit()
    global _END
    _END = session.commit
    return {"hill": hill, "low": low, "people": people, "tokens": tokens}


def person(client, slug: str, email: str, password: str = PASSWORD, scheme: str = "http") -> CollectClient:
    return CollectClient(f"{scheme}://formserver.test/o/{slug}", FlaskTransport(client, _END), username=email, password=password)


def device(client, token: str, slug: str) -> CollectClient:
    return CollectClient(f"http://formserver.test/key/{token}/o/{slug}", FlaskTransport(client, _END))


def _END():
    """Set by the ``world`` fixture: end the test session's transaction before each request."""


def form_ids(response) -> list[str]:
    ns = "{http://openrosa.org/xforms/xformsList}"
    return [x.findtext(f"{ns}formID") for x in response.xml().findall(f"{ns}xform")]


# --------------------------------------------------------------------------- Digest


def test_an_unauthenticated_request_gets_a_digest_challenge_and_an_openrosa_message(client, world):
    response = client.get(f"/o/hillnet/formList?{D}")
    assert response.status_code == 401
    [challenge] = response.headers.getlist("WWW-Authenticate")
    assert challenge.startswith('Digest realm="formserver", qop="auth", nonce="')
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert b"OpenRosaResponse" in response.data


def test_digest_sign_in_works_and_is_reused_preemptively(client, world):
    phone = person(client, "hillnet", "collector@hill.org")
    assert form_ids(phone.form_list()) == ["hill_form"]
    assert phone.form_list().status == 200
    assert phone.send_instance(instance_xml("hill_form", "1", "uuid:a1")).last.status == 201
    sent = [a for a in phone.sent_authorization if a]
    assert len(sent) == 4 and "nc=00000004" in sent[-1]
    assert phone.sent_authorization.count(None) == 1  # only the very first request went without


def test_the_digest_user_name_is_the_email_address_in_any_case_the_server_stored(client, world):
    # accounts.normalise_email stores lowercase; the HA1 was computed with it.
    assert person(client, "hillnet", "collector@hill.org").form_list().status == 200


def test_a_wrong_password_gets_401_again_never_403_or_200(client, world):
    phone = person(client, "hillnet", "collector@hill.org", "not the password")
    response = phone.form_list()
    assert response.status == 401 and "Digest" in response.header("WWW-Authenticate")
    assert person(client, "hillnet", "nobody@hill.org").form_list().status == 401


def test_a_stale_nonce_gets_stale_true_and_collect_recovers(client, world, settings, monkeypatch):
    phone = person(client, "hillnet", "collector@hill.org")
    assert phone.form_list().status == 200
    later = time.time() + auth.NONCE_LIFETIME + 10
    monkeypatch.setattr(auth.time, "time", lambda: later)
    response = client.get(
        f"/o/hillnet/formList?{D}", headers={"Authorization": phone._authorization("GET", f"http://formserver.test/o/hillnet/formList?{D}")}
    )
    assert response.status_code == 401
    assert "stale=true" in response.headers["WWW-Authenticate"]
    assert phone.form_list().status == 200  # answers the fresh nonce
    assert auth.nonce_state(settings.secret_key, auth.make_nonce(settings.secret_key)) == "valid"


def test_a_nonce_not_signed_with_our_key_or_a_digest_for_another_uri_is_refused(client, world, settings):
    url = f"http://formserver.test/o/hillnet/formList?{D}"
    phone = person(client, "hillnet", "collector@hill.org")
    phone._accept_challenge(url, phone.form_list())  # remember a real challenge
    cached = next(iter(phone._auth.values()))
    cached.params["nonce"] = auth.make_nonce("another server's key")
    assert client.get(url, headers={"Authorization": phone._authorization("GET", url)}).status_code == 401
    cached.params["nonce"] = auth.make_nonce(settings.secret_key)
    other = phone._authorization("GET", "http://formserver.test/o/hillnet/formList?deviceID=someone-else")
    assert client.get(url, headers={"Authorization": other}).status_code == 401


def test_the_digest_response_follows_rfc_2617(settings):
    # RFC 2617 §3.5's example, with the HA1 of Mufasa:testrealm@host.com:Circle Of Life.
    ha1 = accounts.digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life")
    assert auth.digest_response(
        ha1, method="GET", uri="/dir/index.html", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        nc="00000001", cnonce="0a4f113b", qop="auth", algorithm="MD5",
    ) == "6629fae49393a05397450978507c4ef1"


def test_basic_is_challenged_and_accepted_only_over_https(client, world):
    import base64

    basic = "Basic " + base64.b64encode(f"collector@hill.org:{PASSWORD}".encode()).decode()
    plain = client.get(f"/o/hillnet/formList?{D}", headers={"Authorization": basic})
    assert plain.status_code == 401
    assert not any(v.startswith("Basic") for v in plain.headers.getlist("WWW-Authenticate"))
    secure = client.get(f"/o/hillnet/formList?{D}", base_url="https://formserver.test")
    assert [v.split(" ")[0] for v in secure.headers.getlist("WWW-Authenticate")] == ["Digest", "Basic"]
    assert client.get(f"/o/hillnet/formList?{D}", base_url="https://formserver.test", headers={"Authorization": basic}).status_code == 200
    wrong = "Basic " + base64.b64encode(b"collector@hill.org:wrong password").decode()
    assert client.get(f"/o/hillnet/formList?{D}", base_url="https://formserver.test", headers={"Authorization": wrong}).status_code == 401


def test_digest_works_over_https_too(client, world):
    assert person(client, "hillnet", "collector@hill.org", scheme="https").form_list().status == 200


# --------------------------------------------------------------------------- roles and organisations


def test_collectors_and_managers_submit_viewers_may_list_but_not_submit(client, world, session):
    for role in ("collector", "manager"):
        phone = person(client, "hillnet", f"{role}@hill.org")
        assert phone.send_instance(instance_xml("hill_form", "1", f"uuid:{role}")).last.status == 201
    viewer = person(client, "hillnet", "viewer@hill.org")
    assert viewer.form_list().status == 200
    head = viewer.head(viewer.submission_url)
    assert head.status == 403
    refused = viewer.send_instance(instance_xml("hill_form", "1", "uuid:viewer")).last
    assert refused.status == 403 and "may not send submissions" in refused.message
    assert session.scalar(select(func.count()).select_from(Submission)) == 2


def test_a_user_of_one_organisation_cannot_use_another_organisations_url(client, world, session):
    phone = person(client, "lowland", "collector@hill.org")
    assert phone.form_list().status == 403
    refused = phone.send_instance(instance_xml("low_form", "1", "uuid:cross-user")).last
    assert refused.status == 403
    assert session.scalar(select(func.count()).select_from(Submission)) == 0


def test_an_unknown_organisation_is_404_after_sign_in(client, world):
    assert person(client, "nowhere", "collector@hill.org").form_list().status == 404


def test_a_token_of_one_organisation_cannot_list_or_submit_to_another(client, world, session):
    hill_token = world["tokens"]["hill"]
    crossing = device(client, hill_token, "lowland")
    assert crossing.form_list().status == 403
    assert crossing.send_instance(instance_xml("low_form", "1", "uuid:cross")).last.status == 403
    # Within its own URL, a form id of the other organisation is simply unknown.
    own = device(client, hill_token, "hillnet")
    assert form_ids(own.form_list()) == ["hill_form"]
    unknown = own.send_instance(instance_xml("low_form", "1", "uuid:cross2")).last
    assert unknown.status == 404
    assert own.get(f"http://formserver.test/key/{hill_token}/o/hillnet/forms/low_form.xml").status == 404
    assert session.scalar(select(func.count()).select_from(Submission)) == 0


def test_an_unknown_token_gets_401_without_inviting_a_password(client, world):
    response = client.get(f"/key/{'x' * 64}/o/hillnet/formList?{D}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert b"QR code" in response.data


def test_a_revoked_device_account_gets_401_from_the_next_request_on(client, world, session):
    phone = device(client, world["tokens"]["hill"], "hillnet")
    assert phone.form_list().status == 200
    appusers.revoke_app_user(session, world["hill"], "hill phone")
    session.commit()
    assert phone.form_list().status == 401
    assert phone.head(phone.submission_url).status == 401
    assert phone.send_instance(instance_xml("hill_form", "1", "uuid:revoked")).last.status == 401
    assert session.scalar(select(func.count()).where(AuditEvent.action == "app_user.revoke")) == 1


# --------------------------------------------------------------------------- assignments


def test_a_form_with_assignments_is_listed_to_and_accepts_only_the_assigned(client, world, session, blobs):
    hill = world["hill"]
    upload = forms.add_form_version(session, blobs, hill, as_xform(simple_form(form_id="secret_form")), "secret.xml")
    second = appusers.create_app_user(session, hill, "second phone")
    session.add(FormAssignment(form_id=upload.form.id, app_user_id=second.id))
    session.add(FormAssignment(form_id=upload.form.id, user_id=world["people"]["collector"].id))
    session.commit()
    unassigned = device(client, world["tokens"]["hill"], "hillnet")
    assigned = device(client, second.token, "hillnet")
    collector = person(client, "hillnet", "collector@hill.org")
    manager = person(client, "hillnet", "manager@hill.org")
    assert form_ids(unassigned.form_list()) == ["hill_form"]
    assert form_ids(assigned.form_list()) == ["hill_form", "secret_form"]
    assert form_ids(collector.form_list()) == ["hill_form", "secret_form"]
    assert form_ids(manager.form_list()) == ["hill_form"]
    refused = unassigned.send_instance(instance_xml("secret_form", "1", "uuid:s-un")).last
    assert refused.status == 403 and "not assigned" in refused.message
    assert unassigned.get(f"http://formserver.test/key/{world['tokens']['hill']}/o/hillnet/forms/secret_form.xml").status == 404
    assert assigned.send_instance(instance_xml("secret_form", "1", "uuid:s-as")).last.status == 201
    assert collector.send_instance(instance_xml("secret_form", "1", "uuid:s-co")).last.status == 201


# --------------------------------------------------------------------------- addresses behind a proxy


def test_forwarded_headers_are_honoured_only_behind_a_proxy(settings, world):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "forms.example.org"}
    token = world["tokens"]["hill"]
    for behind, expected in [(False, "http://localhost/key/"), (True, "https://forms.example.org/key/")]:
        app = create_app(dataclasses.replace(settings, behind_proxy=behind))
        response = app.test_client().get(f"/key/{token}/o/hillnet/formList?{D}", headers=headers)
        assert response.status_code == 200
        assert f"<downloadUrl>{expected}{token}/o/hillnet/forms/hill_form.xml</downloadUrl>".encode() in response.data
        app.extensions["formserver.db"].dispose()


def test_wrong_phone_passwords_in_a_row_slow_the_account_down_even_for_the_right_one(client, world, session):
    collector = world["people"]["collector"]
    for _ in range(accounts.FREE_FAILURES):
        assert person(client, "hillnet", "collector@hill.org", "a guess").form_list().status == 401
    session.refresh(collector)
    assert collector.failed_phone_sign_ins == accounts.FREE_FAILURES
    slowed = person(client, "hillnet", "collector@hill.org").form_list()  # the right password, too early
    assert slowed.status == 429
    assert "Too many failed sign-ins" in slowed.message and re.search("[\u0E00-\u0E7F]", slowed.message)
    session.refresh(collector)
    assert collector.failed_phone_sign_ins == accounts.FREE_FAILURES  # refused without being checked
    assert collector.failed_sign_ins == 0  # the web's count is apart: the person can still sign in there


def test_the_right_phone_password_forgets_the_wrong_ones_before_it(client, world, session):
    collector = world["people"]["collector"]
    for _ in range(accounts.FREE_FAILURES - 1):
        person(client, "hillnet", "collector@hill.org", "a guess").form_list()
    assert person(client, "hillnet", "collector@hill.org").form_list().status == 200
    session.refresh(collector)
    assert collector.failed_phone_sign_ins == 0 and collector.last_failed_phone_sign_in_at is None
    audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.sign_in_failed")).all()
    assert len(audited) == accounts.FREE_FAILURES - 1 and all(e.details.get("source") == "phone" for e in audited)


def test_wrong_basic_passwords_over_https_count_as_the_phones_do(client, world, session):
    import base64

    wrong = "Basic " + base64.b64encode(b"collector@hill.org:a guess").decode()
    for _ in range(accounts.FREE_FAILURES):
        answer = client.get(f"/o/hillnet/formList?{D}", base_url="https://formserver.test", headers={"Authorization": wrong})
        assert answer.status_code == 401
    right = "Basic " + base64.b64encode(f"collector@hill.org:{PASSWORD}".encode()).decode()
    assert client.get(f"/o/hillnet/formList?{D}", base_url="https://formserver.test", headers={"Authorization": right}).status_code == 429
