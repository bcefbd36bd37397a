"""Exports as background jobs: start one, watch its progress, download its file.

A job runs in a thread of the process that started it (one machine needs
nothing else), with its own database sessions: one that only reads the
submissions, in one consistent snapshot that does not hold up phones sending
data, and one that records the job's progress every half second or so.

A job always ends ``complete`` or ``failed``. It is never left ``running``:

- an error in the export marks it failed with a one-line reason;
- a job whose thread is gone, or whose process is gone (a restart), or whose
  heartbeat stopped for ``STALE_AFTER``, is marked failed the next time jobs
  are listed or looked up (``jobs_of``, ``job_by_id``, ``recover``).

Finished files are kept for ``settings.export_keep_hours`` and then deleted;
the job stays in the list (and still counts for "new since my last export").

The API the web pages use: ``start_export``, ``jobs_of``, ``job_by_id``,
``progress`` and ``export_file``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, memory, permissions
from ..config import Settings
from ..db import Database, reading_session
from ..models import ExportJob, Form, Organisation, User, utcnow
from ..problems import Problem
from .decrypting import form_is_encrypted
from .export import ExportOptions, export_versions, run_export, time_zone_of
from .flatten import ensure_flattened

log = logging.getLogger(__name__)

QUEUED, RUNNING, COMPLETE, FAILED = "queued", "running", "complete", "failed"
HEARTBEAT_SECONDS = 0.5  # progress and heartbeat are recorded at most this often
STALE_AFTER = dt.timedelta(minutes=5)  # a running job silent this long has died
_TOKEN = uuid.uuid4().hex[:8]
_threads: dict[int, threading.Thread] = {}
_threads_lock = threading.Lock()


def worker_id() -> str:
    """This process: host, process id and a token (a restarted process never has the same one)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{_TOKEN}"


# -- the API -----------------------------------------------------------------------------


def start_export(
    session: Session,
    settings: Settings,
    organisation: Organisation,
    form: Form,
    options: dict,
    *,
    requested_by: User | None,
) -> ExportJob:
    """Record a new export job, commit it, and run it in a background thread."""
    if form.organisation_id != organisation.id:
        raise Problem("form.not_found", form_id=form.form_id)
    if requested_by is not None and not permissions.can(session, requested_by, "export.create", organisation):
        raise Problem("export.forbidden")
    parsed = ExportOptions.from_dict(options)
    if parsed.new_only and requested_by is None:
        raise Problem("export.bad_option", option="new_only", value="without a requesting user")
    delete_expired_files(session, settings)
    if form_is_encrypted(export_versions(session, form, parsed.version)):  # an unknown version is refused now too
        raise Problem("export.key_needed", form_id=form.form_id)  # decrypted exports are streamed, never kept
    job = ExportJob(
        organisation_id=organisation.id,
        form_id=form.id,
        requested_by_id=requested_by.id if requested_by else None,
        options=parsed.to_dict(),
        status=QUEUED,
        worker=worker_id(),
        heartbeat_at=utcnow(),
    )
    session.add(job)
    session.flush()
    audit.record(
        session,
        "export.create",
        organisation=organisation,
        user=requested_by,
        target=form.form_id,
        job=job.id,
        **{key: value for key, value in parsed.to_dict().items() if value not in (None, False)},
    )
    thread = threading.Thread(target=_run_in_thread, args=(settings, job.id), name=f"export-{job.id}", daemon=True)
    with _threads_lock:
        _threads[job.id] = thread  # before the commit: a listing never sees the job without its thread
    try:
        session.commit()
    except BaseException:
        with _threads_lock:
            _threads.pop(job.id, None)
        raise
    thread.start()
    return job


def jobs_of(session: Session, organisation: Organisation) -> list[ExportJob]:
    """The organisation's export jobs, newest first; dead jobs are marked failed first."""
    recover(session, organisation=organisation)
    return list(
        session.scalars(
            select(ExportJob).where(ExportJob.organisation_id == organisation.id).order_by(ExportJob.id.desc())
        )
    )


