"""``formserver check [--repair]``: the integrity of an installation, what repairs may touch, and backups.

Each problem is made by hand in a working installation (a blob deleted or changed, a file
nobody refers to, a damaged flattened copy, a database behind) and must be found, on
one line each. Repairs never touch a submission's XML or its files.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
import uuid

import pytest
from sqlalchemy import create_engine, make_url, select, text, update

from formserver import cli, integrity, migrate
from formserver.config import Settings
from formserver.exports import jobs
from formserver.exports.samples import add_instance, instance_xml
from formserver.forms import attach_media
from formserver.models import ExportJob, Submission, utcnow
from formserver.server import recover_exports
from formserver.storage import BlobStore
from formserver.submissions import ReceivedFile, ingest
from formserver.submissions.attachments import PendingBlob

from .servers import server_environment
from .test_export_support import NAPAT, SOMCHAI, organisation, read_workbook, upload, visit  # noqa: F401 - fixtures
from .xlsforms import simple_form

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
LOGO = b"\x89PNG\r\n\x1a\n" + b"logo of the hill network"
DAY = 24 * 3600
ENVELOPE = b"""<data xmlns="http://www.opendatakit.org/xforms/encrypted" id="visit" version="1" encrypted="yes">
<base64EncryptedKey>c2VjcmV0IGtleQ==</base64EncryptedKey>
<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>uuid:sealed</orx:instanceID></orx:meta>
<media><file>id card.jpg.enc</file></media>
<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>
<base64EncryptedElementSignature>c2lnbmF0dXJl</base64EncryptedElementSignature>
</data>"""


def instance(form_version, values: dict, instance_id: str) -> bytes:
    return instance_xml(form_version.field_tree, values, instance_id=instance_id)


@pytest.fixture
def installation(session, blobs, organisation, visit):
    """Two submissions sent as phones send them (Thai text, a photo), and a form with a media file."""
    photo = ReceivedFile.from_bytes(blobs, "id card.jpg", PHOTO, "image/jpeg")
    ingest(session, blobs, organisation, instance(visit, SOMCHAI, "uuid:somchai"), [photo])
    ingest(session, blobs, organisation, instance(visit, NAPAT, "uuid:napat"), [])
    logo = [{"type": "note", "name": "logo", "label": "Logo", "media::image": "logo.png"}]
    village = upload(session, blobs, organisation, simple_form("village", extra=logo), "village.xlsx")
    attach_media(session, blobs, village, "logo.png", LOGO)
    session.commit()
    return visit


def submission_of(session, instance_id: str) -> Submission:
    """The stored submission, read in a transaction that ends at once (on SQLite it holds the write lock)."""
    submission = session.scalar(select(Submission).where(Submission.instance_id == instance_id))
    session.commit()
    return submission


def blob_path(blobs: BlobStore, content: bytes):
    return blobs.path(hashlib.sha256(content).hexdigest())


def aged(path, seconds: float):
    """Make a file (or a folder and what is in it) look ``seconds`` old."""
    moment = time.time() - seconds
    for inner in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(inner, (moment, moment))
    return path


def lines(out: str) -> list[str]:
    return out.strip().splitlines()


# --------------------------------------------------------------------------- finding


def test_a_clean_installation_passes(run, installation, settings, session, organisation):
    job = jobs.start_export(session, settings, organisation, installation.form, {}, requested_by=None)
    assert jobs.wait(job.id, timeout=60)
    code, out, err = run("check")
    assert (code, err) == (0, "")
    assert lines(out) == ["check: no problems; checked 2 submissions, 2 blobs, 1 export job"]


def test_a_missing_and_a_changed_blob_are_found_for_each_row_that_refers_to_them(
    run, installation, blobs, session, organisation
):
    again = ReceivedFile.from_bytes(blobs, "id card.jpg", PHOTO, "image/jpeg")  # the same photo, another household
    third = ingest(session, blobs, organisation, instance(installation, SOMCHAI, "uuid:third"), [again]).submission_id
    somchai = submission_of(session, "uuid:somchai").id
    blob_path(blobs, PHOTO).unlink()
    blob_path(blobs, LOGO).write_bytes(b"not the logo")
    code, out, _ = run("check")
    assert code == 1
    photo, logo = blob_path(blobs, PHOTO).relative_to(blobs.root), blob_path(blobs, LOGO).relative_to(blobs.root)
    assert sorted(lines(out)[:-1]) == [
        f"hash mismatch: blobs/{logo} (media file logo.png of form village version 1; "
        f"its content's sha256 is {hashlib.sha256(b'not the logo').hexdigest()})",
        f"missing blob: blobs/{photo} (attachment id card.jpg of submission {somchai})",
        f"missing blob: blobs/{photo} (attachment id card.jpg of submission {third})",
    ]
    summary = lines(out)[-1]
    assert summary.startswith("check: 3 problems (") and summary.endswith("); checked 3 submissions, 2 blobs, 0 export jobs")
    assert "missing blob: 2" in summary and "hash mismatch: 1" in summary


def test_orphan_blobs_and_old_temporary_files_are_found_with_their_age(run, installation, blobs):
    orphan = blobs.put_bytes(b"a photo whose submission never committed")
    aged(blobs.path(orphan.sha256), 3 * DAY)
    stray = blobs.root / "tmp" / "upload-stray"
    stray.write_bytes(b"half a photo")
    aged(stray, 2 * DAY)
    receiving = blobs.root / "tmp" / "upload-arriving"
    receiving.write_bytes(b"a photo arriving now")
    code, out, _ = run("check")
    assert code == 1
    assert lines(out)[:-1] == [
        f"orphan file: blobs/{blobs.path(orphan.sha256).relative_to(blobs.root)} (3 days old)",
        "orphan file: blobs/tmp/upload-stray (2 days old)",
    ]
    assert lines(out)[-1].startswith("check: 2 problems (orphan file: 2); ")


def test_half_finished_and_orphan_export_files_are_found(run, installation, settings, session, organisation):
    def job(status: str, **columns) -> ExportJob:
        row = ExportJob(organisation_id=organisation.id, form_id=installation.form_id, status=status, **columns)
        session.add(row)
        session.flush()
        partial = settings.export_dir / str(row.id) / ".visit-20261201-101010.xlsx.partial"
        partial.parent.mkdir(parents=True)
        partial.write_bytes(b"PK half a workbook")
        return row

    failed = job(jobs.FAILED)
    stopped = job(jobs.RUNNING, worker="elsewhere:1:a", heartbeat_at=utcnow() - dt.timedelta(hours=1))
    job(jobs.RUNNING, worker="elsewhere:2:b", heartbeat_at=utcnow())  # running on another machine: its files are in use
    session.commit()
    nobody = settings.export_dir / "999"
    nobody.mkdir()
    (nobody / ".visit.xlsx.partial").write_bytes(b"PK")
    aged(nobody, 2 * DAY)
    code, out, _ = run("check")
    assert code == 1
    assert lines(out)[:-1] == [
        "orphan file: exports/999 (2 days old)",
        f"half-finished export file: exports/{failed.id}/.visit-20261201-101010.xlsx.partial (export job {failed.id} failed)",
        f"half-finished export file: exports/{stopped.id}/.visit-20261201-101010.xlsx.partial "
        f"(export job {stopped.id} stopped before it finished)",
    ]


def test_a_damaged_flattened_copy_and_a_changed_xml_are_found(run, installation, session):
    somchai, napat = submission_of(session, "uuid:somchai"), submission_of(session, "uuid:napat")
    session.execute(
        update(Submission).where(Submission.id == somchai.id).values(data={**somchai.data, "household/head_name": "x"})
    )
    session.execute(update(Submission).where(Submission.id == napat.id).values(xml=napat.xml.replace(b"Napat", b"Nopat")))
    session.commit()
    code, out, _ = run("check")
    assert code == 1
    assert lines(out) == [
        f"flattened copy differs: submission {somchai.id}",
        f"submission XML does not match its sha256: submission {napat.id}",
        f"flattened copy differs: submission {napat.id}",
        "check: 3 problems (flattened copy differs: 2, submission XML does not match its sha256: 1); "
        "checked 2 submissions, 2 blobs, 0 export jobs",
    ]


def test_a_copy_not_made_yet_is_no_problem(run, installation, session):
    session.execute(update(Submission).values(data=None))
    session.commit()
    assert run("check")[0] == 0


def test_a_database_behind_the_newest_migration_is_found_and_nothing_else_is_read(run, database):
    migrate.downgrade(database.engine, "base")
    try:
        code, out, err = run("check")
        assert (code, err) == (1, "")
        assert lines(out) == [
            f"database not at newest migration (at none, newest {migrate.newest()})",
            "check: the other checks need the newest migration: run `formserver db upgrade`, then check again",
        ]
        assert run("check", "--repair")[0] == 1
    finally:
        migrate.upgrade(database.engine)
    assert run("check")[0] == 0


def test_an_encrypted_envelope_has_its_files_checked_but_no_flattened_copy(run, installation, session, blobs):
    sealed = add_instance(
        session,
        installation,
        ENVELOPE,
        blobs=blobs,
        attachments={"id card.jpg.enc": b"encrypted photo", "submission.xml.enc": b"encrypted instance"},
        flattened=False,
    )
    session.execute(update(Submission).where(Submission.id == sealed.id).values(data={"base64EncryptedKey": "stale"}))
    session.commit()
    assert run("check") == (0, "check: no problems; checked 3 submissions, 4 blobs, 0 export jobs\n", "")
    blob_path(blobs, b"encrypted instance").unlink()
    code, out, _ = run("check", "--repair")
    assert code == 1
    assert "missing blob: blobs/" in out and f"(attachment submission.xml.enc of submission {sealed.id})" in out
    assert "flattened" not in out
    session.expire_all()
    assert session.get(Submission, sealed.id).data == {"base64EncryptedKey": "stale"}


# --------------------------------------------------------------------------- repairing


def test_repair_rebuilds_copies_and_removes_only_old_orphans_never_a_submissions_xml_or_files(
    run, installation, session, blobs, settings, organisation
):
    somchai = submission_of(session, "uuid:somchai")
    good_copy = dict(somchai.data)
    session.execute(update(Submission).where(Submission.id == somchai.id).values(data={"damaged": "yes"}))
    failed = ExportJob(organisation_id=organisation.id, form_id=installation.form_id, status=jobs.FAILED)
    session.add(failed)
    session.commit()
    (settings.export_dir / str(failed.id)).mkdir(parents=True)
    (settings.export_dir / str(failed.id) / ".visit.xlsx.partial").write_bytes(b"PK")
    old = blobs.path(blobs.put_bytes(b"left by a kill two days ago").sha256)
    aged(old, 2 * DAY)
    young = blobs.path(blobs.put_bytes(b"its row is being committed").sha256)
    aged(young, 3600)
    old_temporary = blobs.root / "tmp" / "upload-old"
    old_temporary.write_bytes(b"half")
    aged(old_temporary, 2 * DAY)
    for referenced in (blob_path(blobs, PHOTO), blob_path(blobs, LOGO)):
        aged(referenced, 30 * DAY)  # referenced: never an orphan, however old
    kept = {path: path.read_bytes() for path in blobs.root.rglob("*") if path.is_file() and path.parent.name != "tmp"}
    kept.pop(old)
    xml_before = {s.id: s.xml for s in session.scalars(select(Submission))}
    session.commit()

    code, out, _ = run("check", "--repair")
    young_name = f"blobs/{young.relative_to(blobs.root)}"
    assert code == 1, out
    assert f"repaired: rebuilt the flattened copy of submission {somchai.id}" in lines(out)
    assert f"repaired: removed orphan file blobs/{old.relative_to(blobs.root)}" in lines(out)
    assert "repaired: removed orphan file blobs/tmp/upload-old" in lines(out)
    assert f"repaired: removed half-finished export file exports/{failed.id}/.visit.xlsx.partial" in lines(out)
    assert (
        f"kept: orphan file: {young_name} (1 hour old): younger than 24 hours, it may belong to a submission being stored"
        in lines(out)
    )
    assert lines(out)[-1].startswith("check: 5 problems, 4 repaired, 1 remaining (orphan file: 1); ")
    assert not old.exists() and not old_temporary.exists() and not (settings.export_dir / str(failed.id)).exists()
    assert {path: path.read_bytes() for path in kept} == kept  # the young orphan and every referenced blob
    session.expire_all()
    assert session.get(Submission, somchai.id).data == good_copy
    assert {s.id: s.xml for s in session.scalars(select(Submission))} == xml_before
    session.commit()

    aged(young, 2 * DAY)
    assert lines(run("check", "--repair")[1])[-1].startswith("check: 1 problem, 1 repaired, 0 remaining; ")
    assert run("check")[0] == 0


def test_repair_leaves_a_missing_or_changed_blob_as_it_is_and_says_so(run, installation, blobs):
    blob_path(blobs, LOGO).write_bytes(b"changed")
    blob_path(blobs, PHOTO).unlink()
    code, out, _ = run("check", "--repair")
    assert code == 1
    assert not [line for line in lines(out) if line.startswith(("repaired:", "kept:"))]
    assert lines(out)[-1].startswith("check: 2 problems, 0 repaired, 2 remaining (")
    assert blob_path(blobs, LOGO).read_bytes() == b"changed" and not blob_path(blobs, PHOTO).exists()


def test_serving_starts_by_removing_orphans_older_than_a_day(installation, settings, blobs, capsys):
    old = blobs.path(blobs.put_bytes(b"orphan of a kill").sha256)
    young = blobs.path(blobs.put_bytes(b"orphan of a moment ago").sha256)
    old_temporary = blobs.root / "tmp" / "tmpabc123"
    old_temporary.write_bytes(b"spool")
    for path in (old, old_temporary):
        aged(path, 2 * DAY)
    aged(blob_path(blobs, PHOTO), 30 * DAY)  # referenced: stays however old
    recover_exports(settings)
    assert "2 orphan file(s) older than 24 hours removed" in capsys.readouterr().out
    assert (old.exists(), old_temporary.exists(), young.exists(), blob_path(blobs, PHOTO).exists()) == (
        False,
        False,
        True,
        True,
    )


def test_an_old_orphan_sent_again_by_a_phone_is_not_removed_under_it(installation, settings, blobs, session):
    """A resend the next day of a photo whose first upload was cut off after its blob was stored."""
    path = blobs.path(blobs.put_bytes(b"photo of a retried upload").sha256)
    aged(path, 2 * DAY)
    pending = PendingBlob(blobs)
    pending.write(b"photo of a retried upload")
    pending.commit()  # the upload puts its fresh copy in place just before its row commits
    assert integrity.remove_old_orphans(settings) == []
    assert path.read_bytes() == b"photo of a retried upload"
    aged(path, 2 * DAY)  # and when the clean-up looked just before the upload put its copy in place:
    orphan = integrity.Orphan(path, 2 * DAY, blob=True)
    os.utime(path)
    assert integrity._remove(settings, orphan) is False and path.exists()


def test_with_no_age_limit_the_check_finds_and_the_repair_removes_what_a_kill_left_a_moment_ago(
    installation, database, blobs
):
    """What a crash test does once it has stopped its server (tests/crash_phones.py); never with a server running."""
    blob = blobs.path(blobs.put_bytes(b"photo renamed into place, its row never committed").sha256)
    temporary = blobs.root / "tmp" / "upload-cut-off"
    temporary.write_bytes(b"half a photo")
    blob_name = f"blobs/{blob.relative_to(blobs.root)}"
    assert [finding.what for finding in integrity.check(database).findings] == [blob_name]  # the upload may be arriving
    report = integrity.check(database, orphan_age=0)
    assert sorted(finding.what for finding in report.findings) == [blob_name, "blobs/tmp/upload-cut-off"]
    repairs = integrity.repair(database, report, orphan_age=0)
    assert repairs.remaining == [] and repairs.kept == [] and len(repairs.done) == 2
    assert not blob.exists() and not temporary.exists()
    assert blob_path(blobs, PHOTO).exists() and blob_path(blobs, LOGO).exists()
    assert integrity.check(database, orphan_age=0).findings == []


# --------------------------------------------------------------------------- backups


def test_a_restored_backup_passes_the_check_and_exports_the_same_cells(
    installation, settings, session, blobs, tmp_path, monkeypatch, capsys
):
    ingest(
        session,
        blobs,
        installation.form.organisation,
        instance(installation, {**SOMCHAI, "household/head_name": "นางสาว ดอกไม้ ใจงาม"}, "uuid:third"),
        [ReceivedFile.from_bytes(blobs, "id card.jpg", PHOTO + b"second", "image/jpeg")],
    )
    session.commit()

    def formserver(target: Settings, *args: str) -> tuple[int, str, str]:
        """``formserver ARGS`` with the environment of ``target``."""
        for key, value in server_environment(target).items():
            if key.startswith("FORMSERVER_"):
                monkeypatch.setenv(key, value)
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    assert formserver(settings, "export", "hillnet", "visit", "-o", str(tmp_path / "before.xlsx"))[0] == 0
    with restored_database(settings.database_url, tmp_path) as restored_url:
        data_dir = tmp_path / "restored-data"
        shutil.copytree(settings.data_dir, data_dir)
        restored = Settings(
            data_dir=data_dir, database_url=restored_url, secret_key=settings.secret_key, public_url=settings.public_url
        )
        code, out, err = formserver(restored, "check")
        assert (code, err) == (0, "")
        assert lines(out) == ["check: no problems; checked 3 submissions, 3 blobs, 0 export jobs"]
        assert formserver(restored, "export", "hillnet", "visit", "-o", str(tmp_path / "after.xlsx"))[0] == 0
    before, after = read_workbook(tmp_path / "before.xlsx"), read_workbook(tmp_path / "after.xlsx")
    assert after == before
    assert "นางสาว ดอกไม้ ใจงาม" in [cell for row in after["visit"] for cell in row]


class restored_database:
    """The test's database backed up and restored somewhere new: ``pg_dump``/``pg_restore`` into a
    database made for it on PostgreSQL (dropped afterwards), SQLite's backup API to a new file."""

    def __init__(self, url: str, tmp_path):
        self.url = make_url(url)
        self.tmp_path = tmp_path
        self.name = f"fs_restore_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> str:
        if self.url.get_backend_name() == "sqlite":
            target = self.tmp_path / "restored.sqlite3"
            with sqlite3.connect(self.url.database) as source, sqlite3.connect(target) as copy:
                source.backup(copy)
            return f"sqlite:///{target}"
        schema = self.url.query["options"].split("search_path=", 1)[1]
        dump = self.tmp_path / "formserver.dump"
        subprocess.run(
            ["pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", self._libpq(self.url.database)],
            check=True,
        )
        self._admin(f'CREATE DATABASE "{self.name}"')
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={self._libpq(self.name)}", str(dump)], check=True)
        return self.url.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *_exc) -> None:
        if self.url.get_backend_name() != "sqlite":
            gc.collect()  # the engines of the commands run in this process, and their connections
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _libpq(self, database: str) -> str:
        return self.url.set(drivername="postgresql", database=database, query={}).render_as_string(hide_password=False)

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.url.set(query={}), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()
