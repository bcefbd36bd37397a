"""Submissions from phones: nothing an enumerator sends is lost, nothing is stored twice.

Through the application in-process (Flask's test client) with the Collect-like
client, signed in as a device account's token URL unless a test says otherwise.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import io
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select

from formserver import accounts, appusers, create_app, forms, submissions
from formserver.openrosa.multipart import multipart_boundary
from formserver.models import AuditEvent, Submission, SubmissionAttachment, SubmissionConflict
from formserver.problems import Problem

from .collect_client import as_xform, CollectClient, FlaskTransport, instance_xml, multipart_body
from .conftest import shared_path
from .servers import process_tree, running_server
from .xlsforms import simple_form, xlsform

THAI = range(0x0E00, 0x0E80)
PHOTO_FORM = xlsform(
    [
        {"type": "text", "name": "name", "label": "Name"},
        {"type": "image", "name": "photo", "label": "Photo"},
        {"type": "begin_repeat", "name": "member", "label": "Member"},
        {"type": "text", "name": "member_name", "label": "Name"},
        {"type": "image", "name": "member_photo", "label": "Photo"},
        {"type": "end_repeat", "name": "member"},
        {"type": "audio", "name": "voice", "label": "Voice"},
    ],
    settings={"form_id": "photos", "version": "3", "form_title": "Photos"},
)


def bilingual(message: str) -> bool:
    return " / " in message and any(ord(c) in THAI for c in message) and any("a" <= c <= "z" for c in message)


@pytest.fixture
def organisation(session, blobs):
    org = accounts.create_organisation(session, "hillnet", "เครือข่ายบนดอย")
    forms.add_form_version(session, blobs, org, as_xform(simple_form()), "simple.xml")
    forms.add_form_version(session, blobs, org, as_xform(PHOTO_FORM), "photos.xml")
    session.commit()
    return org


@pytest.fixture
def token(session, organisation) -> str:
    app_user = appusers.create_app_user(session, organisation, "phone 1")
    session.commit()
    return app_user.token


@pytest.fixture
def phone(client, token, session) -> CollectClient:
    return CollectClient(f"http://formserver.test/key/{token}/o/hillnet", FlaskTransport(client, before=session.commit))


def post(phone: CollectClient, xml: bytes, files=(), *, incomplete: bool = False):
    parts = [("xml_submission_file", "Simple_2026-01-01_10-00-00.xml", "text/xml", xml)]
    parts += [(name, name, "application/octet-stream", content) for name, content in files]
    body, content_type = multipart_body(parts, incomplete=incomplete)
    return phone.request("POST", phone.submission_url, body=body, headers={"Content-Type": content_type})


def stored(session, instance_id: str) -> list[Submission]:
    session.expire_all()
    return list(session.scalars(select(Submission).where(Submission.instance_id == instance_id).order_by(Submission.id)))


def raw_post(app, path: str, stream, content_length: int, content_type: str) -> tuple[int, bytes]:
    """POST a body from any stream, declaring ``content_length`` (the test client insists on seekable bodies)."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path=path, base_url="http://formserver.test", method="POST").get_environ()
    environ.update({"wsgi.input": stream, "CONTENT_LENGTH": str(content_length), "CONTENT_TYPE": content_type})
    body, status, _headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), b"".join(body)


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- storing


def test_a_submission_is_stored_byte_for_byte_with_its_version_sender_device_and_time(phone, session, organisation):
    xml = instance_xml("simple", "1", "uuid:s1", "<name>สมชาย</name><age>41</age>") + b"\n"
    response = post(phone, xml)
    assert response.status == 201
    assert response.header("Content-Type") == "text/xml; charset=utf-8"
    assert response.header("X-OpenRosa-Version") == "1.0"
    assert bilingual(response.message)
    [submission] = stored(session, "uuid:s1")
    assert submission.xml == xml
    assert submission.xml_sha256 == hashlib.sha256(xml).hexdigest()
    assert submission.form_version.version == "1"
    assert submission.organisation_id == organisation.id
    assert submission.submitter_app_user_id is not None and submission.submitter_user_id is None
    assert submission.device_id == "collect:AbCdEf0123456789"
    assert submission.user_agent.startswith("org.odk.collect.android/")
    assert submission.received_at is not None
    assert submission.is_current and submission.root_id is None