def job_by_id(session: Session, organisation: Organisation, job_id) -> ExportJob:
    """One job of the organisation; Problem 404 when there is none with that id in it."""
    try:
        number = int(job_id)
    except (TypeError, ValueError):
        raise Problem("export.not_found", job_id=job_id) from None
    job = session.scalar(
        select(ExportJob).where(ExportJob.id == number, ExportJob.organisation_id == organisation.id)
    )
    if job is None:
        raise Problem("export.not_found", job_id=job_id)
    if job.status in (QUEUED, RUNNING) and is_dead(job):
        _mark_dead(session, [job])
    return job


def progress(job: ExportJob) -> dict:
    """What a page shows of a job: status, rows done of the total, the error if it failed."""
    total = job.rows_total or 0
    done = job.rows_done or 0
    expired = job.status == COMPLETE and job.expires_at is not None and job.expires_at <= utcnow()
    return {
        "status": job.status,
        "rows_done": done,
        "rows_total": total,
        "percent": 100 if job.status == COMPLETE else (int(done * 100 / total) if total else 0),
        "error": job.error,
        "file_name": job.file_name,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "expired": expired,
    }


def export_file(settings: Settings, job: ExportJob) -> Path:
    """The finished file of a job; Problem 409 while not complete, 410 once deleted."""
    if job.status != COMPLETE:
        raise Problem("export.not_ready", job_id=job.id, status=job.status)
    path = _job_dir(settings, job) / (job.file_name or "")
    if job.expires_at is not None and job.expires_at <= utcnow():
        shutil.rmtree(_job_dir(settings, job), ignore_errors=True)
        raise Problem("export.expired", job_id=job.id)
    if not job.file_name or not path.is_file():
        raise Problem("export.expired", job_id=job.id)
    return path


def recover(session: Session, *, organisation: Organisation | None = None, settings: Settings | None = None) -> int:
    """Mark jobs of dead threads or processes failed (and delete expired files when given settings).

    Call it at start-up; listing and looking up jobs call it too. Returns how many jobs it failed.
    """
    query = select(ExportJob).where(ExportJob.status.in_((QUEUED, RUNNING)))
    if organisation is not None:
        query = query.where(ExportJob.organisation_id == organisation.id)
    dead = [job for job in session.scalars(query) if is_dead(job)]
    if dead:
        _mark_dead(session, dead)
    if settings is not None:
        delete_expired_files(session, settings)
    return len(dead)


def delete_expired_files(session: Session, settings: Settings) -> int:
    """Delete the files of jobs past their expiry (the jobs stay, without a file); returns how many."""
    deleted = 0
    now = utcnow()
    for job in session.scalars(select(ExportJob).where(ExportJob.expires_at.is_not(None), ExportJob.expires_at <= now)):
        directory = _job_dir(settings, job)
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
            deleted += 1
    # Files of failed jobs are removed when they fail; left-overs of a crash go here too.
    for job in session.scalars(select(ExportJob).where(ExportJob.status == FAILED)):
        directory = _job_dir(settings, job)
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
    return deleted


