"""Encryption turned on by the server: a key pair sealed by a passphrase and a new version carrying
the public key, from the command line and the form page; phones then send what only the passphrase opens."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from formserver import accounts, appusers, encryption, forms, xform
from formserver.form_keys import turn_on_encryption
from formserver.models import AuditEvent, Form, Submission, SubmissionAttachment
from formserver.problems import Problem

from .collect_client import CollectClient, FlaskTransport, as_xform, instance_xml
from .encrypted_collect import encrypt_like_collect
from .web_fixtures import CSRF, sign_in, web  # noqa: F401
from .xlsforms import xlsform

PASSPHRASE = "ดอยอินทนนท์ ฤดูฝน 2569"
PHOTO = b"\x89PNG" + bytes(range(256)) * 8
SURVEY = [
    {"type": "text", "name": "head_name", "label": "Head of household"},
    {"type": "image", "name": "photo", "label": "Photo", "media::image": "help.png"},
]


def household_xlsform(version: str = "1") -> bytes:
    return xlsform(SURVEY, settings={"form_id": "household", "version": version, "form_title": "Household"})


@pytest.fixture
def organisation(session, blobs):
    org = accounts.create_organisation(session, "hillnet", "เครือข่ายบนดอย")
    forms.add_form_version(session, blobs, org, household_xlsform(), "household.xlsx", media=[("help.png", PHOTO)])
    session.commit()
    return org


def household(session, organisation) -> Form:
    session.expire_all()
    return forms.form_by_id(session, organisation, "household")


def test_turning_encryption_on_publishes_a_version_with_the_key_and_seals_the_private_key(session, organisation):
    form = household(session, organisation)
    version = turn_on_encryption(session, form, PASSPHRASE, hint="ซองสีน้ำตาล")
    session.commit()
    form = household(session, organisation)
    served = forms.served_version(session, form)
    assert served.id == version.id and re.fullmatch(r"\d{14}", served.version)
    assert xform.summarise(served.xform).version == served.version
    assert xform.public_key(served.xform) == served.public_key
    assert [m.filename for m in served.media] == ["help.png"] and served.missing_media == []
    assert served.field_tree == form.versions[0].field_tree
    private_key = encryption.open_private_key(form.sealed_private_key, PASSPHRASE)
    assert encryption.public_key_for_form(private_key) == served.public_key
    assert form.key_hint == "ซองสีน้ำตาล"
    with pytest.raises(encryption.WrongPassphrase):
        encryption.open_private_key(form.sealed_private_key, PASSPHRASE + "x")
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "form.encrypt")).all()
    assert event.target == f"household@{served.version}"
    assert PASSPHRASE not in repr(event.details) and PASSPHRASE.encode() not in form.sealed_private_key


def test_a_weak_passphrase_or_a_second_turning_on_is_refused(session, organisation):
    form = household(session, organisation)
    with pytest.raises(Problem) as weak:
        turn_on_encryption(session, form, "short")
    assert weak.value.code == "form.weak_passphrase"
    session.rollback()
    turn_on_encryption(session, household(session, organisation), PASSPHRASE)
    session.commit()
    with pytest.raises(Problem) as again:
        turn_on_encryption(session, household(session, organisation), PASSPHRASE)
    assert again.value.code == "form.already_encrypted"


def test_a_later_upload_without_a_key_keeps_the_servers_key(session, blobs, organisation):
    key = turn_on_encryption(session, household(session, organisation), PASSPHRASE).public_key
    session.commit()
    upload = forms.add_form_version(session, blobs, organisation, household_xlsform("2"), "household.xlsx")
    assert upload.version.public_key == key and xform.public_key(upload.version.xform) == key
    assert upload.version.version == "2"


def test_phones_get_the_key_and_what_they_send_opens_with_the_passphrase(client, session, organisation):
    turn_on_encryption(session, household(session, organisation), PASSPHRASE)
    token = appusers.create_app_user(session, organisation, "phone").token
    session.commit()
    phone = CollectClient(f"http://formserver.test/key/{token}/o/hillnet", FlaskTransport(client, before=session.commit))
    served = phone.get(phone.server_url + "/forms/household.xml")
    key, version = xform.public_key(served.body), xform.summarise(served.body).version
    xml = instance_xml("household", version, "uuid:h1", "<head_name>นางแสง</head_name><photo>p.png</photo>")
    upload = encrypt_like_collect(xml, [("p.png", PHOTO)], key)
    assert phone.send_instance(upload.envelope, upload.files).ok
    session.expire_all()
    submission = session.scalar(select(Submission).where(Submission.instance_id == "uuid:h1"))
    parts = {a.name: a for a in session.scalars(select(SubmissionAttachment))}
    envelope = encryption.read_envelope(encryption_root(submission.xml))
    private_key = encryption.open_private_key(household(session, organisation).sealed_private_key, PASSPHRASE)
    blobs = phone_blobs(client)
    opened = encryption.decrypt_submission(envelope, private_key, lambda name: blobs.path(parts[name].sha256).read_bytes())
    assert opened.xml == xml and opened.media == {"p.png": PHOTO}


def encryption_root(xml: bytes):
    from formserver.xml import parse

    return parse(xml)


def phone_blobs(client):
    return client.application.extensions["formserver.blobs"]


def test_the_command_line_turns_encryption_on_and_lists_the_form_as_encrypted(run, tmp_path, session):
    passphrase_file = tmp_path / "passphrase.txt"
    passphrase_file.write_text(PASSPHRASE + "\n", encoding="utf-8")
    (tmp_path / "household.xlsx").write_bytes(household_xlsform())
    (tmp_path / "help.png").write_bytes(PHOTO)
    assert run("org", "create", "hillnet", "--name", "เครือข่ายบนดอย")[0] == 0
    assert run("form", "add", "hillnet", str(tmp_path / "household.xlsx"), "--media", str(tmp_path / "help.png"))[0] == 0
    code, out, err = run("form", "encrypt", "hillnet", "household", "--passphrase-file", str(passphrase_file), "--hint", "safe")
    assert code == 0, err
    assert "encrypted" in out and PASSPHRASE not in out + err
    form = session.scalar(select(Form).where(Form.form_id == "household"))
    assert encryption.open_private_key(form.sealed_private_key, PASSPHRASE) is not None and form.key_hint == "safe"
    session.commit()  # the command is another connection: SQLite's lock must be free
    code, out, _ = run("form", "list", "hillnet")
    assert out.strip().split("\t")[-1] == "encrypted"


# --------------------------------------------------------------------------- the form page


@pytest.fixture
def manager(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["manager"])
    client.post("/language", data={"csrf_token": CSRF, "lang": "en"})
    return client


def encrypt_on_the_web(client, passphrase=PASSPHRASE, again=PASSPHRASE, hint="ซองสีน้ำตาล"):
    data = {"csrf_token": CSRF, "passphrase": passphrase, "passphrase_again": again, "hint": hint}
    return client.post("/orgs/hillnet/forms/intake/encryption", data=data)


def test_a_manager_turns_encryption_on_from_the_form_page(app, manager):
    page = manager.get("/orgs/hillnet/forms/intake").get_data(as_text=True)
    assert "Turn encryption on" in page
    response = encrypt_on_the_web(manager)
    assert response.status_code == 302
    page = manager.get("/orgs/hillnet/forms/intake").get_data(as_text=True)
    assert "encrypted" in page and "ซองสีน้ำตาล" in page and "Turn encryption on" not in page
    assert "encrypted" in manager.get("/orgs/hillnet").get_data(as_text=True)
    with app.extensions["formserver.db"].session_scope() as session:
        form = forms.form_by_id(session, accounts.organisation_by_slug(session, "hillnet"), "intake")
        assert encryption.open_private_key(form.sealed_private_key, PASSPHRASE) is not None
        assert forms.served_version(session, form).is_encrypted
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "form.encrypt"))
        assert event is not None and PASSPHRASE not in repr(event.details)


def test_the_page_refuses_two_different_passphrases_a_weak_one_and_a_missing_csrf_token(app, manager, web):
    assert encrypt_on_the_web(manager, again=PASSPHRASE + "!").status_code == 400
    assert encrypt_on_the_web(manager, passphrase="short", again="short").status_code == 400
    no_token = manager.post("/orgs/hillnet/forms/intake/encryption", data={"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE})
    assert no_token.status_code in (400, 403)
    viewer = app.test_client()
    sign_in(viewer, app, web.users["viewer"])
    assert encrypt_on_the_web(viewer).status_code in (403, 404)
    with app.extensions["formserver.db"].session_scope() as session:
        assert session.scalars(select(Form.sealed_private_key).where(Form.form_id == "intake")).all() == [None, None]


def test_the_page_is_in_thai(manager):
    manager.post("/language", data={"csrf_token": CSRF, "lang": "th"})
    page = manager.get("/orgs/hillnet/forms/intake").get_data(as_text=True)
    assert "เปิดการเข้ารหัส" in page
    encrypt_on_the_web(manager)
    assert "เข้ารหัสแล้ว" in manager.get("/orgs/hillnet/forms/intake").get_data(as_text=True)