def test_head_and_get_on_submission_answer_204_with_the_accepted_content_length(phone, settings):
    for method in ("HEAD", "GET"):
        response = phone.request(method, phone.submission_url)
        assert response.status == 204
        assert response.header("X-OpenRosa-Accept-Content-Length") == str(settings.accept_content_length)
        assert response.header("X-OpenRosa-Version") == "1.0"


def test_other_methods_on_submission_are_405_naming_the_allowed_ones(client, token):
    response = client.put(f"/key/{token}/o/hillnet/submission", data=b"x")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST"


def test_an_unexpected_failure_is_500_with_a_message_and_nothing_is_stored(phone, session, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr("formserver.openrosa.submission.ingest", broken)
    response = post(phone, instance_xml("simple", "1", "uuid:failing"))
    assert response.status == 500
    assert "nothing was kept" in response.message and bilingual(response.message)
    assert count(session, Submission) == 0
    monkeypatch.undo()
    assert post(phone, instance_xml("simple", "1", "uuid:failing")).status == 201


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/form-data; boundary=----OkHttp123", "----OkHttp123"),
        ('Multipart/Form-Data; charset=utf-8; boundary="a b:c"', "a b:c"),
        ("multipart/form-data;boundary=x", "x"),
        ("multipart/form-data", None),
        ("multipart/form-data; boundary=", None),
        ("multipart/mixed; boundary=x", None),
        ("text/xml", None),
        (None, None),
    ],
)
def test_the_boundary_is_read_from_a_multipart_form_data_content_type(content_type, boundary):
    assert multipart_boundary(content_type) == boundary


def test_attachments_expected_counts_binary_fields_with_a_value_in_repeats_too(phone, session):
    body = (
        "<name>A</name><photo>p.jpg</photo>"
        "<member><member_name>B</member_name><member_photo>m1.jpg</member_photo></member>"
        "<member><member_name>C</member_name><member_photo/></member>"
        "<member><member_name>D</member_name><member_photo>m3.jpg</member_photo></member>"
        "<voice></voice>"
    )
    assert post(phone, instance_xml("photos", "3", "uuid:p1", body), [("p.jpg", b"p")]).status == 201
    [submission] = stored(session, "uuid:p1")
    assert submission.attachments_expected == 3
    assert [a.name for a in submission.attachments] == ["p.jpg"]


def test_attachments_are_content_addressed_and_the_client_file_name_is_only_data(phone, session, blobs):
    xml = instance_xml("photos", "3", "uuid:p2", "<photo>passwd</photo>")
    assert post(phone, xml, [("passwd", b"secret"), ("x.jpg", b"jpeg")]).status == 201  # names with folders: test_bad_input
    [submission] = stored(session, "uuid:p2")
    by_name = {a.name: a for a in submission.attachments}
    assert set(by_name) == {"passwd", "x.jpg"}
    assert by_name["passwd"].sha256 == hashlib.sha256(b"secret").hexdigest()
    assert blobs.read(by_name["passwd"].sha256) == b"secret"
    assert by_name["passwd"].size == 6
    assert not list((blobs.root / "tmp").iterdir())  # no temporary files left behind


def test_ingest_can_be_called_without_http(session, blobs, organisation):
    xml = instance_xml("photos", "3", "uuid:direct", "<photo>a.jpg</photo>")
    files = [submissions.ReceivedFile.from_bytes(blobs, "a.jpg", b"jpeg", "image/jpeg")]
    outcome = submissions.ingest(session, blobs, organisation, xml, files, device_id="cli")
    assert outcome.status == "created" and outcome.attachments_added == ["a.jpg"]
    again = submissions.ingest(session, blobs, organisation, xml, [])
    assert again.status == "duplicate" and again.submission.id == outcome.submission.id


# --------------------------------------------------------------------------- duplicates, split uploads, conflicts


def test_duplicate_instance_id_is_not_stored_twice(phone, session):
    xml = instance_xml("simple", "1", "uuid:d1")
    assert post(phone, xml).status == 201
    again = post(phone, xml)
    assert again.status == 201 and bilingual(again.message)
    assert len(stored(session, "uuid:d1")) == 1


