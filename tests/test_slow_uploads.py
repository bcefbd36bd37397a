"""Slow and stalled phones never stop the others (issue #12): a real ``formserver serve``.

Before the front (formserver/front.py), 40 uploads that stopped half-way held every thread of
the server, each with its database connection, and no other phone was answered at all.
"""

from __future__ import annotations

import http.client
import os
import time
from pathlib import Path

from sqlalchemy import select

from formserver import accounts, appusers, forms
from formserver.models import Submission

from .collect_client import CollectClient, HttpTransport, as_xform, instance_xml, multipart_body
from .servers import process_tree, running_server
from .slow_phones import Upload, Uploads, post_request
from .xlsforms import xlsform

IDLE_SECONDS = 3
STALLED = 40
SLOW = 40
RATE = 1024  # bytes a second
PHOTO_FORM = xlsform(
    [{"type": "text", "name": "name", "label": "Name"}, {"type": "image", "name": "photo", "label": "Photo"}],
    settings={"form_id": "photos", "version": "1"},
)


def household(instance_id: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A household's XML and a 4 KB photo of its own."""
    xml = instance_xml("photos", "1", instance_id, "<name>บ้านบนดอย</name><photo>p.jpg</photo>")
    return xml, [("p.jpg", instance_id.encode() * (4096 // len(instance_id)))]


def submission(instance_id: str) -> tuple[bytes, str]:
    """The household's upload as body and content type: about 5 KB, 5 s at 1 KB/s."""
    xml, [(name, photo)] = household(instance_id)
    return multipart_body([("xml_submission_file", "x.xml", "text/xml", xml), (name, name, "image/jpeg", photo)])


def head_seconds(port: int, path: str) -> float:
    """A new phone's ``HEAD /submission`` on a connection of its own: how long its answer took."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("HEAD", path)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 204
    finally:
        connection.close()
    return time.monotonic() - started


def open_spool_files(pid: int, spool: Path) -> list[str]:
    """Files of the spool folder that a server process still has open."""
    held = []
    for process in process_tree(pid):
        try:
            targets = [os.readlink(link) for link in Path(f"/proc/{process}/fd").iterdir()]
        except OSError:
            continue
        held += [target for target in targets if target.startswith(str(spool))]
    return held


def test_stalled_and_slow_uploads_never_stop_the_other_phones(settings, session, blobs, environment, tmp_path):
    organisation = accounts.create_organisation(session, "hillnet", "เครือข่ายบนดอย")
    forms.add_form_version(session, blobs, organisation, as_xform(PHOTO_FORM), "photos.xml")
    token = appusers.create_app_user(session, organisation, "phone").token
    session.commit()
    path = f"/key/{token}/o/hillnet/submission"
    environment = {**environment, "FORMSERVER_UPLOAD_IDLE_SECONDS": str(IDLE_SECONDS)}
    with running_server(environment, log=tmp_path / "server.log") as (base, pid):
        port = int(base.rsplit(":", 1)[1])
        host = f"127.0.0.1:{port}"
        stalled = [
            Upload(request, stall_after=len(request) // 2)
            for request in (post_request(host, path, *submission(f"uuid:stalled-{n}")) for n in range(STALLED))
        ]
        slow = [Upload(post_request(host, path, *submission(f"uuid:slow-{n}")), rate=RATE) for n in range(SLOW)]
        with Uploads(("127.0.0.1", port), stalled + slow) as uploads:
            time.sleep(1)  # every upload has begun, every stalled one has stopped
            heads = [head_seconds(port, path) for _ in range(10)]
            phone = CollectClient(f"{base}/key/{token}/o/hillnet", HttpTransport(timeout=10))
            started = time.monotonic()
            sent = phone.send_instance(*household("uuid:other-phone"))
            other_phone_seconds = time.monotonic() - started
            phone.transport.close()
            all_answered = uploads.wait(timeout=IDLE_SECONDS + 15)
        held = open_spool_files(pid, settings.spool_dir)

    assert max(heads) < 1, f"HEAD /submission took {max(heads):.2f} s with {STALLED} stalled and {SLOW} slow uploads"
    assert sent.ok and other_phone_seconds < 1, (sent.last.status, other_phone_seconds)
    assert all_answered, [(u.status, u.sent) for u in stalled + slow if not u.done()]
    assert [u.status for u in slow] == [201] * SLOW
    assert [u.status for u in stalled] == [408] * STALLED
    dropped_after = [u.answered - u.last_sent for u in stalled]
    assert IDLE_SECONDS - 0.5 < min(dropped_after) and max(dropped_after) < IDLE_SECONDS + 2, dropped_after
    session.expire_all()
    stored = set(session.scalars(select(Submission.instance_id)))
    assert stored == {f"uuid:slow-{n}" for n in range(SLOW)} | {"uuid:other-phone"}
    assert not held and not list(settings.spool_dir.iterdir()), held

