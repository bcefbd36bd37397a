"""Exports of encrypted forms: envelopes posted as Collect sends them come back as the plain form's answers.

The form starts plain (version 1, with plain submissions), a manager turns encryption on
with a passphrase, and phones send envelopes made by ``tests/encrypted_collect.py``
(Collect's encryption, written apart from formserver's) through the real OpenRosa endpoint.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from sqlalchemy import select

from formserver import accounts, appusers, encryption, form_keys, forms
from formserver.db import reading_session
from formserver.exports import decrypting
from formserver.exports.decrypting import export_key
from formserver.exports.export import run_export
from formserver.exports.spool import Sealed, temporary_file
from formserver.models import AuditEvent, ExportJob, Form, Submission, SubmissionAttachment
from formserver.problems import Problem

from .collect_client import CollectClient, FlaskTransport, as_xform, instance_xml, multipart_body
from .encrypted_collect import encrypt_like_collect
from .test_export_support import read_workbook, table
from .xlsforms import xlsform

PASSPHRASE = "ช้างเผือก กินกล้วย 42"
CANARY = "นางสาวคำแก้ว ดอยสะเก็ดแม่ออน"  # a Thai name that must never reach the data folder in clear
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
SURVEY = [
    {"type": "text", "name": "head_name", "label": "Head of household"},
    {"type": "image", "name": "photo", "label": "Photo"},
    {"type": "begin repeat", "name": "member", "label": "Member"},
    {"type": "text", "name": "member_name", "label": "Name"},
    {"type": "end repeat", "name": "member"},
]


@pytest.fixture(autouse=True)
def quick_scrypt(monkeypatch):
    """A cheaper passphrase key derivation in tests (the sealed blob records the settings it used)."""
    monkeypatch.setattr(encryption, "SCRYPT_N", 2**14)


@pytest.fixture
def form(session, blobs):
    organisation = accounts.create_organisation(session, "hillnet", "เครือข่ายบนดอย")
    xform = as_xform(xlsform(SURVEY, settings={"form_id": "household", "version": "1", "form_title": "ครัวเรือน"}))
    forms.add_form_version(session, blobs, organisation, xform, "household.xml")
    session.commit()
    return forms.form_by_id(session, organisation, "household")


@pytest.fixture
def phone(client, session, form) -> CollectClient:
    token = appusers.create_app_user(session, form.organisation, "phone 1").token
    session.commit()
    return CollectClient(f"http://formserver.test/key/{token}/o/hillnet", FlaskTransport(client, before=session.commit))


@pytest.fixture
def encrypted_version(session, form):
    version = form_keys.turn_on_encryption(session, form, PASSPHRASE, hint="ถามพี่นก")
    session.commit()
    return version


def body(name: str, members: list[str], photo: bool = True) -> str:
    rows = "".join(f"<member><member_name>{m}</member_name></member>" for m in members)
    return f"<head_name>{name}</head_name><photo>{'1.jpg' if photo else ''}</photo>{rows}"


def send(phone, version, instance_id, name, members, *, photo=PHOTO, deprecated=None, files=None, spoil=None):
    xml = instance_xml("household", version.version, instance_id, body(name, members), deprecated_id=deprecated)
    upload = encrypt_like_collect(xml, [("1.jpg", photo)], version.public_key, form_title="ครัวเรือน",
                                  saved_at=datetime(2026, 12, 5, 9, 30))
    parts = [("xml_submission_file", upload.xml_name, "text/xml", upload.envelope)]
    sent = upload.files if files is None else files(upload.files)
    if spoil is not None:
        sent = [(n, spoil(c) if n == "submission.xml.enc" else c) for n, c in sent]
    parts += [(n, n, "application/octet-stream", c) for n, c in sent]
    data, content_type = multipart_body(parts)
    response = phone.request("POST", phone.submission_url, body=data, headers={"Content-Type": content_type})
    assert response.status == 201, response.message
    return upload


def send_plain(phone, instance_id, name, members):
    xml = instance_xml("household", "1", instance_id, body(name, members))
    parts = [("xml_submission_file", "x.xml", "text/xml", xml), ("1.jpg", "1.jpg", "image/jpeg", PHOTO)]
    data, content_type = multipart_body(parts)
    assert phone.request("POST", phone.submission_url, body=data, headers={"Content-Type": content_type}).status == 201


def export(settings, session, form, target, key=None, **options):
    with reading_session(settings) as reader:
        return run_export(reader, settings, form.organisation, reader.get(Form, form.id), options, target, key=key)


def opened(session, form):
    session.expire_all()
    return export_key(session, session.get(Form, form.id), passphrase=PASSPHRASE)


# --------------------------------------------------------------------------- the round trip


def test_an_export_with_the_passphrase_gives_the_answers_and_photos_of_the_plain_form(
    settings, session, form, phone, encrypted_version, tmp_path
):
    send_plain(phone, "uuid:plain", "สมชาย ใจดี", ["ก"])
    send(phone, encrypted_version, "uuid:enc-1", CANARY, ["สมศรี", "บุญมี"])
    send(phone, encrypted_version, "uuid:enc-2", "นายหนึ่ง", [])
    target = tmp_path / "out.zip"
    result = export(settings, session, form, target, opened(session, form), media=True)
    assert result.submissions == 3 and result.not_decrypted == 0
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        workbook = tmp_path / "book.xlsx"
        workbook.write_bytes(archive.read(next(n for n in names if n.endswith(".xlsx"))))
        photos = {n: archive.read(n) for n in names if n.startswith("media/")}
    sheets = read_workbook(workbook)
    main = table(sheets["household"])
    assert [row["head_name"] for row in main] == ["สมชาย ใจดี", CANARY, "นายหนึ่ง"]
    assert [row["FormVersion"] for row in main] == ["1", encrypted_version.version, encrypted_version.version]
    members = table(sheets["member"])
    assert [(row["member_name"], row["PARENT_KEY"]) for row in members] == [
        ("ก", "uuid:plain"), ("สมศรี", "uuid:enc-1"), ("บุญมี", "uuid:enc-1")
    ]
    assert "not decrypted" not in sheets
    assert sorted(photos.values()) == [PHOTO] * 3 and all(n.endswith("/1.jpg") for n in photos)
    assert not any(n.endswith(".enc") for n in names)


def test_a_csv_export_decrypts_too(settings, session, form, phone, encrypted_version, tmp_path):
    send(phone, encrypted_version, "uuid:enc-1", CANARY, ["สมศรี"])
    target = tmp_path / "out.csv.zip"
    export(settings, session, form, target, opened(session, form), format="csv")
    with zipfile.ZipFile(target) as archive:
        main = archive.read("household.csv").decode("utf-8-sig")
        member = archive.read("member.csv").decode("utf-8-sig")
    assert CANARY in main and "สมศรี" in member


def test_a_private_key_pem_opens_a_form_with_its_own_key(settings, session, blobs, tmp_path, client):
    keys = encryption.make_key_pair()
    organisation = accounts.create_organisation(session, "own", "Own key")
    settings_sheet = {"form_id": "household", "version": "7", "public_key": keys.public_key}
    upload = forms.add_form_version(session, blobs, organisation, as_xform(xlsform(SURVEY, settings=settings_sheet)), "h.xml")
    token = appusers.create_app_user(session, organisation, "phone").token
    session.commit()
    phone = CollectClient(f"http://formserver.test/key/{token}/o/own", FlaskTransport(client, before=session.commit))
    send(phone, upload.version, "uuid:own", CANARY, [])
    own = forms.form_by_id(session, organisation, "household")
    with pytest.raises(Problem) as refused:
        export_key(session, own, private_pem=encryption.make_key_pair().private_pem)
    assert refused.value.code == "export.key_mismatch"
    with pytest.raises(Problem) as refused:
        export_key(session, own, passphrase=PASSPHRASE)
    assert refused.value.code == "export.no_sealed_key"
    target = tmp_path / "own.xlsx"
    export(settings, session, own, target, export_key(session, own, private_pem=keys.private_pem))
    assert [row["head_name"] for row in table(read_workbook(target)["household"])] == [CANARY]


# --------------------------------------------------------------------------- refused before any work


def test_a_wrong_passphrase_or_no_key_is_refused_before_anything_is_written(
    settings, session, form, phone, encrypted_version, tmp_path
):
    send(phone, encrypted_version, "uuid:enc-1", CANARY, [])
    with pytest.raises(Problem) as refused:
        export_key(session, form, passphrase="not the passphrase at all")
    assert refused.value.code == "export.wrong_passphrase"
    with pytest.raises(Problem) as refused:
        export(settings, session, form, tmp_path / "x.xlsx")
    assert refused.value.code == "export.key_needed"
    assert not (tmp_path / "x.xlsx").exists()
    # the plain version alone needs no key
    export(settings, session, form, tmp_path / "v1.xlsx", version="1")


# --------------------------------------------------------------------------- what cannot be decrypted


def test_a_tampered_or_missing_file_is_listed_and_the_export_goes_on(
    settings, session, form, phone, encrypted_version, tmp_path
):
    send(phone, encrypted_version, "uuid:good", CANARY, [])
    send(phone, encrypted_version, "uuid:tampered", "ข", [], spoil=lambda c: c[:-16] + bytes(16))
    send(phone, encrypted_version, "uuid:no-photo", "ค", [], files=lambda files: files[1:])
    target = tmp_path / "out.xlsx"
    result = export(settings, session, form, target, opened(session, form), lang="th")
    assert result.submissions == 1 and result.not_decrypted == 2
    sheets = read_workbook(target)
    assert [row["head_name"] for row in table(sheets["household"])] == [CANARY]
    failed = table(sheets["not decrypted"], header_rows=1)
    assert {row["KEY"]: row["Code"] for row in failed} == {
        "uuid:tampered": "encryption.corrupt_part",
        "uuid:no-photo": "encryption.missing_part",
    }
    assert all(any("\u0e00" <= c <= "\u0e7f" for c in row["Reason"]) for row in failed)
    assert "1.jpg.enc" in next(row["Reason"] for row in failed if row["KEY"] == "uuid:no-photo")


def test_worker_processes_decrypting_ahead_give_the_same_export_in_the_same_order(
    settings, session, form, phone, encrypted_version, tmp_path, monkeypatch
):
    """Past ``AHEAD_FROM`` sealed rows, worker processes decrypt while the export writes: same rows, same order,
    same photos and the same failures as when the export decrypts each row itself."""
    send_plain(phone, "uuid:plain", "สมชาย ใจดี", ["ก"])
    for number in range(6):
        send(phone, encrypted_version, f"uuid:enc-{number}", f"{CANARY} {number}", ["สมศรี"] * number)
    send(phone, encrypted_version, "uuid:tampered", "ข", [], spoil=lambda c: c[:-16] + bytes(16))
    send(phone, encrypted_version, "uuid:last", "ง", ["บุญมี"])

    def exported(name: str) -> tuple[dict, dict]:
        target = tmp_path / f"{name}.zip"
        result = export(settings, session, form, target, opened(session, form), media=True)
        assert (result.submissions, result.not_decrypted, result.media_files) == (8, 1, 8)
        with zipfile.ZipFile(target) as archive:
            workbook = tmp_path / f"{name}.xlsx"
            workbook.write_bytes(archive.read(next(n for n in archive.namelist() if n.endswith(".xlsx"))))
            photos = {n: archive.read(n) for n in archive.namelist() if n.startswith("media/")}
        sheets = read_workbook(workbook)
        return sheets, photos

    inline = exported("inline")
    monkeypatch.setattr(decrypting, "AHEAD_FROM", 2)
    monkeypatch.setattr(decrypting, "ahead_workers", lambda: 2)
    start_pool, started = decrypting.start_pool, []
    monkeypatch.setattr(decrypting, "start_pool", lambda *args: started.append(1) or start_pool(*args))
    monkeypatch.setattr(decrypting, "OPEN_CHUNK", 3)  # several chunks, some of plain rows and sealed ones mixed
    ahead = exported("ahead")
    assert started == [1]  # the worker processes opened the sealed rows
    assert ahead == inline
    assert [row["head_name"] for row in table(inline[0]["household"])][:3] == ["สมชาย ใจดี", f"{CANARY} 0", f"{CANARY} 1"]


def test_a_csv_export_lists_them_in_not_decrypted_csv(settings, session, form, phone, encrypted_version, tmp_path):
    send(phone, encrypted_version, "uuid:tampered", "ข", [], spoil=lambda c: c[:-16] + bytes(16))
    target = tmp_path / "out.csv.zip"
    export(settings, session, form, target, opened(session, form), format="csv")
    with zipfile.ZipFile(target) as archive:
        listed = archive.read("not_decrypted.csv").decode("utf-8-sig")
    assert "uuid:tampered" in listed and "encryption.corrupt_part" in listed


def test_a_submission_for_another_key_is_listed_as_wrong_key(settings, session, form, phone, encrypted_version, tmp_path):
    send(phone, encrypted_version, "uuid:good", CANARY, [])
    other = encryption.make_key_pair()
    stranger = type(encrypted_version)(version=encrypted_version.version, public_key=other.public_key)
    send(phone, stranger, "uuid:stranger", "ง", [])
    target = tmp_path / "out.xlsx"
    export(settings, session, form, target, opened(session, form))
    failed = table(read_workbook(target)["not decrypted"], header_rows=1)
    assert [(row["KEY"], row["Code"]) for row in failed] == [("uuid:stranger", "encryption.wrong_key")]


# --------------------------------------------------------------------------- resends, edits, split uploads


def test_a_resend_a_split_upload_and_an_edit(settings, session, form, phone, encrypted_version, tmp_path):
    upload = send(phone, encrypted_version, "uuid:one", CANARY, ["สมศรี"])
    parts = [("xml_submission_file", upload.xml_name, "text/xml", upload.envelope)]
    parts += [(n, n, "application/octet-stream", c) for n, c in upload.files]
    data, content_type = multipart_body(parts)
    assert phone.request("POST", phone.submission_url, body=data, headers={"Content-Type": content_type}).status == 201
    # a split upload: the photo first, the instance later
    xml = instance_xml("household", encrypted_version.version, "uuid:split", body("แยกส่ง", []))
    split = encrypt_like_collect(xml, [("1.jpg", PHOTO)], encrypted_version.public_key)
    for files, incomplete in ((split.files[:1], True), (split.files[1:], False)):
        parts = [("xml_submission_file", split.xml_name, "text/xml", split.envelope)]
        parts += [(n, n, "application/octet-stream", c) for n, c in files]
        data, content_type = multipart_body(parts, incomplete=incomplete)
        assert phone.request("POST", phone.submission_url, body=data, headers={"Content-Type": content_type}).status == 201
    # an edit: its deprecatedID is sealed inside, read when the export decrypts
    send(phone, encrypted_version, "uuid:one-edited", "แก้ไขแล้ว", ["สมศรี"], deprecated="uuid:one")
    target = tmp_path / "out.xlsx"
    result = export(settings, session, form, target, opened(session, form))
    main = table(read_workbook(target)["household"])
    assert [(row["KEY"], row["head_name"], row["Edits"]) for row in main] == [
        ("uuid:split", "แยกส่ง", 0), ("uuid:one-edited", "แก้ไขแล้ว", 1)
    ]
    assert result.not_decrypted == 0
    assert [row["AttachmentsPresent"] for row in main] == [2, 2]


# --------------------------------------------------------------------------- edits: one record, its newest version


def exported_main(settings, session, form, tmp_path, **options) -> tuple[list[dict], list[dict], object]:
    """The main and member sheets of an xlsx export opened with the passphrase, and its result."""
    target = tmp_path / "edits.xlsx"
    result = export(settings, session, form, target, opened(session, form), **options)
    sheets = read_workbook(target)
    failed = table(sheets["not decrypted"], header_rows=1) if "not decrypted" in sheets else []
    return table(sheets["household"]), table(sheets["member"]) if "member" in sheets else [], (result, failed)


def test_an_edited_encrypted_record_is_exported_once_as_its_newest_version_and_nothing_is_stored(
    settings, session, form, phone, encrypted_version, tmp_path
):
    send(phone, encrypted_version, "uuid:one", CANARY, ["สมศรี"], photo=PHOTO[::-1])
    send(phone, encrypted_version, "uuid:two", "นายสอง", [])
    send(phone, encrypted_version, "uuid:one-v2", "แก้ไขแล้ว", ["สมศรี", "บุญมี"], deprecated="uuid:one")
    main, members, (result, failed) = exported_main(settings, session, form, tmp_path)
    target = tmp_path / "media.zip"
    export(settings, session, form, target, opened(session, form), media=True)
    with zipfile.ZipFile(target) as archive:  # the replaced version's photo is not written either
        assert [archive.read(n) for n in archive.namelist() if n.startswith("media/")] == [PHOTO, PHOTO]
    # as a plain record: the newest version's answers and instanceID, the number of edits
    assert [(row["KEY"], row["head_name"], row["Edits"]) for row in main] == [
        ("uuid:two", "นายสอง", 0), ("uuid:one-v2", "แก้ไขแล้ว", 1)
    ]
    assert [(row["member_name"], row["PARENT_KEY"]) for row in members] == [("สมศรี", "uuid:one-v2"), ("บุญมี", "uuid:one-v2")]
    assert (result.submissions, result.not_decrypted, failed) == (2, 0, [])
    session.expire_all()  # the link lives in the export's memory only: ingest's columns are as they were
    stored = {s.instance_id: (s.root_id, s.is_current, s.data) for s in session.scalars(select(Submission))}
    assert stored == {"uuid:one": (None, True, None), "uuid:two": (None, True, None), "uuid:one-v2": (None, True, None)}


def test_an_encrypted_edit_of_a_plain_original_replaces_it_and_its_photo(
    settings, session, form, phone, encrypted_version, tmp_path
):
    send_plain(phone, "uuid:plain", "สมชาย ใจดี", ["ก"])
    send(phone, encrypted_version, "uuid:plain-v2", CANARY, ["ข"], photo=PHOTO[::-1], deprecated="uuid:plain")
    target = tmp_path / "out.zip"
    result = export(settings, session, form, target, opened(session, form), media=True)
    with zipfile.ZipFile(target) as archive:
        workbook = tmp_path / "book.xlsx"
        workbook.write_bytes(archive.read(next(n for n in archive.namelist() if n.endswith(".xlsx"))))
        photos = [archive.read(n) for n in archive.namelist() if n.startswith("media/")]
    sheets = read_workbook(workbook)
    assert [(row["KEY"], row["head_name"], row["Edits"]) for row in table(sheets["household"])] == [("uuid:plain-v2", CANARY, 1)]
    assert [row["member_name"] for row in table(sheets["member"])] == ["ข"]
    assert (result.submissions, result.media_files, photos) == (1, 1, [PHOTO[::-1]])


@pytest.mark.parametrize("ahead", [False, True], ids=["inline", "in worker processes"])
def test_a_chain_of_edits_mixing_plain_and_encrypted_versions_is_one_record(
    settings, session, form, phone, encrypted_version, tmp_path, monkeypatch, ahead
):
    peeked, peek_ahead = [], decrypting.peek_ahead
    if ahead:
        monkeypatch.setattr(decrypting, "AHEAD_FROM", 2)
        monkeypatch.setattr(decrypting, "ahead_workers", lambda: 2)
        monkeypatch.setattr(decrypting, "PEEK_CHUNK", 1)  # more chunks than the workers take at once: the writer peeks the rest
        monkeypatch.setattr(decrypting, "peek_ahead", lambda *args: peeked.append(1) or peek_ahead(*args))
    send_plain(phone, "uuid:a", "ก", [])
    send(phone, encrypted_version, "uuid:b", "ข", [])
    send(phone, encrypted_version, "uuid:a-v2", "ก2", [], deprecated="uuid:a")
    send(phone, encrypted_version, "uuid:b-v2", "ข2", [], deprecated="uuid:b")
    send(phone, encrypted_version, "uuid:a-v3", "ก3", ["สมศรี"], deprecated="uuid:a-v2")
    send(phone, encrypted_version, "uuid:c", "ค", [])
    main, members, (result, _) = exported_main(settings, session, form, tmp_path)
    assert [(row["KEY"], row["head_name"], row["Edits"]) for row in main] == [
        ("uuid:b-v2", "ข2", 1), ("uuid:a-v3", "ก3", 2), ("uuid:c", "ค", 0)
    ]
    assert [(row["PARENT_KEY"], row["_parent_index"]) for row in members] == [("uuid:a-v3", 2)]
    assert [row["_index"] for row in main] == [1, 2, 3] and result.submissions == 3
    assert peeked == ([1] if ahead else [])


def test_an_edit_whose_original_is_missing_or_came_later_is_a_record_of_its_own(
    settings, session, form, phone, encrypted_version, tmp_path
):
    send(phone, encrypted_version, "uuid:orphan", "ก", [], deprecated="uuid:never-sent")
    send(phone, encrypted_version, "uuid:early-v2", "ข2", [], deprecated="uuid:early")
    send(phone, encrypted_version, "uuid:early", "ข", [])  # ingest would not have linked it either
    main, _, (result, _) = exported_main(settings, session, form, tmp_path)
    assert [(row["KEY"], row["Edits"]) for row in main] == [("uuid:orphan", 0), ("uuid:early-v2", 0), ("uuid:early", 0)]


def test_an_edit_that_cannot_be_decrypted_hides_nothing_and_rows_not_decrypted_stay_listed(
    settings, session, form, phone, encrypted_version, tmp_path
):
    send(phone, encrypted_version, "uuid:one", CANARY, [])
    send(phone, encrypted_version, "uuid:two", "ข", [])
    send(phone, encrypted_version, "uuid:broken", "ค", [], spoil=lambda c: c[:-16] + bytes(16))
    send(phone, encrypted_version, "uuid:one-v2", "ก2", [], deprecated="uuid:one", files=lambda files: files[1:])
    send(phone, encrypted_version, "uuid:two-v2", "ข2", [], deprecated="uuid:two", spoil=lambda c: c[:-16] + bytes(16))
    send(phone, encrypted_version, "uuid:mended", "ง", [], spoil=lambda c: c[:-16] + bytes(16))
    send(phone, encrypted_version, "uuid:mended-v2", "ง2", [], deprecated="uuid:mended")
    main, _, (result, failed) = exported_main(settings, session, form, tmp_path)
    assert [(row["KEY"], row["head_name"], row["Edits"]) for row in main] == [
        ("uuid:one", CANARY, 0), ("uuid:two", "ข", 0), ("uuid:mended-v2", "ง2", 1)
    ]
    assert {row["KEY"]: row["Code"] for row in failed} == {  # a version replaced is not exported at all, as for plain forms
        "uuid:broken": "encryption.corrupt_part",
        "uuid:one-v2": "encryption.missing_part",
        "uuid:two-v2": "encryption.corrupt_part",
    }
    assert result.not_decrypted == 3


# --------------------------------------------------------------------------- nothing in clear on the disk


def test_no_plaintext_reaches_the_data_folder_or_the_database(settings, session, form, phone, encrypted_version, tmp_path):
    members = [f"{CANARY} {n}" for n in range(300)]  # enough to spool the repeat sheet and its links
    send(phone, encrypted_version, "uuid:enc-1", CANARY, members)
    target = tmp_path / "outside" / "out.zip"
    target.parent.mkdir()
    export(settings, session, form, target, opened(session, form), media=True)
    canary = CANARY.encode("utf-8")
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            assert canary not in path.read_bytes(), path
    session.expire_all()
    for submission in session.scalars(select(Submission)):
        assert canary not in submission.xml and submission.data is None


def test_a_sealed_spool_reads_back_what_was_written_and_keeps_only_ciphertext(tmp_path):
    spool = temporary_file(Sealed(tmp_path), "test-")
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
    for n in range(2000):
        text.write(f"{CANARY} {n}\n")
    text.flush()
    raw = spool.raw._file
    raw.seek(0)
    assert CANARY.encode("utf-8") not in raw.read()
    text.seek(0)
    assert [line.rstrip("\n") for line in text] == [f"{CANARY} {n}" for n in range(2000)]
    text.close()


def test_attachments_of_envelopes_stay_encrypted_in_the_store(session, form, phone, encrypted_version, blobs):
    send(phone, encrypted_version, "uuid:enc-1", CANARY, [])
    for sha256 in session.scalars(select(SubmissionAttachment.sha256)):
        assert PHOTO not in blobs.read(sha256) and CANARY.encode() not in blobs.read(sha256)


# --------------------------------------------------------------------------- the command line


def test_the_command_line_exports_with_a_passphrase_file_or_a_private_key(
    run, settings, session, form, phone, encrypted_version, tmp_path
):
    send(phone, encrypted_version, "uuid:enc-1", CANARY, ["สมศรี"])
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_text(PASSPHRASE + "\n", encoding="utf-8")
    target = tmp_path / "out.zip"
    code, out, err = run("export", "hillnet", "household", "-o", str(target), "--media", "--passphrase-file", str(passphrase))
    assert code in (0, None), err
    assert "1 submissions" in out and "1 media files" in out
    with zipfile.ZipFile(target) as archive:
        assert [archive.read(n) for n in archive.namelist() if n.startswith("media/")] == [PHOTO]
    passphrase.write_text("a wrong passphrase\n", encoding="utf-8")
    code, out, err = run("export", "hillnet", "household", "-o", str(tmp_path / "x.xlsx"), "--passphrase-file", str(passphrase))
    assert code not in (0, None) and "passphrase" in err and not (tmp_path / "x.xlsx").exists()
    code, out, err = run("export", "hillnet", "household", "-o", str(tmp_path / "x.xlsx"))
    assert code not in (0, None) and "encrypted" in err
    pem = tmp_path / "other.pem"
    pem.write_bytes(encryption.make_key_pair().private_pem)
    code, out, err = run("export", "hillnet", "household", "-o", str(tmp_path / "x.xlsx"), "--private-key", str(pem))
    assert code not in (0, None) and "does not belong" in err


# --------------------------------------------------------------------------- the web


@pytest.fixture
def viewer(app, session, form):
    from .web_fixtures import sign_in

    user = accounts.create_user(session, "viewer@example.org", "a long enough password 1", realm="formserver")
    accounts.add_member(session, form.organisation, user, "viewer")
    session.commit()
    browser = app.test_client()
    sign_in(browser, app, user.id)
    return browser


def test_the_web_asks_for_the_passphrase_and_streams_the_export_without_keeping_it(
    viewer, settings, session, form, phone, encrypted_version
):
    from .web_fixtures import CSRF

    send(phone, encrypted_version, "uuid:enc-1", CANARY, ["สมศรี"])
    page = viewer.get("/orgs/hillnet/forms/household/export").get_data(as_text=True)
    assert 'name="passphrase"' in page and "ถามพี่นก" in page
    url = "/orgs/hillnet/forms/household/export"
    wrong = viewer.post(url, data={"csrf_token": CSRF, "passphrase": "not the right one at all"})
    assert wrong.status_code == 400 and "วลีรหัสผ่านนี้เปิดกุญแจ" in wrong.get_data(as_text=True)
    response = viewer.post(url, data={"csrf_token": CSRF, "passphrase": PASSPHRASE, "language": "th"})
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    book = settings.data_dir / "downloaded.xlsx"
    book.write_bytes(response.get_data())
    assert [row["head_name"] for row in table(read_workbook(book)["household"])] == [CANARY]
    book.unlink()
    session.expire_all()
    assert session.scalars(select(ExportJob)).all() == []
    assert not any(p.is_file() for p in settings.export_dir.rglob("*"))
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.create")).all()
    assert len(events) == 1 and PASSPHRASE not in str(events[0].details)
