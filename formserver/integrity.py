"""The integrity of an installation: what ``formserver check`` looks for, and what ``--repair`` mends.

An operator runs the check on a live installation and after restoring a backup. It reads
the database in one snapshot that does not hold up phones (``reading_session``) and finds:

- a blob (an attachment, a form's media file, a file kept with a set-aside resubmission)
  that is missing, or whose content no longer has the sha256 it is stored under;
- a submission whose XML no longer has its recorded sha256 (the record of what the
  enumerator sent: reported, never changed);
- a submission whose flattened copy differs from what its XML gives. An encrypted
  envelope has no flattened copy: only its files are checked. A copy not made yet is
  made by the next export, and is no problem;
- orphan files: a blob no row refers to, a temporary file of the blob store older than
  ``ORPHAN_AGE`` (younger ones are uploads arriving), an export folder of no export job;
- half-finished export files: those of a failed export job, or of one whose process is gone;
- a database not at the newest migration; then nothing else is checked, since the
  tables may not be what this code reads.

``repair`` never touches a submission's XML or its files. It rebuilds the flattened
copies that differ, lets ``exports.jobs.recover`` fail dead export jobs and remove their
files, and removes orphans older than ``ORPHAN_AGE``: a blob is renamed into place
before its row commits, so a younger one may belong to a submission being stored.
``remove_old_orphans`` is also what ``formserver serve`` runs before serving.

Each takes ``orphan_age`` (seconds, ``ORPHAN_AGE`` unless told): a smaller one is safe only
when no server is running, as after a crash test has stopped its server (bench/crash.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from . import migrate
from .config import Settings
from .db import Database, reading_session
from .encryption import is_encrypted
from .exports import jobs
from .exports.flatten import RepeatsByVersion, _flatten_safely, flatten, rebuild_submissions
from .models import ExportJob, Form, FormVersion, MediaFile, Submission, SubmissionAttachment, SubmissionConflict
from .storage import BlobStore
from .xml import parse

ORPHAN_AGE = 24 * 3600  # seconds
BATCH = 500
CHUNK = 1024 * 1024

MIGRATION = "database not at newest migration"
MISSING_BLOB = "missing blob"
HASH_MISMATCH = "hash mismatch"
XML_MISMATCH = "submission XML does not match its sha256"
FLATTENED = "flattened copy differs"
ORPHAN = "orphan file"
HALF_FINISHED = "half-finished export file"


@dataclass(frozen=True)
class Finding:
    """One problem: its kind, what it is (a path in the data folder, a submission), and where or why."""

    kind: str
    what: str = ""
    where: str = ""
    submission_id: int | None = field(default=None, compare=False)  # for the rebuild of a flattened copy

    def __str__(self) -> str:
        text = f"{self.kind}: {self.what}" if self.what else self.kind
        return f"{text} ({self.where})" if self.where else text


@dataclass
class Report:
    """What a check found, and how much it looked at.

    ``complete`` is False when the database was not at the newest migration and nothing else was checked.
    """

    findings: list[Finding]
    checked: dict[str, int]  # what was looked at: {"submission": 12, "blob": 30, "export job": 2}
    complete: bool = True


@dataclass
class Repairs:
    """What ``repair`` did (one sentence each), what it left alone on purpose, and what remains wrong."""

    done: list[str]
    kept: list[str]
    remaining: list[Finding]


@dataclass(frozen=True)
class Orphan:
    """A file or folder of the data folder that nothing refers to, with its age in seconds."""

    path: Path
    age: float
    blob: bool = False  # a blob under its sha256 name: removed with care for a concurrent upload

    def finding(self, settings: Settings) -> Finding:
        return Finding(ORPHAN, _relative(settings, self.path), f"{_age(self.age)} old")


# --------------------------------------------------------------------------- the check


def check(database: Database, *, orphan_age: float = ORPHAN_AGE) -> Report:
    """Look at everything (see the module's docstring); change nothing."""
    settings = database.settings
    at = migrate.pending(database.engine)
    if at is not None:
        return Report([Finding(MIGRATION, where=f"at {at}, newest {migrate.newest()}")], {}, complete=False)
    listing = _Listing(settings)  # before the database: a file stored meanwhile has its row when we read
    with reading_session(settings) as reader:
        references = _references(reader)
        export_jobs = {job.id: job for job in reader.scalars(select(ExportJob))}
        files = [orphan.finding(settings) for orphan in listing.orphans(references, export_jobs, orphan_age)]
        files += _half_finished_exports(settings, listing, export_jobs)
        submissions, count = _submission_findings(reader)
    blobs = _blob_findings(settings, references)  # the longest part, outside the snapshot
    checked = {"submission": count, "blob": len(references), "export job": len(export_jobs)}
    return Report(files + blobs + submissions, checked)


def _references(session) -> dict[str, list[str]]:
    """Every blob the database refers to: sha256 → the rows that refer to it, in words."""
    found: dict[str, list[str]] = defaultdict(list)
    attachments = select(SubmissionAttachment.sha256, SubmissionAttachment.name, SubmissionAttachment.submission_id)
    for sha256, name, submission_id in session.execute(attachments):
        found[sha256].append(f"attachment {name} of submission {submission_id}")
    media = (
        select(MediaFile.sha256, MediaFile.filename, Form.form_id, FormVersion.version)
        .join(FormVersion, MediaFile.form_version_id == FormVersion.id)
        .join(Form, FormVersion.form_id == Form.id)
    )
    for sha256, name, form_id, version in session.execute(media):
        found[sha256].append(f"media file {name} of form {form_id} version {version}")
    conflicts = select(SubmissionConflict.id, SubmissionConflict.submission_id, SubmissionConflict.attachments)
    for conflict_id, submission_id, files in session.execute(conflicts):
        for file in files or ():
            found[file["sha256"]].append(
                f"file {file['name']} of resubmission {conflict_id} kept aside for submission {submission_id}"
            )
    return found


def _blob_findings(settings: Settings, references: dict[str, list[str]]) -> list[Finding]:
    """Each referenced blob read once: a line per row that refers to a missing or changed blob."""
    blobs = BlobStore(settings.blob_dir)
    findings = []
    for sha256, rows in sorted(references.items()):
        try:
            path = blobs.path(sha256)
        except ValueError:
            findings += [Finding(MISSING_BLOB, sha256, f"{row}; not a sha256") for row in rows]
            continue
        what = _relative(settings, path)
        try:
            actual = _sha256_of(path)
        except FileNotFoundError:
            findings += [Finding(MISSING_BLOB, what, row) for row in rows]
            continue
        except OSError as error:
            findings += [Finding(MISSING_BLOB, what, f"{row}; {error.strerror}") for row in rows]
            continue
        if actual != sha256:
            findings += [Finding(HASH_MISMATCH, what, f"{row}; its content's sha256 is {actual}") for row in rows]
    return findings


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _submission_findings(session) -> tuple[list[Finding], int]:
    """Each submission's XML against its sha256, and its flattened copy against its XML; and how many."""
    repeats = RepeatsByVersion(session)
    findings: list[Finding] = []
    count = last_id = 0
    columns = (Submission.id, Submission.form_version_id, Submission.xml, Submission.xml_sha256, Submission.data)
    while batch := session.execute(
        select(*columns).where(Submission.id > last_id).order_by(Submission.id).limit(BATCH)
    ).all():
        for submission_id, version_id, xml, xml_sha256, data in batch:
            if hashlib.sha256(xml).hexdigest() != xml_sha256:
                findings.append(Finding(XML_MISMATCH, f"submission {submission_id}"))
            if data is None:
                continue  # not made yet: the next export makes it
            expected = _expected_copy(xml, repeats[version_id])
            if expected is not None and data != expected:
                findings.append(Finding(FLATTENED, f"submission {submission_id}", submission_id=submission_id))
        count += len(batch)
        last_id = batch[-1][0]
    return findings, count


def _expected_copy(xml: bytes, repeats: frozenset[str]) -> dict | None:
    """The flattened copy the XML gives, as a rebuild makes it; None for an encrypted envelope, which has none."""
    try:
        root = parse(xml)
    except (ValueError, etree.LxmlError):
        return _flatten_safely(xml, repeats)
    return None if is_encrypted(root) else flatten(root, repeats)


def _half_finished_exports(settings: Settings, listing: _Listing, export_jobs: dict[int, ExportJob]) -> list[Finding]:
    """The files of export jobs that failed, or whose process is gone (``jobs.recover`` removes them)."""
    findings = []
    for job_id, path in listing.job_files:
        job = export_jobs.get(job_id)
        if job is None:
            continue  # an orphan
        if job.status == jobs.FAILED:
            why = f"export job {job_id} failed"
        elif job.status in (jobs.QUEUED, jobs.RUNNING) and jobs.is_dead(job):
            why = f"export job {job_id} stopped before it finished"
        else:
            continue
        findings.append(Finding(HALF_FINISHED, _relative(settings, path), why))
    return findings


# --------------------------------------------------------------------------- orphan files


class _Listing:
    """The files of the blob store and the export folder, with their times, listed once."""

    def __init__(self, settings: Settings):
        self.now = time.time()
        blobs = BlobStore(settings.blob_dir)
        self.temporary = _files(blobs.root / "tmp")
        self.blobs: list[tuple[Path, str | None]] = []  # (path, sha256 when it is a blob's proper path)
        for path in _files(blobs.root, skip=blobs.root / "tmp"):
            self.blobs.append((path, path.name if _is_blob_path(blobs, path) else None))
        self.exports: list[tuple[Path, int | None]] = []  # each entry of the export folder, and its job's id
        self.job_files: list[tuple[int, Path]] = []  # each file in a job's folder
        for entry in sorted(settings.export_dir.iterdir()) if settings.export_dir.is_dir() else ():
            job_id = int(entry.name) if entry.name.isdigit() and entry.is_dir() else None
            self.exports.append((entry, job_id))
            if job_id is not None:
                self.job_files += [(job_id, path) for path in _files(entry)]

    def orphans(self, references, export_jobs: dict[int, ExportJob], orphan_age: float) -> list[Orphan]:
        found = [
            Orphan(path, self._age(path), blob=sha256 is not None)
            for path, sha256 in self.blobs
            if sha256 is None or sha256 not in references
        ]
        found += [Orphan(path, age) for path in self.temporary if (age := self._age(path)) > orphan_age]
        for entry, job_id in self.exports:
            if job_id not in export_jobs:
                found.append(Orphan(entry, self._age(entry)))
        for job_id, path in self.job_files:
            job = export_jobs.get(job_id)
            if job is not None and job.status == jobs.COMPLETE and path.name != job.file_name:
                found.append(Orphan(path, self._age(path)))
        return found

    def _age(self, path: Path) -> float:
        return _age_of(path, self.now)


def _age_of(path: Path, now: float) -> float:
    """Seconds since the path, or anything in it, last changed (0 when it is gone)."""
    try:
        times = [path.stat().st_mtime] + [inner.stat().st_mtime for inner in _files(path)]
    except FileNotFoundError:
        return 0.0
    return max(0.0, now - max(times))


def _files(folder: Path, skip: Path | None = None) -> list[Path]:
    """The files under a folder, sorted (none when it does not exist)."""
    found = []
    for directory, subfolders, names in os.walk(folder):
        if skip is not None:
            subfolders[:] = [name for name in subfolders if Path(directory, name) != skip]
        found += [Path(directory, name) for name in names]
    return sorted(found)


def _is_blob_path(blobs: BlobStore, path: Path) -> bool:
    try:
        return blobs.path(path.name) == path
    except ValueError:
        return False


def remove_old_orphans(settings: Settings, orphan_age: float = ORPHAN_AGE) -> list[Orphan]:
    """Remove the orphan files older than ``orphan_age``; return them (``formserver serve`` at start, and repairs)."""
    listing = _Listing(settings)
    with reading_session(settings) as reader:
        export_jobs = {job.id: job for job in reader.scalars(select(ExportJob))}
        orphans = listing.orphans(_references(reader), export_jobs, orphan_age)
    return [orphan for orphan in orphans if orphan.age > orphan_age and _remove(settings, orphan, orphan_age)]


def _remove(settings: Settings, orphan: Orphan, orphan_age: float = ORPHAN_AGE) -> bool:
    """Remove an orphan; a blob only if nobody put it back in place meanwhile. True when it is gone."""
    try:
        if orphan.path.is_dir():
            shutil.rmtree(orphan.path)
        elif not orphan.blob:
            orphan.path.unlink()
        else:
            # An upload of the same content renames a fresh copy onto this name just before its
            # row commits (attachments.PendingBlob.commit). Move the file aside first: if what
            # was moved is fresh, that upload won the race, and the file goes back.
            aside = BlobStore(settings.blob_dir).root / "tmp" / f"orphan-{orphan.path.name}"
            os.replace(orphan.path, aside)
            if time.time() - aside.stat().st_mtime <= orphan_age:
                os.replace(aside, orphan.path)
                return False
            aside.unlink()
    except FileNotFoundError:
        pass
    return not orphan.path.exists()


# --------------------------------------------------------------------------- repairs


def repair(database: Database, report: Report, *, orphan_age: float = ORPHAN_AGE) -> Repairs:
    """Mend what can be mended without touching a submission's XML or its files (see the module's docstring)."""
    if not report.complete:
        return Repairs([], [], list(report.findings))
    settings = database.settings
    kinds = {finding.kind for finding in report.findings}
    stale = [finding for finding in report.findings if finding.kind == FLATTENED]
    if stale:
        with database.session_scope() as session:
            rebuild_submissions(session, [finding.submission_id for finding in stale])
    if HALF_FINISHED in kinds:
        with database.session_scope() as session:
            jobs.recover(session, settings=settings)
    if ORPHAN in kinds:
        remove_old_orphans(settings, orphan_age)
    done = [f"rebuilt the flattened copy of {finding.what}" for finding in stale]
    kept, remaining = [], []
    now = time.time()
    for finding in report.findings:
        if finding.kind in (HALF_FINISHED, ORPHAN) and not (settings.data_dir / finding.what).exists():
            done.append(f"removed {finding.kind} {finding.what}")
        elif finding.kind != FLATTENED:
            remaining.append(finding)
            if finding.kind == ORPHAN and _age_of(settings.data_dir / finding.what, now) <= orphan_age:
                younger = "24 hours" if orphan_age == ORPHAN_AGE else _age(orphan_age)
                kept.append(f"{finding}: younger than {younger}, it may belong to a submission being stored")
    return Repairs(done, kept, remaining)


# --------------------------------------------------------------------------- words


def _relative(settings: Settings, path: Path) -> str:
    try:
        return str(path.relative_to(settings.data_dir))
    except ValueError:
        return str(path)


def _age(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{int(seconds)} seconds"
