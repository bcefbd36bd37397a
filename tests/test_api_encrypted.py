"""Encrypted forms through the Central-compatible API, as ODK Central serves them.

The OData feed never decrypts: an encrypted submission is a row of metadata whose
``__system/status`` is ``notDecrypted``. ``submissions.csv.zip`` decrypts on the fly when
the passphrase is posted keyed by the key id ``…/submissions/keys`` lists (as ruODK's
``submission_export(pp = …)`` posts it); without it, encrypted submissions are rows of
metadata with Status ``not decrypted``. Envelopes are made by ``tests/encrypted_collect.py``
(Collect's encryption, written apart from formserver's) and posted through OpenRosa.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile

import pytest
from sqlalchemy import select

from formserver import accounts, appusers, encryption, form_keys, forms
from formserver.models import AuditEvent, ExportJob, Organisation

from .api_fixtures import bearer, token_for
from .collect_client import CollectClient, FlaskTransport, as_xform, instance_xml
from .encrypted_collect import encrypt_like_collect
from .test_api_pyodk import pyodk_client  # noqa: F401 (fixture)
from .test_encrypted_exports import (  # noqa: F401 (fixtures)
    CANARY,
    PASSPHRASE,
    PHOTO,
    SURVEY,
    body,
    encrypted_version,
    form,
    phone,
    quick_scrypt,
    send,
    send_plain,
)
from .web_fixtures import make_user, submit
from .xlsforms import xlsform

STATUS = "org.opendatakit.submission.Status"


@pytest.fixture
def viewer(app, session, form) -> dict:
    """A viewer of the form's organisation, signed in to the API with a bearer token."""
    person = make_user(session, "viewer@hill.example")
    accounts.add_member(session, form.organisation, person, "viewer")
    session.commit()
    return bearer(token_for(app, person.id))


@pytest.fixture
def sent(phone, encrypted_version):
    """A plain household of version 1, then two encrypted ones (Thai names, members, a photo each)."""
    send_plain(phone, "uuid:plain", "สมชาย ใจดี", ["ก"])
    send(phone, encrypted_version, "uuid:enc-1", CANARY, ["สมศรี", "บุญมี"])
    send(phone, encrypted_version, "uuid:enc-2", "นายหนึ่ง", [])


def base(form) -> str:
    return f"/v1/projects/{form.organisation_id}/forms/household"


