"""Collect-like phones through a server killed with SIGKILL, and what is stored afterwards (issue #12).

For tests/test_crash_safety.py and bench/crash.py's kill rounds. A round (``crash_round``):

1. ``formserver serve`` starts with its default workers; phones send households, ``HEAD`` then
   ``POST`` as Collect does, each on its keep-alive connection. A third carry a 1–3 MB photo; half
   of those carry a second photo too, sent in a POST of its own (the first says ``*isIncomplete*``).
2. At the given moment every process of the server is stopped, then killed with SIGKILL (stopped
   first, so that no worker serves on while its siblings die). A phone whose upload is cut off keeps
   the household, as Collect keeps an instance not answered 201, and stops sending.
3. Orphans are counted while the server is down: blobs no row refers to (renamed into place before
   their row committed) and upload temporaries.
4. The server starts again and every phone sends again what was not answered 201: the whole
   household, every part, as Collect does.
5. With the server stopped, the database and the blob store are compared with what the phones were
   told: every household answered 201 is stored exactly once, with every file it was answered 201
   for, under the sha256 of the bytes the phone sent, and the blob under that name has that sha256
   (``integrity.check``); every household sent again is complete. Orphans are counted again, and
   ``integrity.repair`` with no age limit (safe with the server stopped) must leave none.

A file is served only through the attachment row that names it, so an orphan (a file no row refers
to) is never served: what must hold is that no row names a blob that is missing or different.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from formserver import integrity
from formserver.config import Settings
from formserver.db import Database, reading_session
from formserver.models import Submission, SubmissionAttachment, SubmissionConflict

from .collect_client import CollectClient, HttpTransport
from .servers import process_tree, running_server
from .xlsforms import xlsform

PHOTO_FORM = xlsform(
    [
        {"type": "text", "name": "head_name", "label": "Head of household"},
        {"type": "image", "name": "photo", "label": "Photo of the house"},
        {"type": "image", "name": "id_card", "label": "Photo of an ID card"},
    ],
    settings={"form_id": "household_photos", "version": "1", "form_title": "Household with photos"},
)
MB = 1024 * 1024


# --------------------------------------------------------------------------- households


@dataclass
class Household:
    """One instance as a phone keeps it, and what the server answered about it."""

    instance_id: str
    xml: bytes
    parts: list[list[tuple[str, bytes]]]  # the files of each POST; one POST without files for most
    acknowledged: dict[str, str] = field(default_factory=dict)  # file name → sha256, of POSTs answered 201
    answered: bool = False  # a POST was answered 201: the submission is acknowledged
    complete: bool = False  # every POST was answered 201: the phone marks it sent

    @property
    def files(self) -> list[tuple[str, bytes]]:
        return [file for part in self.parts for file in part]

    @property
    def limit(self) -> int | None:
        """The size that makes Collect's uploader put each photo in a POST of its own (None: the server's)."""
        if len(self.parts) == 1:
            return None
        return len(self.xml) + sum(len(content) for _, content in self.files) - 1

    def record(self, statuses: list[int]) -> None:
        """What the POSTs of one attempt were answered: the parts answered 201 are acknowledged."""
        for part, status in zip(self.parts, statuses):
            if status != 201:
                break
            self.answered = True
            self.acknowledged.update((name, hashlib.sha256(content).hexdigest()) for name, content in part)
        self.complete = len(statuses) == len(self.parts) and all(status == 201 for status in statuses)


def household(rng: random.Random, number: int) -> Household:
    """A household; a third with a 1–3 MB photo, half of those with an ID card's photo in a second POST."""
    instance_id = f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    files = []
    if rng.random() < 1 / 3:
        files.append((f"{number}-house.jpg", rng.randbytes(rng.randint(1 * MB, 3 * MB))))
        if rng.random() < 0.5:
            files.append((f"{number}-card.jpg", rng.randbytes(rng.randint(MB // 2, 1 * MB))))
    photos = "".join(f"<{field}>{name}</{field}>" for field, (name, _) in zip(("photo", "id_card"), files))
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><data xmlns:orx="http://openrosa.org/xforms" '
        f'id="household_photos" version="1"><head_name>ครัวเรือน {number}</head_name>{photos}'
        f"<orx:meta><orx:instanceID>{instance_id}</orx:instanceID></orx:meta></data>"
    ).encode()
    parts = [[file] for file in files] if len(files) == 2 else [files]
    return Household(instance_id, xml, parts)


class AnsweredPosts:
    """A transport that remembers each POST's status: which parts were answered before the kill cut one off."""

    def __init__(self, transport: HttpTransport):
        self.transport = transport
        self.statuses: list[int] = []

    def request(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None):
        response = self.transport.request(method, url, headers, body)
        if method == "POST":
            self.statuses.append(response.status)
        return response

    def close(self) -> None:
        self.transport.close()


def send(url: str, phone: int, households: list[Household]) -> str | None:
    """Send households one after another on one keep-alive connection until one is not answered 201:
    how that one ended (None when every one was): an answer, or the connection's error."""
    transport = AnsweredPosts(HttpTransport(timeout=30))
    client = CollectClient(url, transport, device_id=f"collect:crash{phone:04d}")
    try:
        for one in households:
            transport.statuses = []
            try:
                client.send_instance(one.xml, one.files, form_name="Household", limit=one.limit)
            except (OSError, http.client.HTTPException) as error:
                one.record(transport.statuses)
                return type(error).__name__
            one.record(transport.statuses)
            if not one.complete:
                return f"answered {transport.statuses[-1]}" if transport.statuses else "HEAD not answered 204"
        return None
    finally:
        transport.close()


# --------------------------------------------------------------------------- the phones


class Phones:
    """Phones sending households until the server goes, then sending again what was not answered 201."""

    def __init__(self, count: int, seed: int):
        self.rngs = [random.Random(seed * 1000 + phone) for phone in range(count)]
        self.sent: list[list[Household]] = [[] for _ in range(count)]  # each phone's households, in order
        self.answers: list[str] = []  # uploads answered other than 201 before the kill (cut off by it: none)
        self.threads: list[threading.Thread] = []

    def start(self, url: str) -> None:
        self.threads = [threading.Thread(target=self._until_cut_off, args=(url, phone)) for phone in range(len(self.rngs))]
        for thread in self.threads:
            thread.start()

    def _until_cut_off(self, url: str, phone: int) -> None:
        while True:
            one = household(self.rngs[phone], phone * 100_000 + len(self.sent[phone]))
            self.sent[phone].append(one)
            if failure := send(url, phone, [one]):
                if failure.startswith(("answered", "HEAD")):
                    self.answers.append(failure)
                return

    def wait(self, timeout: float = 60) -> None:
        for thread in self.threads:
            thread.join(timeout)
        if any(thread.is_alive() for thread in self.threads):
            raise RuntimeError("phones still sending after the server was killed")

    def unsent(self, phone: int) -> list[Household]:
        return [one for one in self.sent[phone] if not one.complete]

    def send_again(self, url: str) -> list[str]:
        """Each phone sends what was not answered 201, on a connection of its own; the failures."""
        failures: list[str | None] = []
        threads = [
            threading.Thread(target=lambda phone=phone: failures.append(send(url, phone, self.unsent(phone))))
            for phone in range(len(self.rngs))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [failure for failure in failures if failure is not None]

    @property
    def households(self) -> list[Household]:
        return [one for sent in self.sent for one in sent]


def kill(pid: int) -> int:
    """Stop every process of the server, then SIGKILL each: none runs on while the others die.
    Returns how many there were, once none of them runs any more."""
    os.kill(pid, signal.SIGSTOP)  # the parent first: it would start a new worker for a killed one
    tree = process_tree(pid)
    for process in tree[1:]:
        os.kill(process, signal.SIGSTOP)
    for process in tree:
        os.kill(process, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_running(process) for process in tree):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of the server still running after SIGKILL: {tree}")
        time.sleep(0.01)
    return len(tree)


def _running(pid: int) -> bool:
    """False once the process is gone or a zombie (dead, not yet reaped by its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


# --------------------------------------------------------------------------- a round


@dataclass
class Round:
    """What the phones were told, what is stored, and what is wrong (``problems``: nothing, when safe)."""

    seconds: float  # from the first phone to the kill
    processes: int  # killed
    sent: int  # households the phones began to send before the kill
    acknowledged: int  # answered 201 before the kill
    stored: int  # of those, stored exactly once with every file answered 201, byte for byte
    lost: int  # of those, not stored, or without a file answered 201, or with other bytes
    duplicated: int  # instanceIDs stored more than once, files stored twice, resends kept aside as conflicts
    unanswered: int  # households sent again after the restart (not answered 201 for every part)
    completed: int  # of those, answered 201 and stored with all their files
    orphans_after_kill: int  # files no row refers to, with the server down
    orphan_blobs_after_kill: int  # of those, blobs renamed into place whose row never committed (the others:
    # upload temporaries)
    orphans_after_retries: int
    orphans_after_repair: int
    problems: list[str]


def crash_round(
    settings: Settings, environment: dict[str, str], prefix: str, *, phones: int, kill_after: float, seed: int, logs: Path
) -> Round:
    """One round (see the module's docstring): ``prefix`` is the organisation's path, ``/key/…/o/slug``."""
    fleet = Phones(phones, seed)
    with running_server(environment, workers=None, log=logs / f"server-{seed}-before.log", timeout=60) as (base, pid):
        fleet.start(base + prefix)
        started = time.monotonic()
        time.sleep(kill_after)
        processes = kill(pid)
        seconds = time.monotonic() - started
        fleet.wait()
    acknowledged = [one for one in fleet.households if one.answered]
    unanswered = [one for one in fleet.households if not one.complete]
    problems = [f"answered before the kill: {answer}" for answer in fleet.answers]
    after_kill = _look(settings, fleet.households, acknowledged, problems, "after the kill")
    with running_server(environment, workers=None, log=logs / f"server-{seed}-after.log", timeout=60) as (base, _):
        problems += [f"a resend failed: {failure}" for failure in fleet.send_again(base + prefix)]
    after_resends = _look(settings, fleet.households, acknowledged, problems, "after the resends")
    incomplete = [one for one in unanswered if not (one.complete and after_resends.stored.complete(one))]
    problems += [f"sent again but not complete: {one.instance_id}" for one in incomplete]
    problems += [f"left in the spool: {path.name}" for path in settings.spool_dir.glob("*")]
    orphans_after_repair = _repair(settings, after_resends.report)
    if orphans_after_repair:
        problems.append(f"{orphans_after_repair} orphans left after the repair")
    lost = after_kill.lost | after_resends.lost
    return Round(
        seconds, processes, len(fleet.households), len(acknowledged), len(acknowledged) - len(lost), len(lost),
        max(after_kill.duplicated, after_resends.duplicated), len(unanswered), len(unanswered) - len(incomplete),
        len(after_kill.orphans), sum(not orphan.what.startswith("blobs/tmp/") for orphan in after_kill.orphans),
        len(after_resends.orphans), orphans_after_repair, problems,
    )  # fmt: skip


@dataclass
class _Look:
    """What the database and the blob store hold at one moment, against what the phones were told."""

    stored: Stored
    report: integrity.Report  # with no age limit: the server is down, nothing is arriving
    lost: set[str]  # instanceIDs acknowledged, not stored once with every file answered 201
    duplicated: int

    @property
    def orphans(self) -> list[integrity.Finding]:
        return [finding for finding in self.report.findings if finding.kind == integrity.ORPHAN]


def _look(settings: Settings, households, acknowledged, problems: list[str], when: str) -> _Look:
    """Look with the server down; a line in ``problems`` for each thing wrong: a row whose file is missing
    or other than its sha256 says, an acknowledged household lost, a duplicate."""
    with _database(settings) as database:
        report = integrity.check(database, orphan_age=0)
    problems += [f"{when}: {finding}" for finding in report.findings if finding.kind != integrity.ORPHAN]
    stored = _stored(settings)
    lost, duplicated = _compare(households, acknowledged, stored, problems, when)
    return _Look(stored, report, lost, duplicated)


def _repair(settings: Settings, report: integrity.Report) -> int:
    """``integrity.repair`` with no age limit (the server is stopped); the orphans left after it."""
    with _database(settings) as database:
        integrity.repair(database, report, orphan_age=0)
        return sum(finding.kind == integrity.ORPHAN for finding in integrity.check(database, orphan_age=0).findings)


@contextlib.contextmanager
def _database(settings: Settings):
    database = Database(settings)
    try:
        yield database
    finally:
        database.dispose()



@dataclass
class Stored:
    """The submissions as the database has them: each instanceID's rows, each row's files (name → sha256)."""

    rows: dict[str, list[int]]
    files: dict[int, dict[str, str]]
    file_rows: int
    conflicts: int

    def once(self, one: Household) -> dict[str, str] | None:
        """The files of the household's one row; None when it is not stored exactly once."""
        rows = self.rows.get(one.instance_id, [])
        return self.files.get(rows[0], {}) if len(rows) == 1 else None

    def complete(self, one: Household) -> bool:
        files = self.once(one)
        return files is not None and files == {name: hashlib.sha256(content).hexdigest() for name, content in one.files}


def _stored(settings: Settings) -> Stored:
    rows: dict[str, list[int]] = {}
    files: dict[int, dict[str, str]] = {}
    with reading_session(settings) as reader:
        for submission_id, instance_id in reader.execute(select(Submission.id, Submission.instance_id)):
            rows.setdefault(instance_id, []).append(submission_id)
        attachments = reader.execute(
            select(SubmissionAttachment.submission_id, SubmissionAttachment.name, SubmissionAttachment.sha256)
        ).all()
        conflicts = len(reader.scalars(select(SubmissionConflict.id)).all())
    for submission_id, name, sha256 in attachments:
        files.setdefault(submission_id, {})[name] = sha256
    return Stored(rows, files, len(attachments), conflicts)


def _compare(households, acknowledged, stored: Stored, problems: list[str], when: str) -> tuple[set[str], int]:
    """The acknowledged households not stored exactly once with every file they were answered 201 for
    (their instanceIDs), and how many rows are duplicated; a line in ``problems`` for each."""
    lost = set()
    for one in acknowledged:
        files = stored.once(one)
        if files is None or any(files.get(name) != sha256 for name, sha256 in one.acknowledged.items()):
            lost.add(one.instance_id)
            problems.append(f"{when}: acknowledged {one.instance_id} stored as {stored.rows.get(one.instance_id)} with {files}")
    duplicated = sum(len(rows) - 1 for rows in stored.rows.values() if len(rows) > 1)
    duplicated += stored.file_rows - sum(len(files) for files in stored.files.values()) + stored.conflicts
    if duplicated:
        problems.append(f"{when}: {duplicated} duplicated rows or conflicts")
    known = {one.instance_id for one in households}
    problems += [f"{when}: stored but never sent: {instance_id}" for instance_id in stored.rows.keys() - known]
    return lost, duplicated
