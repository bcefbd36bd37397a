"""Encrypted forms at upload and ingest: a version's key, and envelopes received exactly as Collect sends them.

Submissions are made by ``tests/encrypted_collect.py`` (Collect's encryption, written apart
from formserver's) and posted through the real OpenRosa endpoint by the Collect-like client.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime

import pytest
from sqlalchemy import select, update

from formserver import accounts, appusers, encryption, forms, migrate
from formserver.models import Submission, SubmissionAttachment
from formserver.problems import Problem

from .collect_client import CollectClient, FlaskTransport, as_xform, instance_xml, multipart_body
from .encrypted_collect import encrypt_like_collect
from .xlsforms import xlsform

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 50 + b"\xff\xd9"
SURVEY = [
    {"type": "text", "name": "head_name", "label": "Head of household"},
    {"type": "image", "name": "photo", "label": "Photo"},
]


def household_form(public_key: str | None, version: str = "1") -> bytes:
    settings = {"form_id": "household", "version": version, "form_title": "ครัวเรือน"}
    if public_key is not None:
        settings["public_key"] = public_key
    return as_xform(xlsform(SURVEY, settings=settings))


@pytest.fixture(scope="module")
def keys():
    return encryption.make_key_pair()


@pytest.fixture
def organisation(session, blobs, keys):
    org = accounts.create_organisation(session, "hillnet", "เครือข่ายบนดอย")
    forms.add_form_version(session, blobs, org, household_form(keys.public_key), "household.xml")
    session.commit()
    return org


@pytest.fixture
def phone(client, session, organisation) -> CollectClient:
    token = appusers.create_app_user(session, organisation, "phone 1").token
    session.commit()
    return CollectClient(f"http://formserver.test/key/{token}/o/hillnet", FlaskTransport(client, before=session.commit))


def encrypted(keys, instance_id: str = "uuid:one", name: str = "สมชาย ใจดี", photo: bytes = PHOTO):
    xml = instance_xml("household", "1", instance_id, f"<head_name>{name}</head_name><photo>1.jpg</photo>")
    return encrypt_like_collect(xml, [("1.jpg", photo)], keys.public_key, form_title="ครัวเรือน", saved_at=datetime(2026, 12, 5, 9, 30))


def post(phone: CollectClient, xml_name: str, envelope: bytes, files, *, incomplete: bool = False):
    parts = [("xml_submission_file", xml_name, "text/xml", envelope)]
    parts += [(name, name, "application/octet-stream", content) for name, content in files]
    body, content_type = multipart_body(parts, incomplete=incomplete)
    return phone.request("POST", phone.submission_url, body=body, headers={"Content-Type": content_type})


def stored(session, instance_id: str) -> list[Submission]:
    session.expire_all()
    return list(session.scalars(select(Submission).where(Submission.instance_id == instance_id)))


def attachment_names(session, submission: Submission) -> list[str]:
    query = select(SubmissionAttachment.name).where(SubmissionAttachment.submission_id == submission.id)
    return sorted(session.scalars(query))


# --------------------------------------------------------------------------- form versions


def test_a_version_with_a_public_key_is_encrypted_and_later_versions_keep_a_key(session, blobs, organisation, keys):
    form = forms.form_by_id(session, organisation, "household")
    assert forms.newest_version(session, form).public_key == keys.public_key
    assert forms.newest_version(session, form).is_encrypted
    with pytest.raises(Problem) as refused:
        forms.add_form_version(session, blobs, organisation, household_form(None, "2"), "household.xml")
    assert refused.value.code == "form.encryption_dropped"
    assert "public_key" in str(refused.value)
    session.rollback()
    upload = forms.add_form_version(session, blobs, organisation, household_form(keys.public_key, "3"), "household.xml")
    assert upload.created and upload.version.is_encrypted


def test_a_plain_form_stays_plain(session, blobs, organisation):
    upload = forms.add_form_version(session, blobs, organisation, as_xform(xlsform(SURVEY, settings={"form_id": "plain", "version": "1"})), "p.xml")
    assert upload.version.public_key is None and not upload.version.is_encrypted


# --------------------------------------------------------------------------- ingest


def test_an_envelope_is_stored_untouched_without_a_flattened_copy(session, phone, keys):
    upload = encrypted(keys)
    assert upload.xml_name.endswith("_2026-12-05_09-30-00.xml")  # Collect's instance file name, not submission.xml
    assert post(phone, upload.xml_name, upload.envelope, upload.files).status == 201
    [submission] = stored(session, "uuid:one")
    assert submission.xml == upload.envelope
    assert submission.data is None
    assert submission.attachments_expected == 2  # 1.jpg.enc and submission.xml.enc
    assert attachment_names(session, submission) == ["1.jpg.enc", "submission.xml.enc"]


def test_a_resend_is_a_duplicate_and_a_different_envelope_under_the_same_id_a_conflict(session, phone, keys):
    upload = encrypted(keys)
    assert post(phone, upload.xml_name, upload.envelope, upload.files).status == 201
    assert post(phone, upload.xml_name, upload.envelope, upload.files).status == 201
    assert len(stored(session, "uuid:one")) == 1
    other = encrypted(keys, name="สมหญิง")
    assert post(phone, other.xml_name, other.envelope, other.files).status == 409
    [submission] = stored(session, "uuid:one")
    assert submission.xml == upload.envelope


def test_a_split_upload_completes_the_envelopes_files(session, phone, keys):
    upload = encrypted(keys)
    first, rest = upload.files[:1], upload.files[1:]
    assert post(phone, upload.xml_name, upload.envelope, first, incomplete=True).status == 201
    [submission] = stored(session, "uuid:one")
    assert attachment_names(session, submission) == ["1.jpg.enc"]
    assert submission.attachments_expected == 2  # incomplete: one of two files
    assert post(phone, upload.xml_name, upload.envelope, rest).status == 201
    [submission] = stored(session, "uuid:one")
    assert attachment_names(session, submission) == ["1.jpg.enc", "submission.xml.enc"]


def test_collects_own_split_uploads_bring_every_file(session, phone, keys):
    upload = encrypted(keys, photo=PHOTO * 20)
    result = phone.send_instance(upload.envelope, upload.files, limit=len(upload.envelope) + 20_000)
    assert result.ok and len(result.posts) == 2
    [submission] = stored(session, "uuid:one")
    assert attachment_names(session, submission) == ["1.jpg.enc", "submission.xml.enc"]


def test_an_envelope_naming_a_file_that_never_arrives_stays_incomplete(session, phone, keys):
    upload = encrypted(keys)
    assert post(phone, upload.xml_name, upload.envelope, upload.files[1:]).status == 201
    [submission] = stored(session, "uuid:one")
    assert len(attachment_names(session, submission)) == 1 and submission.attachments_expected == 2


@pytest.mark.parametrize(
    "spoil",
    [
        lambda xml: xml.replace(b'encrypted="yes"', b'encrypted="no"'),
        lambda xml: xml.replace(b"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>", b""),
        lambda xml: xml.replace(b"<file>1.jpg.enc</file>", b"<file>../1.jpg</file>"),
        lambda xml: xml.replace(b"<base64EncryptedKey>", b"<base64EncryptedKey>*not base64*"),
    ],
    ids=["not-yes", "no-xml-file", "unsafe-name", "bad-key"],
)
def test_a_malformed_envelope_is_refused_and_nothing_is_stored(session, phone, keys, spoil):
    upload = encrypted(keys)
    response = post(phone, upload.xml_name, spoil(upload.envelope), upload.files)
    assert response.status == 400
    message = response.message
    assert "encrypted submission" in message and any("\u0e00" <= c <= "\u0e7f" for c in message)
    assert stored(session, "uuid:one") == []
    assert session.scalars(select(SubmissionAttachment)).all() == []


def test_plain_submissions_to_the_form_are_still_accepted(session, phone):
    xml = instance_xml("household", "1", "uuid:plain", "<head_name>ก</head_name>")
    assert post(phone, "x.xml", xml, []).status == 201
    [submission] = stored(session, "uuid:plain")
    assert submission.data is not None


# --------------------------------------------------------------------------- envelopes stored before


def test_the_migration_repairs_envelopes_stored_as_plain_submissions(database, session, phone, keys):
    upload = encrypted(keys)
    assert post(phone, upload.xml_name, upload.envelope, upload.files).status == 201
    plain = instance_xml("household", "1", "uuid:plain", "<head_name>ก</head_name>")
    assert post(phone, "x.xml", plain, []).status == 201
    session.execute(update(Submission).values(data={"head_name": None}, attachments_expected=0))
    session.commit()
    path = migrate.MIGRATIONS_DIR / "versions" / "0002_encrypted_forms.py"
    spec = importlib.util.spec_from_file_location("encrypted_forms_revision", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    with database.engine.begin() as connection:
        revision._repair_stored_envelopes(connection)
    [envelope] = stored(session, "uuid:one")
    assert envelope.data is None and envelope.attachments_expected == 2
    [plain_row] = stored(session, "uuid:plain")
    assert plain_row.data == {"head_name": None} and plain_row.attachments_expected == 0


def test_rebuilding_flattened_copies_leaves_envelopes_without_one(session, phone, keys, organisation):
    from formserver.exports.flatten import ensure_flattened, rebuild

    upload = encrypted(keys)
    assert post(phone, upload.xml_name, upload.envelope, upload.files).status == 201
    form = forms.form_by_id(session, organisation, "household")
    ensure_flattened(session, form)
    rebuild(session, form)
    [submission] = stored(session, "uuid:one")
    assert submission.data is None