def test_a_split_upload_completes_the_submission_across_posts(phone, session):
    xml = instance_xml("photos", "3", "uuid:split", "<photo>a.jpg</photo><voice>b.m4a</voice>")
    assert post(phone, xml, [("a.jpg", b"a" * 1000)], incomplete=True).status == 201
    [submission] = stored(session, "uuid:split")
    assert [a.name for a in submission.attachments] == ["a.jpg"]
    assert post(phone, xml, [("b.m4a", b"b" * 1000)]).status == 201
    [submission] = stored(session, "uuid:split")
    assert [a.name for a in submission.attachments] == ["a.jpg", "b.m4a"]
    assert submission.attachments_expected == 2


def test_a_retry_after_a_lost_answer_adds_only_the_missing_files(phone, session):
    xml = instance_xml("photos", "3", "uuid:retry", "<photo>a.jpg</photo><voice>b.m4a</voice>")
    assert post(phone, xml, [("a.jpg", b"first")]).status == 201
    assert post(phone, xml, [("a.jpg", b"other bytes"), ("b.m4a", b"voice")]).status == 201
    [submission] = stored(session, "uuid:retry")
    by_name = {a.name: a.sha256 for a in submission.attachments}
    assert by_name == {"a.jpg": hashlib.sha256(b"first").hexdigest(), "b.m4a": hashlib.sha256(b"voice").hexdigest()}


def test_different_xml_under_a_stored_instance_id_is_409_and_kept_aside_for_a_manager(phone, session):
    first = instance_xml("simple", "1", "uuid:c1", "<name>A</name>")
    second = instance_xml("simple", "1", "uuid:c1", "<name>B</name>")
    assert post(phone, first).status == 201
    refused = post(phone, second, [("note.txt", b"kept")])
    assert refused.status == 409
    assert bilingual(refused.message) and "uuid:c1" in refused.message
    assert post(phone, second).status == 409  # the same differing XML again: still one conflict
    [submission] = stored(session, "uuid:c1")
    assert submission.xml == first
    [conflict] = session.scalars(select(SubmissionConflict)).all()
    assert conflict.submission_id == submission.id and conflict.xml == second
    assert conflict.device_id == "collect:AbCdEf0123456789" and conflict.submitter_app_user_id is not None
    assert [a["name"] for a in conflict.attachments] == ["note.txt"]
    assert session.scalar(select(func.count()).where(AuditEvent.action == "submission.conflict")) >= 1


def test_an_edit_with_deprecated_id_is_stored_as_a_new_version_of_the_record(phone, session):
    original = instance_xml("simple", "1", "uuid:e1", "<name>A</name>")
    edit = instance_xml("simple", "1", "uuid:e2", "<name>B</name>", deprecated_id="uuid:e1")
    edit_of_edit = instance_xml("simple", "1", "uuid:e3", "<name>C</name>", deprecated_id="uuid:e2")
    assert post(phone, original).status == 201
    response = post(phone, edit)
    assert response.status == 201 and "Edited" in response.message
    assert post(phone, edit_of_edit).status == 201
    [first], [second], [third] = stored(session, "uuid:e1"), stored(session, "uuid:e2"), stored(session, "uuid:e3")
    assert second.root_id == first.id and third.root_id == first.id
    assert (first.is_current, second.is_current, third.is_current) == (False, False, True)
    assert third.deprecated_id == "uuid:e2"


def test_a_deprecated_id_naming_nothing_stored_is_kept_as_a_new_record(phone, session):
    assert post(phone, instance_xml("simple", "1", "uuid:n2", deprecated_id="uuid:never-sent")).status == 201
    [submission] = stored(session, "uuid:n2")
    assert submission.root_id is None and submission.is_current and submission.deprecated_id == "uuid:never-sent"