def wait(job_id: int, timeout: float | None = None) -> bool:
    """Wait for a job's thread in this process to end (for tests and the command line); True if it ended."""
    with _threads_lock:
        thread = _threads.get(job_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


# -- dead jobs -------------------------------------------------------------------------------


def is_dead(job: ExportJob) -> bool:
    """Whether a queued or running job's thread or process is gone, or its heartbeat stopped."""
    host, _, rest = (job.worker or "").partition(":")
    pid_text, _, token = rest.partition(":")
    if job.worker == worker_id():
        with _threads_lock:
            thread = _threads.get(job.id)
        return thread is None or not thread.is_alive()
    if host == socket.gethostname()[:40] and pid_text.isdigit():
        if not _process_alive(int(pid_text)) or (int(pid_text) == os.getpid() and token != _TOKEN):
            return True
    last = job.heartbeat_at or job.started_at or job.created_at
    return last is None or utcnow() - last > STALE_AFTER


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _mark_dead(session: Session, jobs: list[ExportJob]) -> None:
    now = utcnow()
    for job in jobs:
        job.status = FAILED
        job.error = job.error or "The export stopped before it finished (its server process or thread ended). Start it again."
        job.finished_at = now
    session.commit()


# -- running a job ---------------------------------------------------------------------------


def _job_dir(settings: Settings, job: ExportJob) -> Path:
    return settings.export_dir / str(job.id)


def export_file_name(form: Form, options: ExportOptions, organisation: Organisation, settings: Settings) -> str:
    zone, _name = time_zone_of(organisation, settings)
    stamp = utcnow().astimezone(zone).strftime("%Y%m%d-%H%M%S")
    return f"{form.form_id}-{stamp}{options.suffix}"


def _run_in_thread(settings: Settings, job_id: int) -> None:
    database = Database(settings)
    try:
        run_job(database, settings, job_id)
    except BaseException:  # noqa: BLE001 - the job is marked failed by run_job; a thread has no one to tell
        log.exception("export job %s failed", job_id)
    finally:
        database.dispose()
        memory.give_back()  # an export's buffers, freed, would otherwise stay with the worker
        with _threads_lock:
            if _threads.get(job_id) is threading.current_thread():
                del _threads[job_id]


class _Reporter:
    """Records rows done and the heartbeat, at most every HEARTBEAT_SECONDS."""

    def __init__(self, session: Session, job: ExportJob):
        self.session = session
        self.job = job
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < HEARTBEAT_SECONDS and done < total:
            return
        self.last = now
        self.job.rows_done = done
        self.job.rows_total = total
        self.job.heartbeat_at = utcnow()
        self.session.commit()


def run_job(database: Database, settings: Settings, job_id: int) -> None:
    """Run one queued job to its end, complete or failed (used by the thread; callable directly)."""
    with _threads_lock:  # run directly (not by start_export): listings must see it alive
        _threads.setdefault(job_id, threading.current_thread())
    with database.sessions() as session:
        job = session.get(ExportJob, job_id)
        if job is None or job.status != QUEUED:
            return
        job.status = RUNNING
        job.worker = worker_id()
        job.started_at = job.heartbeat_at = utcnow()
        session.commit()
        directory = _job_dir(settings, job)
        try:
            organisation = session.get(Organisation, job.organisation_id)
            form = session.get(Form, job.form_id)
            user = session.get(User, job.requested_by_id) if job.requested_by_id else None
            options = ExportOptions.from_dict(job.options)
            reporter = _Reporter(session, job)
            ensure_flattened(session, form, progress=lambda: reporter(0, 1))
            directory.mkdir(parents=True, exist_ok=True)
            name = export_file_name(form, options, organisation, settings)
            partial = directory / f".{name}.partial"
            with reading_session(settings) as reader:
                result = run_export(
                    reader,
                    settings,
                    reader.get(Organisation, organisation.id),
                    reader.get(Form, form.id),
                    options,
                    partial,
                    requested_by=reader.get(User, user.id) if user else None,
                    progress=reporter,
                    spool_dir=directory,
                    file_stem=name.split(".")[0],
                )
            os.replace(partial, directory / name)
            job.status = COMPLETE
            job.file_name = name
            job.rows_done = job.rows_total = result.submissions
            job.watermark = result.watermark
            job.finished_at = utcnow()
            job.expires_at = job.finished_at + dt.timedelta(hours=settings.export_keep_hours)
            job.heartbeat_at = job.finished_at
            session.commit()
        except BaseException as error:
            session.rollback()
            job = session.get(ExportJob, job_id)
            job.status = FAILED
            job.error = _one_line(error)
            job.finished_at = utcnow()
            session.commit()
            shutil.rmtree(directory, ignore_errors=True)
            raise


def _one_line(error: BaseException) -> str:
    if isinstance(error, Problem):
        return error.en
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:500] if text else type(error).__name__


# -- reading without holding up phones ----------------------------------------------------------
