"""Device accounts, the QR set-up code, and the managers' commands for device accounts and kept-aside resubmissions."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from sqlalchemy import select

from formserver import accounts, appusers, forms, submissions
from formserver.models import AuditEvent
from formserver.problems import Problem

from .collect_client import as_xform, CollectClient, FlaskTransport, instance_xml
from .xlsforms import simple_form


@pytest.fixture
def organisation(session):
    org = accounts.create_organisation(session, "hillnet", "เครือข่ายบนดอย")
    session.commit()
    return org


# --------------------------------------------------------------------------- the API the web pages use


def test_a_device_account_gets_a_long_random_token_and_is_audited(session, organisation):
    app_user = appusers.create_app_user(session, organisation, "  Phone   of Som ")
    assert app_user.name == "Phone of Som"
    assert len(app_user.token) == 64 and app_user.token.replace("-", "").replace("_", "").isalnum()
    assert appusers.app_user_by_name(session, organisation, "Phone of Som") is app_user
    assert appusers.app_users_of(session, organisation) == [app_user]
    events = session.scalars(select(AuditEvent.action).where(AuditEvent.target == "Phone of Som")).all()
    assert events == ["app_user.create"]


def test_device_account_names_are_unique_per_organisation_and_not_empty(session, organisation):
    appusers.create_app_user(session, organisation, "phone")
    with pytest.raises(Problem) as clash:
        appusers.create_app_user(session, organisation, "phone")
    assert clash.value.code == "appuser.exists" and clash.value.status == 409
    with pytest.raises(Problem, match="1 to 200 characters"):
        appusers.create_app_user(session, organisation, "   ")
    other = accounts.create_organisation(session, "lowland", "Lowland")
    assert appusers.create_app_user(session, other, "phone").organisation_id == other.id
    with pytest.raises(Problem, match="no device account nobody"):
        appusers.app_user_by_name(session, organisation, "nobody")


def test_revoking_keeps_the_account_listed_and_creating_it_again_gives_a_new_token(session, organisation):
    first = appusers.create_app_user(session, organisation, "phone")
    old_token = first.token
    revoked = appusers.revoke_app_user(session, organisation, "phone")
    assert revoked.revoked_at is not None
    assert appusers.active_app_user_by_token(session, old_token) is None
    assert appusers.app_users_of(session, organisation) == [first]
    again = appusers.create_app_user(session, organisation, "phone")
    assert again.id == first.id and again.revoked_at is None and again.token != old_token
    assert appusers.active_app_user_by_token(session, again.token) is again


def test_the_collect_settings_are_those_of_a_central_qr_code(organisation):
    settings = appusers.collect_settings("http://10.0.2.2:5000/key/TOKEN/o/hillnet", "เครือข่ายบนดอย")
    assert settings == {
        "general": {
            "server_url": "http://10.0.2.2:5000/key/TOKEN/o/hillnet",
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
        },
        "admin": {},
        "project": {"name": "เครือข่ายบนดอย"},
    }
    payload = appusers.qr_payload(settings)
    assert json.loads(zlib.decompress(base64.b64decode(payload))) == settings  # what Collect does
    assert appusers.qr_png(payload).startswith(b"\x89PNG\r\n\x1a\n")


def test_the_qr_server_url_lists_the_organisations_forms_without_a_password(client, session, blobs, organisation, settings):
    forms.add_form_version(session, blobs, organisation, as_xform(simple_form()), "simple.xml")
    app_user = appusers.create_app_user(session, organisation, "phone")
    session.commit()
    payload = appusers.qr_payload(
        appusers.collect_settings(appusers.token_url(settings.public_url, organisation, app_user), organisation.name)
    )
    server_url = appusers.read_qr_payload(payload)["general"]["server_url"]
    response = CollectClient(server_url, FlaskTransport(client, session.commit)).form_list()
    assert response.status == 200 and b"<formID>simple</formID>" in response.body


# --------------------------------------------------------------------------- the command line



def test_appuser_create_prints_its_token_url_last_and_qr_writes_it_again_unchanged(run, organisation, tmp_path, settings, client, session):
    code, out, _ = run("appuser", "create", "hillnet", "Som's phone")
    assert code == 0
    url = out.strip().splitlines()[-1]
    assert url.startswith("http://formserver.test/key/") and url.endswith("/o/hillnet")
    png = tmp_path / "som.png"
    code, out, _ = run("appuser", "qr", "hillnet", "Som's phone", "-o", str(png))
    assert code == 0 and png.read_bytes().startswith(b"\x89PNG")
    token = url.split("/key/")[1].split("/")[0]
    session.expire_all()
    assert appusers.app_user_by_name(session, organisation, "Som's phone").token == token
    session.commit()  # on SQLite every transaction holds the write lock the next command needs
    code, out, _ = run("appuser", "list", "hillnet")
    assert code == 0 and out.startswith("Som's phone\tactive\t") and token not in out


def test_appuser_revoke_makes_its_url_answer_401(run, organisation, client, session):
    _, out, _ = run("appuser", "create", "hillnet", "lost phone")
    url = out.strip().splitlines()[-1]
    phone = CollectClient(url, FlaskTransport(client, session.commit))
    assert phone.form_list().status == 200
    code, out, _ = run("appuser", "revoke", "hillnet", "lost phone")
    assert code == 0 and "revoked" in out
    assert phone.form_list().status == 401
    code, out, _ = run("appuser", "list", "hillnet")
    assert "lost phone\trevoked " in out
    code, _, err = run("appuser", "qr", "hillnet", "lost phone", "-o", "/tmp/never.png")
    assert code == 1 and "revoked" in err
    code, _, err = run("appuser", "revoke", "hillnet", "no such phone")
    assert code == 1 and err.count("\n") == 1


def test_submission_conflicts_lists_kept_aside_resubmissions_and_conflict_shows_the_difference(run, client, session, blobs, organisation):
    forms.add_form_version(session, blobs, organisation, as_xform(simple_form()), "simple.xml")
    token = appusers.create_app_user(session, organisation, "phone").token
    session.commit()
    phone = CollectClient(f"http://formserver.test/key/{token}/o/hillnet", FlaskTransport(client, session.commit))
    assert phone.send_instance(instance_xml("simple", "1", "uuid:c", "<name>สมชาย</name><age>41</age>")).last.status == 201
    assert phone.send_instance(instance_xml("simple", "1", "uuid:c", "<name>สมชาย</name><age>14</age>")).last.status == 409
    code, out, _ = run("submission", "conflicts", "hillnet")
    assert code == 0
    [line] = out.strip().splitlines()
    conflict_id, form_id, instance_id, _when, who, device, state = line.split("\t")
    assert (form_id, instance_id, who, device, state) == ("simple", "uuid:c", "device account phone", "collect:AbCdEf0123456789", "unresolved")
    code, out, _ = run("submission", "conflict", "hillnet", conflict_id)
    assert code == 0
    assert "-  <age>41</age>" in out and "+  <age>14</age>" in out and "<name>สมชาย</name>" not in out.split("@@")[0]
    code, out, _ = run("submission", "resolve", "hillnet", conflict_id, "take_new")
    assert code == 0 and "take_new" in out
    assert run("submission", "conflicts", "hillnet")[1] == ""
    code, _, err = run("submission", "conflict", "hillnet", "999")
    assert code == 1 and "no kept-aside submission 999" in err
    session.expire_all()
    assert submissions.conflicts_of(session, organisation, unresolved_only=False)[0].resolution == "take_new"


def _listed(phone: CollectClient) -> list[str]:
    ns = "{http://openrosa.org/xforms/xformsList}"
    return sorted(xform.findtext(f"{ns}formID") for xform in phone.form_list().xml().findall(f"{ns}xform"))


def test_form_assign_restricts_a_form_to_the_assigned_accounts_and_unassign_opens_it_again(run, client, session, blobs, organisation):
    forms.add_form_version(session, blobs, organisation, as_xform(simple_form(form_id="visit")), "visit.xml")
    first = appusers.create_app_user(session, organisation, "first phone").token
    appusers.create_app_user(session, organisation, "second phone")
    collector = accounts.create_user(session, "collector@hill.org", "a long password", realm="formserver")
    accounts.add_member(session, organisation, collector, "collector")
    outsider = accounts.create_user(session, "outsider@river.org", "a long password", realm="formserver")
    session.commit()
    phone = CollectClient(f"http://formserver.test/key/{first}/o/hillnet", FlaskTransport(client, session.commit))
    assert _listed(phone) == ["visit"]

    code, out, _ = run("form", "assign", "hillnet", "visit", "--app-user", "second phone")
    assert code == 0 and out.strip() == "visit assigned to: device second phone"
    assert run("form", "assign", "hillnet", "visit", "--user", "collector@hill.org")[0] == 0
    assert run("form", "assign", "hillnet", "visit", "--user", "collector@hill.org")[0] == 0  # twice: no change
    assert run("form", "assignments", "hillnet", "visit")[1].splitlines() == ["collector@hill.org", "device second phone"]
    assert _listed(phone) == []
    refused = phone.send_instance(instance_xml("visit", "1", "uuid:unassigned")).last
    assert refused.status == 403 and "not assigned" in refused.message

    code, _, err = run("form", "assign", "hillnet", "visit", "--user", outsider.email)
    assert code == 1 and "not a member of organisation hillnet" in err
    code, _, err = run("form", "unassign", "hillnet", "visit", "--app-user", "first phone")
    assert code == 1 and "not assigned to device first phone" in err

    assert run("form", "unassign", "hillnet", "visit", "--app-user", "second phone")[0] == 0
    code, out, _ = run("form", "unassign", "hillnet", "visit", "--user", "collector@hill.org")
    assert code == 0 and "open to every account of hillnet" in out
    assert _listed(phone) == ["visit"]
    session.expire_all()
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("form.%assign"))).all()
    assert sorted(actions) == ["form.assign", "form.assign", "form.unassign", "form.unassign"]