def test_the_corpus_edit_of_a_collect_instance_becomes_its_new_version(client, session, blobs, organisation, phone):
    folder = shared_path("corpus", "xlsforms", "onadata", "transportation")
    forms.add_form_version(session, blobs, organisation, (folder / "transportation.xlsx").read_bytes(), "transportation.xlsx")
    session.commit()
    original = (folder / "transport_2011-07-25_19-05-49.xml").read_bytes()
    edited = (folder / "transport_2011-07-25_19-05-49_edited.xml").read_bytes()
    assert post(phone, original, [("1335783522563.jpg", b"jpeg")]).status == 201
    assert post(phone, edited).status == 201
    [first] = stored(session, "uuid:5b2cc313-fc09-437e-8149-fcd32f695d41")
    [second] = stored(session, "uuid:6b2cc313-fc09-437e-8139-fcd32f695d41")
    assert first.xml == original and second.xml == edited
    assert second.root_id == first.id and not first.is_current and second.is_current
    assert first.attachments_expected == 1 and first.attachments[0].name == "1335783522563.jpg"
    # Instances without a version attribute are taken as the served version.
    no_version = (folder / "transport_2011-07-25_19-06-01.xml").read_bytes()
    assert post(phone, no_version).status == 201
    [third] = stored(session, "uuid:9c6f3468-cfda-46e8-84c1-75458e72805d")
    assert third.form_version.version == "2014111"


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "xml, code, words",
    [
        (instance_xml("simple", "1", "uuid:t1")[:-20], 400, "not valid XML"),
        (b"", 400, "not valid XML"),
        (b"not xml at all", 400, "not valid XML"),
        (b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
         b'<data id="simple" version="1"><name>&e;</name><meta><instanceID>uuid:x1</instanceID></meta></data>',
         400, "not valid XML"),
        (b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
         b'<data id="simple" version="1"><name>&b;</name><meta><instanceID>uuid:x2</instanceID></meta></data>',
         400, "DOCTYPE"),
        (b'<data version="1"><meta><instanceID>uuid:x3</instanceID></meta></data>', 400, "which form"),
        (b'<data id="simple" version="1"><name>A</name></data>', 400, "instanceID"),
        (instance_xml("nothing_like_it", "1", "uuid:x4"), 404, "no form nothing_like_it"),
        (instance_xml("simple", "99", "uuid:x5"), 404, "has no version 99"),
    ],
    ids=["truncated", "empty", "not-xml", "external-entity", "entity-expansion", "no-form-id", "no-instance-id",
         "unknown-form", "unknown-version"],
)
def test_a_submission_that_cannot_be_read_or_placed_is_refused_and_nothing_is_stored(phone, session, blobs, xml, code, words):
    response = post(phone, xml, [("a.jpg", b"jpeg")])
    assert response.status == code
    assert words in response.message and bilingual(response.message)
    assert count(session, Submission) == 0 and count(session, SubmissionAttachment) == 0
    assert not (blobs.path(hashlib.sha256(b"jpeg").hexdigest())).exists()
    assert not list((blobs.root / "tmp").iterdir())


def test_a_post_without_the_xml_part_or_not_multipart_is_400(phone, session):
    body, content_type = multipart_body([("a.jpg", "a.jpg", "image/jpeg", b"jpeg")])
    response = phone.request("POST", phone.submission_url, body=body, headers={"Content-Type": content_type})
    assert response.status == 400 and "xml_submission_file" in response.message
    response = phone.request("POST", phone.submission_url, body=b"<data/>", headers={"Content-Type": "text/xml"})
    assert response.status == 400 and "xml_submission_file" in response.message
    assert count(session, Submission) == 0


