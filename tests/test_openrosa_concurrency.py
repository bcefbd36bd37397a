"""Phones sending the same thing at the same moment, against a real ``formserver serve`` (2 workers × threads)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from formserver import accounts, appusers, forms
from formserver.config import Settings
from formserver.db import Database
from formserver.models import Submission, SubmissionAttachment
from formserver.storage import BlobStore

from .collect_client import as_xform, CollectClient, HttpTransport, instance_xml
from .servers import running_server, server_environment
from .xlsforms import xlsform

THREADS = 8
PHOTO_FORM = xlsform(
    [{"type": "text", "name": "name", "label": "Name"}, {"type": "image", "name": "photo", "label": "Photo"}],
    settings={"form_id": "photos", "version": "1"},
)


@pytest.fixture(scope="module")
def server(tmp_path_factory, migrated_database):
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
        forms.add_form_version(session, BlobStore(settings.blob_dir), organisation, as_xform(PHOTO_FORM), "photos.xml")
        token = appusers.create_app_user(session, organisation, "phone").token
    log = tmp_path_factory.mktemp("concurrency-log") / "server.log"
    with running_server(server_environment(settings), workers=2, log=log) as (base, _pid):
        yield f"{base}/key/{token}/o/hillnet", database
    database.dispose()


def all_at_once(function, count: int = THREADS) -> list:
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
    made = [CollectClient(server[0], HttpTransport()) for _ in range(THREADS)]
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


def test_identical_submissions_at_the_same_moment_are_all_acknowledged_and_stored_once(server, phones):
    _url, database = server
    for round_ in range(3):
        instance_id = f"uuid:same-moment-{round_}"
        xml = instance_xml("photos", "1", instance_id, "<name>พร้อมกัน</name><photo>p.jpg</photo>")
        statuses = all_at_once(lambda i: phones[i].send_instance(xml, [("p.jpg", b"photo")]).last.status)
        assert statuses == [201] * THREADS
        assert rows(database, instance_id) == (1, ["p.jpg"])


def test_parts_of_one_split_upload_arriving_together_all_attach_to_one_submission(server, phones):
    _url, database = server
    xml = instance_xml("photos", "1", "uuid:split-together", "<photo>f0.jpg</photo>")
    statuses = all_at_once(lambda i: phones[i].send_instance(xml, [(f"f{i}.jpg", bytes([i]) * 1000)]).last.status)
    assert statuses == [201] * THREADS
    assert rows(database, "uuid:split-together") == (1, [f"f{i}.jpg" for i in range(THREADS)])


def test_different_xml_at_the_same_moment_stores_one_and_keeps_the_others_aside(server, phones):
    _url, database = server
    statuses = all_at_once(
        lambda i: phones[i].send_instance(instance_xml("photos", "1", "uuid:race", f"<name>{i}</name>")).last.status
    )
    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert rows(database, "uuid:race")[0] == 1