def unzipped(content: bytes) -> bytes:
    """Every entry of a zip, decompressed and joined: what a search for plaintext must look in."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    return b"".join(archive.read(name) for name in archive.namelist())


def zip_tables(content: bytes) -> tuple[zipfile.ZipFile, dict[str, list[dict]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    read = {n: list(csv.DictReader(io.StringIO(archive.read(n).decode("utf-8")))) for n in archive.namelist() if n.endswith(".csv")}
    return archive, read


# --------------------------------------------------------------------------- OData


def test_odata_rows_of_encrypted_submissions_carry_their_metadata_and_no_answers(client, form, viewer, sent, encrypted_version):
    answer = client.get(base(form) + ".svc/Submissions?$expand=*&$count=true", headers=viewer)
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert CANARY not in text and "สมศรี" not in text and "นายหนึ่ง" not in text
    feed = answer.get_json()
    assert feed["@odata.count"] == 3
    plain, first, second = feed["value"]
    assert plain["head_name"] == "สมชาย ใจดี" and plain["__system"]["status"] is None
    for row, key in ((first, "uuid:enc-1"), (second, "uuid:enc-2")):
        assert set(row) == {"__id", "__system"} and row["__id"] == key
        system = row["__system"]
        assert system["status"] == "notDecrypted" and system["formVersion"] == encrypted_version.version
        assert (system["attachmentsPresent"], system["attachmentsExpected"]) == (2, 2)
        assert system["submitterName"] == "phone 1" and system["reviewState"] is None and system["submissionDate"]


def test_repeat_tables_have_no_rows_of_encrypted_submissions(client, form, viewer, sent):
    rows = client.get(base(form) + ".svc/Submissions.member", headers=viewer).get_json()["value"]
    assert [(row["member_name"], row["__Submissions-id"]) for row in rows] == [("ก", "uuid:plain")]


def test_paging_select_and_filter_treat_encrypted_rows_as_rows(client, form, viewer, sent):
    page = client.get(base(form) + ".svc/Submissions?$top=1&$skip=1&$select=__id,__system/status", headers=viewer).get_json()
    assert page["value"] == [{"__id": "uuid:enc-1", "__system": {"status": "notDecrypted"}}]
    filtered = client.get(base(form) + ".svc/Submissions?$filter=__system/submissionDate gt 2020-01-01", headers=viewer)
    assert [row["__id"] for row in filtered.get_json()["value"]] == ["uuid:plain", "uuid:enc-1", "uuid:enc-2"]


def test_an_envelope_whose_encrypted_xml_never_arrived_is_missing_encrypted_form_data(client, form, viewer, phone, encrypted_version):
    send(phone, encrypted_version, "uuid:half", CANARY, [], files=lambda files: files[:1])
    [row] = client.get(base(form) + ".svc/Submissions", headers=viewer).get_json()["value"]
    assert row["__system"]["status"] == "missingEncryptedFormData"
    assert (row["__system"]["attachmentsPresent"], row["__system"]["attachmentsExpected"]) == (1, 2)


def test_odata_takes_no_passphrase(client, form, viewer, sent, encrypted_version):
    address = base(form) + f".svc/Submissions?{encrypted_version.id}={PASSPHRASE}"
    rows = client.get(address, headers=viewer).get_json()["value"]
    assert [row["__system"]["status"] for row in rows] == [None, "notDecrypted", "notDecrypted"]
    assert client.post(base(form) + ".svc/Submissions", json={str(encrypted_version.id): PASSPHRASE}, headers=viewer).status_code == 404


def test_metadata_declares_centrals_status_enum(client, form, viewer, encrypted_version):
    document = client.get(base(form) + ".svc/$metadata", headers=viewer).get_data(as_text=True)
    assert f'<Property Name="status" Type="{STATUS}"/>' in document
    assert '<EnumType Name="Status"><Member Name="notDecrypted"/><Member Name="missingEncryptedFormData"/></EnumType>' in document


# --------------------------------------------------------------------------- keys


def test_keys_lists_the_managed_key_once_it_has_submissions(client, form, viewer, phone, encrypted_version):
    assert client.get(base(form) + "/submissions/keys", headers=viewer).get_json() == []
    send(phone, encrypted_version, "uuid:enc-1", CANARY, [])
    [key] = client.get(base(form) + "/submissions/keys", headers=viewer).get_json()
    assert (key["id"], key["public"], key["managed"], key["hint"]) == (
        encrypted_version.id, encrypted_version.public_key, True, "ถามพี่นก"
    )
    assert client.get(base(form), headers=viewer).get_json()["keyId"] == encrypted_version.id


def test_a_later_version_keeps_the_key_id(client, session, blobs, form, viewer, phone, encrypted_version):
    settings = {"form_id": "household", "version": "3", "form_title": "ครัวเรือน"}
    later = forms.add_form_version(session, blobs, form.organisation, as_xform(xlsform(SURVEY, settings=settings)), "h.xml").version
    session.commit()
    assert later.public_key == encrypted_version.public_key
    send(phone, later, "uuid:enc-3", CANARY, [])
    assert [key["id"] for key in client.get(base(form) + "/submissions/keys", headers=viewer).get_json()] == [encrypted_version.id]
    assert client.get(base(form), headers=viewer).get_json()["keyId"] == encrypted_version.id


# --------------------------------------------------------------------------- the CSV zip


@pytest.mark.parametrize("shape", ["json", "form"])
def test_the_csv_zip_decrypts_with_the_passphrase_posted_as_ruodk_and_pyodk_post_it(
    client, form, viewer, sent, encrypted_version, shape
):
    passphrases = {str(encrypted_version.id): PASSPHRASE}
    posted = {"json": passphrases} if shape == "json" else {"data": passphrases}
    answer = client.post(base(form) + "/submissions.csv.zip", headers=viewer, **posted)
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    archive, read = zip_tables(answer.data)
    main = read["household.csv"]
    assert [(row["KEY"], row["head_name"], row["Status"]) for row in main] == [
        ("uuid:plain", "สมชาย ใจดี", ""), ("uuid:enc-1", CANARY, ""), ("uuid:enc-2", "นายหนึ่ง", "")
    ]
    assert [row["FormVersion"] for row in main] == ["1", encrypted_version.version, encrypted_version.version]
    assert [(row["member_name"], row["PARENT_KEY"]) for row in read["household-member.csv"]] == [
        ("ก", "uuid:plain"), ("สมศรี", "uuid:enc-1"), ("บุญมี", "uuid:enc-1")
    ]
    assert CANARY.encode("utf-8") in archive.read("household.csv")  # byte for byte
    assert [n for n in archive.namelist() if n.startswith("media/")] == ["media/1.jpg"]  # Central's flat names
    assert archive.read("media/1.jpg") == PHOTO and not any(n.endswith(".enc") for n in archive.namelist())


def test_the_decrypted_photo_is_in_the_zip_when_only_encrypted_submissions_have_one(client, form, viewer, phone, encrypted_version):
    send(phone, encrypted_version, "uuid:enc-1", CANARY, [])
    answer = client.post(base(form) + "/submissions.csv.zip", headers=viewer, json={str(encrypted_version.id): PASSPHRASE})
    archive, read = zip_tables(answer.data)
    assert archive.read("media/1.jpg") == PHOTO and read["household.csv"][0]["photo"] == "1.jpg"


def test_a_wrong_passphrase_is_refused_before_any_byte_of_the_zip(client, session, form, viewer, sent, encrypted_version):
    answer = client.post(base(form) + "/submissions.csv.zip", headers=viewer, json={str(encrypted_version.id): "not the passphrase"})
    assert answer.status_code == 400 and answer.get_json()["code"] == 400.12
    assert not answer.data.startswith(b"PK") and "passphrase" in answer.get_json()["message"]
    empty = client.post(base(form) + "/submissions.csv.zip", headers=viewer, data={str(encrypted_version.id): ""})
    assert empty.get_json()["code"] == 400.12
    session.expire_all()
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "export.download")).all() == []


def test_a_passphrase_in_the_address_is_refused_not_read(client, form, viewer, sent, encrypted_version):
    answer = client.get(base(form) + f"/submissions.csv.zip?{encrypted_version.id}={PASSPHRASE}", headers=viewer)
    assert answer.status_code == 400 and answer.get_json()["code"] == 400.8
    assert PASSPHRASE not in answer.get_data(as_text=True)


def test_without_the_passphrase_encrypted_submissions_are_rows_of_metadata_not_decrypted(client, form, viewer, sent, encrypted_version):
    for answer in (client.get(base(form) + "/submissions.csv.zip", headers=viewer),
                   client.post(base(form) + "/submissions.csv.zip", headers=viewer)):  # ruODK posts no body then
        assert answer.status_code == 200
        archive, read = zip_tables(answer.data)
        main = read["household.csv"]
        assert [(row["KEY"], row["head_name"], row["Status"]) for row in main] == [
            ("uuid:plain", "สมชาย ใจดี", ""), ("uuid:enc-1", "", "not decrypted"), ("uuid:enc-2", "", "not decrypted")
        ]
        assert [(row["AttachmentsPresent"], row["SubmitterName"]) for row in main[1:]] == [("2", "phone 1")] * 2
        assert [row["PARENT_KEY"] for row in read["household-member.csv"]] == ["uuid:plain"]
        assert [n for n in archive.namelist() if n.startswith("media/")] == ["media/1.jpg"]  # the plain one's photo
        assert CANARY.encode("utf-8") not in unzipped(answer.data)


def test_damaged_or_incomplete_submissions_keep_centrals_status_while_the_rest_decrypts(
    client, form, viewer, phone, encrypted_version
):
    send(phone, encrypted_version, "uuid:good", "ดี", [])
    send(phone, encrypted_version, "uuid:tampered", CANARY, [], spoil=lambda c: c[:-16] + bytes(16))
    send(phone, encrypted_version, "uuid:half", CANARY, [], files=lambda files: files[:1])
    answer = client.post(base(form) + "/submissions.csv.zip?attachments=false", headers=viewer,
                         json={str(encrypted_version.id): PASSPHRASE})
    _archive, read = zip_tables(answer.data)
    assert [(row["KEY"], row["head_name"], row["Status"]) for row in read["household.csv"]] == [
        ("uuid:good", "ดี", ""), ("uuid:tampered", "", "not decrypted"), ("uuid:half", "", "missing encrypted form data")
    ]


def test_an_edited_record_is_one_row_keyed_by_its_first_instance_id_as_central_writes_it(
    client, form, viewer, phone, encrypted_version
):
    """Central's layout of a record whose chain mixes a plain original and encrypted edits: its first
    version's KEY and SubmissionDate, its newest version's answers and instanceID, its number of edits."""
    send_plain(phone, "uuid:plain", "สมชาย ใจดี", ["ก"])
    send(phone, encrypted_version, "uuid:enc", "นายหนึ่ง", [])
    send(phone, encrypted_version, "uuid:plain-v2", "สมชาย 2", ["ข"], deprecated="uuid:plain")
    send(phone, encrypted_version, "uuid:plain-v3", CANARY, ["ค"], deprecated="uuid:plain-v2")
    send(phone, encrypted_version, "uuid:orphan", "ง", [], deprecated="uuid:never-sent")
    url = base(form) + "/submissions.csv.zip?attachments=false"
    _archive, plain_read = zip_tables(client.get(url, headers=viewer).data)  # without the passphrase: nothing joined
    assert [row["KEY"] for row in plain_read["household.csv"]] == [
        "uuid:plain", "uuid:enc", "uuid:plain-v2", "uuid:plain-v3", "uuid:orphan"
    ]
    _archive, read = zip_tables(client.post(url, headers=viewer, json={str(encrypted_version.id): PASSPHRASE}).data)
    main = read["household.csv"]
    first_date = plain_read["household.csv"][0]["SubmissionDate"]
    assert [(row["KEY"], row["meta-instanceID"], row["head_name"], row["Edits"], row["ReviewState"]) for row in main] == [
        ("uuid:enc", "uuid:enc", "นายหนึ่ง", "0", ""),
        ("uuid:plain", "uuid:plain-v3", CANARY, "2", "edited"),
        ("uuid:orphan", "uuid:orphan", "ง", "0", ""),
    ]
    assert main[1]["SubmissionDate"] == first_date and main[1]["FormVersion"] == encrypted_version.version
    assert [(row["member_name"], row["PARENT_KEY"]) for row in read["household-member.csv"]] == [("ค", "uuid:plain")]


def test_a_decrypted_zip_leaves_nothing_in_clear_on_the_server(client, session, settings, form, viewer, sent, encrypted_version, caplog):
    caplog.set_level(logging.DEBUG)
    answer = client.post(base(form) + "/submissions.csv.zip", headers=viewer, json={str(encrypted_version.id): PASSPHRASE})
    assert CANARY.encode("utf-8") in unzipped(answer.data)
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            assert CANARY.encode("utf-8") not in path.read_bytes(), path
    session.expire_all()
    assert session.scalars(select(ExportJob)).all() == []
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.download")).all()
    assert PASSPHRASE not in repr(event.details) and event.details.get("decrypted") is True
    assert PASSPHRASE not in caplog.text and CANARY not in caplog.text


# --------------------------------------------------------------------------- bring your own key


def test_a_form_with_its_own_key_lists_it_unmanaged_and_is_never_decrypted(client, session, blobs, app):
    keys = encryption.make_key_pair()
    organisation = accounts.create_organisation(session, "own", "Own key")
    settings = {"form_id": "household", "version": "7", "public_key": keys.public_key}
    version = forms.add_form_version(session, blobs, organisation, as_xform(xlsform(SURVEY, settings=settings)), "h.xml").version
    person = make_user(session, "viewer@own.example")
    accounts.add_member(session, organisation, person, "viewer")
    token = appusers.create_app_user(session, organisation, "phone").token
    session.commit()
    phone = CollectClient(f"http://formserver.test/key/{token}/o/own", FlaskTransport(client, before=session.commit))
    send(phone, version, "uuid:own-1", CANARY, [])
    headers = bearer(token_for(app, person.id))
    address = f"/v1/projects/{organisation.id}/forms/household"
    [key] = client.get(address + "/submissions/keys", headers=headers).get_json()
    assert (key["id"], key["public"], key["managed"], key["hint"]) == (version.id, keys.public_key, False, None)
    answer = client.post(address + "/submissions.csv.zip", headers=headers, json={str(version.id): "any passphrase at all"})
    _archive, read = zip_tables(answer.data)
    assert [(row["KEY"], row["Status"]) for row in read["household.csv"]] == [("uuid:own-1", "not decrypted")]
    assert CANARY.encode("utf-8") not in unzipped(answer.data)


# --------------------------------------------------------------------------- pyodk against a running server


def test_pyodk_reads_the_feed_and_posts_the_passphrase_to_a_running_server(pyodk_client, database, blobs):
    client, world = pyodk_client
    with database.session_scope() as session:
        organisation = session.get(Organisation, world.own.org_id)
        xform = as_xform(xlsform(SURVEY, settings={"form_id": "household", "version": "1", "form_title": "ครัวเรือน"}))
        forms.add_form_version(session, blobs, organisation, xform, "household.xml")
        version = form_keys.turn_on_encryption(session, forms.form_by_id(session, organisation, "household"), PASSPHRASE)
        xml = instance_xml("household", version.version, "uuid:enc-1", body(CANARY, ["สมศรี"]))
        upload = encrypt_like_collect(xml, [("1.jpg", PHOTO)], version.public_key)
        submit(session, blobs, organisation, upload.envelope, files=[(n, c, "application/octet-stream") for n, c in upload.files])
        key_id = version.id
    [row] = client.submissions.get_table(form_id="household", expand="*")["value"]
    assert row["__id"] == "uuid:enc-1" and row["__system"]["status"] == "notDecrypted" and "head_name" not in row
    address = f"projects/{world.own.org_id}/forms/household/submissions"
    assert [key["id"] for key in client.session.get(address + "/keys").json()] == [key_id]
    wrong = client.session.post(address + ".csv.zip", data={str(key_id): "not the passphrase"})
    assert wrong.status_code == 400 and wrong.json()["code"] == 400.12
    answer = client.session.post(address + ".csv.zip", json={str(key_id): PASSPHRASE})
    archive, read = zip_tables(answer.content)
    assert [(row["head_name"], row["Status"]) for row in read["household.csv"]] == [(CANARY, "")]
    assert read["household-member.csv"][0]["member_name"] == "สมศรี" and archive.read("media/1.jpg") == PHOTO