def test_an_upload_cut_off_before_its_end_is_400_and_nothing_is_stored(app, token, session, blobs):
    body, content_type = multipart_body(
        [("xml_submission_file", "x.xml", "text/xml", instance_xml("simple", "1", "uuid:cut")), ("a.jpg", "a.jpg", "image/jpeg", b"a" * 10_000)]
    )
    session.commit()
    for cut in (body[: len(body) // 2], body[:-3]):
        status, answer = raw_post(app, f"/key/{token}/o/hillnet/submission", io.BytesIO(cut), len(body), content_type)
        assert status == 400 and b"cut off" in answer
    assert count(session, Submission) == 0
    assert not list((blobs.root / "tmp").iterdir())


def test_a_closing_form_still_accepts_and_a_closed_form_refuses_with_409(phone, session, organisation):
    form = forms.form_by_id(session, organisation, "simple")
    forms.set_state(session, form, "closing")
    session.commit()
    assert post(phone, instance_xml("simple", "1", "uuid:closing")).status == 201
    forms.set_state(session, form, "closed")
    session.commit()
    refused = post(phone, instance_xml("simple", "1", "uuid:closed"))
    assert refused.status == 409
    assert "closed" in refused.message and bilingual(refused.message)
    assert stored(session, "uuid:closed") == []


def test_an_attachment_over_the_limit_is_413_with_a_message_and_nothing_is_stored(settings, token, session, blobs):
    app = create_app(dataclasses.replace(settings, accept_content_length=100_000))
    phone = CollectClient(f"http://formserver.test/key/{token}/o/hillnet", FlaskTransport(app.test_client(), session.commit))
    xml = instance_xml("photos", "3", "uuid:big", "<photo>big.jpg</photo>")
    response = post(phone, xml, [("small.jpg", b"s" * 10), ("big.jpg", b"b" * 100_001)])
    assert response.status == 413
    assert "big.jpg" in response.message and "0.1 MB" in response.message and bilingual(response.message)
    assert count(session, Submission) == 0
    assert not list((blobs.root / "tmp").iterdir())
    assert post(phone, xml, [("big.jpg", b"b" * 100_000)]).status == 201
    app.extensions["formserver.db"].dispose()


class _GeneratedBody(io.RawIOBase):
    """A multipart body made on the fly, so that the test itself holds no 50 MB in memory."""

    def __init__(self, head: bytes, size: int, tail: bytes):
        self.pieces = [head, None, tail]
        self.size, self.sent = size, 0
        self.block = bytes(range(256)) * 256  # 64 KiB
        self.length = len(head) + size + len(tail)

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._next(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _next(self, n: int) -> bytes:
        while self.pieces:
            if self.pieces[0] is None:
                if self.sent < self.size:
                    take = min(n, len(self.block), self.size - self.sent)
                    self.sent += take
                    return self.block[:take]
                self.pieces.pop(0)
            else:
                piece = self.pieces.pop(0)
                if piece:
                    return piece
        return b""


FIFTY_MB = 50 * 1024 * 1024
BOUNDARY = "flatmemoryboundary"


def _fifty_mb_upload(instance_id: str) -> _GeneratedBody:
    xml = instance_xml("photos", "3", instance_id, "<photo>video.mp4</photo>")
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"x.xml\"\r\n"
        f"Content-Type: text/xml\r\n\r\n"
    ).encode() + xml + (
        f"\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"video.mp4\"; filename=\"video.mp4\"\r\n"
        f"Content-Type: video/mp4\r\n\r\n"
    ).encode()
    return _GeneratedBody(head, FIFTY_MB, f"\r\n--{BOUNDARY}--\r\n".encode())


def _check_fifty_mb_stored(session, blobs, instance_id: str) -> None:
    [submission] = stored(session, instance_id)
    [video] = submission.attachments
    assert video.size == FIFTY_MB and blobs.path(video.sha256).stat().st_size == FIFTY_MB


def test_upload_memory_stays_flat_for_a_50_mb_attachment(app, token, session, blobs):
    body = _fifty_mb_upload("uuid:fifty")
    session.commit()
    tracemalloc.start()
    try:
        status, _ = raw_post(
            app,
            f"/key/{token}/o/hillnet/submission?deviceID=collect%3AAbCdEf0123456789",
            io.BufferedReader(body, buffer_size=64 * 1024),
            body.length,
            f"multipart/form-data; boundary={BOUNDARY}",
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 201
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while receiving a 50 MB file"
    _check_fifty_mb_stored(session, blobs, "uuid:fifty")


def _peak_rss_kib(pids: list[int]) -> dict[int, int]:
    peaks = {}
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = int(line.split()[1])
    return peaks


def test_the_server_streams_a_50_mb_attachment_to_disk_without_holding_it(environment, token, session, blobs):
    """The same through ``formserver serve``: its front spools the body to disk as it arrives, not to memory."""
    session.commit()
    with running_server(environment, workers=1) as (base, pid):
        path = f"/key/{token}/o/hillnet/submission"
        connection = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=60)
        connection.request("HEAD", path)
        assert connection.getresponse().read() == b""
        before = _peak_rss_kib(process_tree(pid))
        body = _fifty_mb_upload("uuid:fifty-served")
        connection.request(
            "POST", path, body=io.BufferedReader(body, buffer_size=64 * 1024),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Length": str(body.length)},
        )
        answer = connection.getresponse()
        assert answer.status == 201, answer.read()
        answer.read()
        growth = max(peak - before.get(p, 0) for p, peak in _peak_rss_kib(process_tree(pid)).items())
        connection.close()
    assert growth < 20 * 1024, f"a server process grew by {growth / 1024:.0f} MiB while receiving a 50 MiB file"
    session.expire_all()
    _check_fifty_mb_stored(session, blobs, "uuid:fifty-served")


# --------------------------------------------------------------------------- managers' decisions


def _conflict(phone, session, instance_id: str):
    assert post(phone, instance_xml("photos", "3", instance_id, "<name>old</name><photo>a.jpg</photo>"), [("a.jpg", b"old photo")]).status == 201
    assert post(phone, instance_xml("photos", "3", instance_id, "<name>new</name><voice>v.m4a</voice><photo>a.jpg</photo>"), [("v.m4a", b"voice")]).status == 409
    session.expire_all()
    return session.scalars(select(SubmissionConflict)).one()


def test_keep_stored_resolves_a_conflict_and_changes_nothing_else(phone, session, organisation):
    conflict = _conflict(phone, session, "uuid:k1")
    assert submissions.conflicts_of(session, organisation) == [conflict]
    current = submissions.resolve_conflict(session, conflict, "keep_stored", actor=None)
    session.commit()
    assert current.instance_id == "uuid:k1" and b"old" in current.xml
    assert submissions.conflicts_of(session, organisation) == []
    assert submissions.conflicts_of(session, organisation, unresolved_only=False) == [conflict]
    with pytest.raises(Problem, match="already resolved"):
        submissions.resolve_conflict(session, conflict, "take_new", actor=None)


def test_take_new_stores_the_kept_aside_xml_as_an_edit_and_both_copies_then_resend_cleanly(phone, session, organisation):
    conflict = _conflict(phone, session, "uuid:k2")
    old_xml = conflict.submission.xml
    current = submissions.resolve_conflict(session, conflict, "take_new", actor=None)
    session.commit()
    [previous] = session.scalars(select(Submission).where(Submission.id == conflict.submission_id)).all()
    assert current.xml == conflict.xml and current.instance_id == "uuid:k2" and current.is_current
    assert previous.xml == old_xml and not previous.is_current and current.root_id == previous.id
    assert previous.instance_id.startswith("uuid:k2~superseded-")
    assert sorted(a.name for a in current.attachments) == ["a.jpg", "v.m4a"]
    # Either phone sending its copy again is acknowledged, not refused again.
    assert post(phone, conflict.xml).status == 201
    assert post(phone, old_xml).status == 201
    assert submissions.conflicts_of(session, organisation) == []
    with pytest.raises(Problem, match="not a resolution"):
        submissions.resolve_conflict(session, conflict, "merge", actor=None)


def test_a_conflict_of_another_organisation_cannot_be_read(phone, session, organisation):
    conflict = _conflict(phone, session, "uuid:k3")
    other = accounts.create_organisation(session, "lowland", "Lowland")
    with pytest.raises(Problem) as refused:
        submissions.conflict_by_id(session, other, conflict.id)
    assert refused.value.code == "submission.conflict_not_found"
    assert submissions.conflict_by_id(session, organisation, str(conflict.id)) is conflict


class _Trickle(io.RawIOBase):
    """A body that arrives in pieces of random sizes, as from a slow phone."""

    def __init__(self, data: bytes, seed: int):
        import random

        self.data, self.position, self.rng = data, 0, random.Random(seed)

    def readable(self):
        return True

    def read(self, size=-1):
        take = self.rng.randint(1, 40)
        piece = self.data[self.position : self.position + take]
        self.position += len(piece)
        return piece


def test_the_multipart_reader_finds_every_part_whatever_the_chunk_boundaries(blobs):
    from formserver.openrosa.multipart import read_upload

    xml = instance_xml("photos", "3", "uuid:trickle", "<photo>a.jpg</photo>")
    tricky = b"\r\n--almost the boundary\r\n-" * 20
    body, content_type = multipart_body(
        [("xml_submission_file", "x.xml", "text/xml", xml), ("a.jpg", "a.jpg", "image/jpeg", tricky), ("b.bin", "b.bin", None, b"")],
        incomplete=True,
    )
    for seed in range(30):
        upload = read_upload(_Trickle(b"preamble\r\n" + body + b"epilogue", seed), content_type, blobs, limit=10_000)
        assert upload.xml == xml and upload.incomplete
        assert [(f.name, f.content_type, f.blob.size) for f in upload.files] == [
            ("a.jpg", "image/jpeg", len(tricky)), ("b.bin", "application/octet-stream", 0)
        ]
        first = upload.files[0].blob
        first.commit()
        assert blobs.read(first.sha256) == tricky
        upload.discard()
