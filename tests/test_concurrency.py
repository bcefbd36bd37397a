"""Things happening at the same moment, against a real ``formserver serve`` (2 workers × threads).

Phones sending the same submission, an edit beside resends of its original, different edits of one
record, split uploads of one instance racing each other, and an export taken while households arrive. Each race is released
together by a barrier from one thread per phone, each phone on its own keep-alive connection.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import zipfile
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from formserver import accounts, appusers, forms
from formserver.config import Settings
from formserver.db import Database
from formserver.exports import jobs
from formserver.models import ExportJob, Submission, SubmissionAttachment
from formserver.storage import BlobStore

from .collect_client import CollectClient, HttpTransport, as_xform, instance_xml
from .web_fixtures import intake_form, submit
from .xlsforms import xlsform

PHONES = 20
PHOTO_FORM = xlsform(
    [{"type": "text", "name": "name", "label": "Name"}, {"type": "image", "name": "photo", "label": "Photo"}],
    settings={"form_id": "photos", "version": "1"},
)


@dataclass
class Server:
    url: str  # a device account's Collect server URL
    database: Database
    settings: Settings


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_database):
    from .servers import running_server, server_environment

    data_dir = tmp_path_factory.mktemp("concurrency") / "data"
    data_dir.mkdir()
    settings = Settings(
        data_dir=data_dir,
        database_url=migrated_database(),
        secret_key="concurrency-secret-key",
        public_url="http://formserver.test",
        validate_with_java=False,
    )
    database = Database(settings)
    with database.session_scope() as session:
        organisation = accounts.create_organisation(session, "hillnet", "Hill network")
        blobs = BlobStore(settings.blob_dir)
        forms.add_form_version(session, blobs, organisation, as_xform(PHOTO_FORM), "photos.xml")
        forms.add_form_version(session, blobs, organisation, as_xform(intake_form("1")), "intake.xml")
        token = appusers.create_app_user(session, organisation, "phone").token
    log = tmp_path_factory.mktemp("concurrency-log") / "server.log"
    with running_server(server_environment(settings), workers=2, log=log) as (base, _pid):
        yield Server(f"{base}/key/{token}/o/hillnet", database, settings)
    database.dispose()


def all_at_once(function, count: int = PHONES) -> list:
    """Run ``function(i)`` in ``count`` threads released together; return their results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = function(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def phones(server):
    """One phone per thread, each with its own keep-alive connection, closed afterwards."""
    made = [CollectClient(server.url, HttpTransport()) for _ in range(PHONES)]
    yield made
    for phone in made:
        phone.transport.close()


def rows(database, instance_id: str) -> tuple[int, list[str]]:
    with database.session_scope() as session:
        count = session.scalar(select(func.count()).where(Submission.instance_id == instance_id))
        names = session.scalars(
            select(SubmissionAttachment.name).join(Submission).where(Submission.instance_id == instance_id)
            .order_by(SubmissionAttachment.name)
        ).all()
    return count, list(names)


def versions(database, *instance_ids: str) -> list[tuple[str, bool, str | None]]:
    """(instanceID, current?, instanceID of the record's first version) of each row, by instanceID."""
    with database.session_scope() as session:
        stored = session.scalars(select(Submission).where(Submission.instance_id.in_(instance_ids))).all()
        first = {s.id: s.instance_id for s in stored}
        return sorted((s.instance_id, s.is_current, first.get(s.root_id)) for s in stored)


# --------------------------------------------------------------------------- phones at the same moment


def test_twenty_identical_submissions_at_the_same_moment_are_all_acknowledged_and_stored_once(server, phones):
    for round_ in range(3):
        instance_id = f"uuid:same-moment-{round_}"
        xml = instance_xml("photos", "1", instance_id, "<name>พร้อมกัน</name><photo>p.jpg</photo>")
        statuses = all_at_once(lambda i: phones[i].send_instance(xml, [("p.jpg", b"photo")]).last.status)
        assert statuses == [201] * PHONES
        assert rows(server.database, instance_id) == (1, ["p.jpg"])


def test_parts_of_one_split_upload_arriving_together_all_attach_to_one_submission(server, phones):
    xml = instance_xml("photos", "1", "uuid:split-together", "<photo>f0.jpg</photo>")
    statuses = all_at_once(lambda i: phones[i].send_instance(xml, [(f"f{i}.jpg", bytes([i]) * 1000)]).last.status)
    assert statuses == [201] * PHONES
    assert rows(server.database, "uuid:split-together") == (1, sorted(f"f{i}.jpg" for i in range(PHONES)))


def test_whole_split_uploads_of_one_instance_racing_each_other_end_complete(server, phones):
    """A phone retrying an upload while the first is still sending: every file stored once, none lost."""
    files = [(f"part{i}.jpg", bytes([i]) * 3000) for i in range(5)]
    xml = instance_xml("photos", "1", "uuid:split-race", "<photo>part0.jpg</photo>")
    results = all_at_once(lambda i: phones[i].send_instance(xml, files, limit=len(xml) + 4000), count=6)
    assert all(result.ok and len(result.posts) == len(files) for result in results)  # one file a request
    with server.database.session_scope() as session:
        stored = session.execute(
            select(SubmissionAttachment.name, SubmissionAttachment.sha256).join(Submission)
            .where(Submission.instance_id == "uuid:split-race").order_by(SubmissionAttachment.name)
        ).all()
    assert [tuple(row) for row in stored] == [(name, hashlib.sha256(content).hexdigest()) for name, content in files]
    assert rows(server.database, "uuid:split-race")[0] == 1


def test_different_xml_at_the_same_moment_stores_one_and_keeps_the_others_aside(server, phones):
    statuses = all_at_once(
        lambda i: phones[i].send_instance(instance_xml("photos", "1", "uuid:race", f"<name>{i}</name>")).last.status
    )
    assert sorted(statuses) == [201] + [409] * (PHONES - 1)
    assert rows(server.database, "uuid:race")[0] == 1


def test_an_edit_and_resends_of_its_original_at_the_same_moment_end_with_the_edit_current(server, phones):
    for round_ in range(3):
        first, edited = f"uuid:kept-{round_}", f"uuid:kept-{round_}-edit"
        original = instance_xml("photos", "1", first, "<name>เดิม</name><photo>p.jpg</photo>")
        edit = instance_xml("photos", "1", edited, "<name>แก้แล้ว</name><photo>p.jpg</photo>", deprecated_id=first)
        assert phones[0].send_instance(original, [("p.jpg", b"photo")]).last.status == 201
        sent = all_at_once(lambda i: phones[i].send_instance(edit if i % 2 else original, [("p.jpg", b"photo")]).last.status)
        assert sent == [201] * PHONES
        assert versions(server.database, first, edited) == [(first, False, None), (edited, True, first)]
        assert rows(server.database, edited) == (1, ["p.jpg"])


def test_different_edits_of_one_record_at_the_same_moment_leave_one_version_current(server, phones):
    """On PostgreSQL each edit's update used to miss the others' uncommitted rows: up to 13 of 20 stayed current."""
    for round_ in range(3):
        first = f"uuid:edited-twice-{round_}"
        edits = [f"{first}-{i}" for i in range(PHONES)]
        assert phones[0].send_instance(instance_xml("photos", "1", first, "<name>เดิม</name>")).last.status == 201
        sent = all_at_once(
            lambda i: phones[i].send_instance(instance_xml("photos", "1", edits[i], f"<name>{i}</name>", deprecated_id=first)).last.status
        )
        assert sent == [201] * PHONES
        ended = versions(server.database, first, *edits)
        assert [current for _id, current, _first in ended].count(True) == 1
        assert {root for instance_id, _current, root in ended if instance_id != first} == {first}


def test_an_edit_sent_at_the_same_moment_as_its_original_ends_as_if_one_came_first(server, phones):
    """Before the original is stored, an edit is a record of its own (README): either order, nothing in between."""
    one_after_the_other = {
        "original first": lambda first, edited: [(first, False, None), (edited, True, first)],
        "edit first": lambda first, edited: [(first, True, None), (edited, True, None)],
    }
    for round_ in range(3):
        first, edited = f"uuid:together-{round_}", f"uuid:together-{round_}-edit"
        original = instance_xml("photos", "1", first, "<name>เดิม</name>")
        edit = instance_xml("photos", "1", edited, "<name>แก้แล้ว</name>", deprecated_id=first)
        sent = all_at_once(lambda i: phones[i].send_instance(edit if i % 2 else original).last.status)
        assert sent == [201] * PHONES
        ended = versions(server.database, first, edited)
        assert ended in [order(first, edited) for order in one_after_the_other.values()]


# --------------------------------------------------------------------------- an export while households arrive

HOUSEHOLDS = 30


def household(instance_id: str, members: int, *, deprecated_id: str | None = None) -> bytes:
    """A household of the intake form with ``members`` members and a photo."""
    people = "".join(f"<member><member_name>สมาชิก {n}</member_name></member>" for n in range(members))
    meta = f"<instanceID>{instance_id}</instanceID>" + (f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else "")
    return (
        f'<data id="intake" version="1"><name>ครัวเรือน {instance_id}</name><consent>yes</consent>'
        f"<household><members>{members}</members><photo>photo.jpg</photo></household>{people}<meta>{meta}</meta></data>"
    ).encode("utf-8")


def csv_tables(path) -> tuple[dict[str, list[dict]], dict[str, int]]:
    """The tables of a CSV export (rows under the two header rows) and how many media files each submission id has."""
    tables, media = {}, {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("media/"):
                submission_id = name.split("/")[1]
                media[submission_id] = media.get(submission_id, 0) + 1
                continue
            lines = list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")))
            tables[name.removesuffix(".csv")] = [dict(zip(lines[0], line)) for line in lines[2:]]
    return tables, media


def test_an_export_taken_while_households_arrive_holds_whole_households_of_one_moment(server, phones, monkeypatch):
    """Households, edits and late photos arrive after the export counted its rows and before it reads them:
    the file holds exactly the households stored when it began, each with all its members and the photos it
    says it has, and nothing of what arrived."""
    with server.database.session_scope() as session:
        organisation = accounts.organisation_by_slug(session, "hillnet")
        blobs = BlobStore(server.settings.blob_dir)
        for n in range(HOUSEHOLDS):  # even: with their photo; odd: the photo still to come (a split upload)
            photo = [("photo.jpg", b"photo %d" % n, "image/jpeg")] if n % 2 == 0 else []
            submit(session, blobs, organisation, household(f"uuid:hh-{n}", n % 4 + 1), files=photo)
        form = forms.form_by_id(session, organisation, "intake")
    arrivals = [
        *[(household(f"uuid:new-{n}", 2), [("photo.jpg", b"new")]) for n in range(8)],
        *[(household(f"uuid:hh-{n}-edit", 9, deprecated_id=f"uuid:hh-{n}"), [("photo.jpg", b"edit")]) for n in range(6)],
        *[(household(f"uuid:hh-{n}", n % 4 + 1), [("photo.jpg", b"late")]) for n in range(1, 13, 2)],
    ]
    arrived = []
    real = jobs.run_export

    def with_arrivals(*args, progress, **options):
        def report(done, total):
            progress(done, total)
            if not arrived:  # the first report comes after the count, before any row is read
                arrived.extend(all_at_once(lambda i: phones[i].send_instance(*arrivals[i]).last.status))

        return real(*args, progress=report, **options)

    monkeypatch.setattr(jobs, "run_export", with_arrivals)
    with server.database.session_scope() as session:
        job = jobs.start_export(session, server.settings, session.merge(organisation), session.merge(form),
                                {"format": "csv", "media": True}, requested_by=None)
    assert jobs.wait(job.id, timeout=60)
    assert arrived == [201] * PHONES
    with server.database.session_scope() as session:
        done = session.get(ExportJob, job.id)
        assert (done.status, done.rows_done, done.rows_total) == ("complete", HOUSEHOLDS, HOUSEHOLDS)
        ids = dict(session.execute(select(Submission.instance_id, Submission.id)).all())
        path = jobs.export_file(server.settings, done)
    tables, media = csv_tables(path)
    assert sorted(row["KEY"] for row in tables["intake"]) == sorted(f"uuid:hh-{n}" for n in range(HOUSEHOLDS))
    members = {}
    for row in tables["member"]:
        members[row["PARENT_KEY"]] = members.get(row["PARENT_KEY"], 0) + 1
    for row in tables["intake"]:
        n = int(row["KEY"].rsplit("-", 1)[1])
        assert int(row["household-members"]) == members[row["KEY"]] == n % 4 + 1, row["KEY"]
        assert int(row["AttachmentsPresent"]) == media.get(str(ids[row["KEY"]]), 0) == (1 - n % 2), row["KEY"]
    assert set(media) <= {str(ids[row["KEY"]]) for row in tables["intake"]}
