"""Exports as background jobs: the API the web pages use, progress, and jobs that never stay stuck."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import threading

import pytest
from sqlalchemy import select

from formserver.accounts import add_member, create_organisation
from formserver.exports import export as export_module
from formserver.exports import jobs
from formserver.exports.samples import add_submission
from formserver.models import AuditEvent, ExportJob, utcnow
from formserver.problems import Problem

from .test_export_support import NAPAT, SOMCHAI, organisation, person, read_workbook, table, visit  # noqa: F401 - fixtures

@pytest.fixture
def manager(session, organisation):
    user = person(session, "manager@example.org")
    add_member(session, organisation, user, "manager")
    return user


def finished(database, job_id: int) -> ExportJob:
    assert jobs.wait(job_id, timeout=60), "the export thread did not end"
    with database.sessions() as fresh:
        return fresh.get(ExportJob, job_id)


def test_an_export_job_runs_in_the_background_to_a_complete_file(session, database, settings, organisation, visit, manager):
    add_submission(session, visit, SOMCHAI, received_at=utcnow() - dt.timedelta(hours=1))
    add_submission(session, visit, NAPAT, received_at=utcnow() - dt.timedelta(hours=1))
    session.commit()
    job = jobs.start_export(session, settings, organisation, visit.form, {"lang": "en"}, requested_by=manager)
    assert job.id is not None and job.status == "queued"
    done = finished(database, job.id)
    state = jobs.progress(done)
    assert (state["status"], state["rows_done"], state["rows_total"], state["error"], state["percent"]) == ("complete", 2, 2, None, 100)
    path = jobs.export_file(settings, done)
    assert path.name == done.file_name and path.name.startswith("visit-") and path.suffix == ".xlsx"
    sheets = read_workbook(path)
    assert sheets["visit"][1][1] == "Head of household"
    assert len(table(sheets["member"])) == 3
    assert done.expires_at - done.finished_at == dt.timedelta(hours=settings.export_keep_hours)
    with database.sessions() as fresh:
        event = fresh.scalar(select(AuditEvent).where(AuditEvent.action == "export.create"))
        assert (event.actor_user_id, event.target, event.details["job"], event.details["lang"]) == (manager.id, "visit", job.id, "en")


def test_progress_of_a_running_job_is_readable_while_it_runs(session, database, settings, organisation, visit, manager, monkeypatch):
    for _ in range(5):
        add_submission(session, visit, NAPAT)
    session.commit()
    reached, release = threading.Event(), threading.Event()
    real = jobs.run_export

    def paused(*args, progress, **options):
        def hook(done, total):
            progress(done, total)
            if done >= 2 and not reached.is_set():
                reached.set()
                release.wait(20)

        return real(*args, progress=hook, **options)

    monkeypatch.setattr(jobs, "run_export", paused)
    monkeypatch.setattr(export_module, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0)
    job = jobs.start_export(session, settings, organisation, visit.form, {}, requested_by=manager)
    try:
        assert reached.wait(30)
        with database.sessions() as fresh:
            state = jobs.progress(jobs.job_by_id(fresh, organisation, job.id))
        assert (state["status"], state["rows_done"], state["rows_total"]) == ("running", 2, 5)
    finally:
        release.set()
    assert finished(database, job.id).status == "complete"


def test_a_job_whose_export_fails_ends_failed_with_the_reason_and_no_file(session, database, settings, organisation, visit, manager, monkeypatch):
    add_submission(session, visit, NAPAT)
    session.commit()

    def broken(*args, **options):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs, "run_export", broken)
    job = jobs.start_export(session, settings, organisation, visit.form, {}, requested_by=manager)
    done = finished(database, job.id)
    assert done.status == "failed" and "No space left on device" in done.error
    assert not (settings.export_dir / str(job.id)).exists()
    with pytest.raises(Problem) as refused:
        jobs.export_file(settings, done)
    assert refused.value.status == 409


def test_a_job_whose_thread_died_without_a_word_is_marked_failed_when_jobs_are_listed(session, database, settings, organisation, visit, manager, monkeypatch):
    monkeypatch.setattr(jobs, "run_job", lambda database, settings, job_id: None)  # the thread ends, the job stays queued
    job = jobs.start_export(session, settings, organisation, visit.form, {}, requested_by=manager)
    assert jobs.wait(job.id, 10)
    with database.sessions() as fresh:
        listed = {j.id: j for j in jobs.jobs_of(fresh, organisation)}
        assert listed[job.id].status == "failed"
        assert "Start it again" in jobs.progress(listed[job.id])["error"]


def _left_running(session, organisation, form, worker: str, heartbeat: dt.datetime) -> ExportJob:
    job = ExportJob(
        organisation_id=organisation.id, form_id=form.id, status="running", worker=worker,
        started_at=heartbeat, heartbeat_at=heartbeat,
    )
    session.add(job)
    session.commit()
    return job


def test_a_job_left_running_by_a_process_that_ended_is_marked_failed(session, organisation, visit):
    ended = subprocess.Popen(["true"])
    ended.wait()
    job = _left_running(session, organisation, visit.form, f"{socket.gethostname()[:40]}:{ended.pid}:0000", utcnow())
    assert jobs.job_by_id(session, organisation, job.id).status == "failed"


def test_a_job_left_running_by_this_process_before_a_restart_is_marked_failed(session, organisation, visit):
    job = _left_running(session, organisation, visit.form, jobs.worker_id(), utcnow())
    assert jobs.recover(session) == 1
    assert job.status == "failed"


def test_a_running_job_elsewhere_is_failed_only_when_its_heartbeat_is_stale(session, organisation, visit):
    stale = _left_running(session, organisation, visit.form, "another-host:4242:abcd", utcnow() - jobs.STALE_AFTER - dt.timedelta(seconds=1))
    alive = _left_running(session, organisation, visit.form, "another-host:4243:abcd", utcnow() - dt.timedelta(seconds=5))
    statuses = {job.id: job.status for job in jobs.jobs_of(session, organisation)}
    assert statuses == {stale.id: "failed", alive.id: "running"}


def test_finished_files_are_deleted_after_the_keeping_time_and_the_job_stays(session, database, settings, organisation, visit, manager):
    add_submission(session, visit, NAPAT)
    session.commit()
    job = jobs.start_export(session, settings, organisation, visit.form, {"format": "csv"}, requested_by=manager)
    done = finished(database, job.id)
    path = jobs.export_file(settings, done)
    assert path.name.endswith(".csv.zip")
    with database.sessions() as fresh:
        kept = fresh.get(ExportJob, job.id)
        kept.expires_at = utcnow() - dt.timedelta(minutes=1)
        fresh.commit()
        assert jobs.recover(fresh, settings=settings) == 0
        assert not path.exists()
        assert jobs.progress(kept)["expired"] is True
        with pytest.raises(Problem) as gone:
            jobs.export_file(settings, kept)
        assert gone.value.status == 410
        assert [j.id for j in jobs.jobs_of(fresh, organisation)] == [job.id]


def test_only_what_is_new_since_my_last_complete_export_job(session, database, settings, organisation, visit, manager):
    add_submission(session, visit, NAPAT, instance_id="uuid:old", received_at=utcnow() - dt.timedelta(hours=1))
    session.commit()
    first = finished(database, jobs.start_export(session, settings, organisation, visit.form, {}, requested_by=manager).id)
    assert first.watermark is not None
    add_submission(session, visit, NAPAT, instance_id="uuid:new")
    session.commit()
    second = finished(database, jobs.start_export(session, settings, organisation, visit.form, {"new_only": True}, requested_by=manager).id)
    sheets = read_workbook(jobs.export_file(settings, second))
    assert [row["KEY"] for row in table(sheets["visit"])] == ["uuid:new"]


def test_managers_viewers_and_network_administrators_may_export_collectors_may_not(session, settings, organisation, visit, monkeypatch):
    monkeypatch.setattr(jobs, "run_job", lambda database, settings, job_id: None)
    people = {}
    for role in ("viewer", "collector"):
        people[role] = person(session, f"{role}@example.org")
        add_member(session, organisation, people[role], role)
    people["admin"] = person(session, "admin@example.org", admin=True)
    people["outsider"] = person(session, "outsider@example.org")
    for allowed in ("viewer", "admin"):
        job = jobs.start_export(session, settings, organisation, visit.form, {}, requested_by=people[allowed])
        jobs.wait(job.id, 10)
    for refused_role in ("collector", "outsider"):
        with pytest.raises(Problem) as refused:
            jobs.start_export(session, settings, organisation, visit.form, {}, requested_by=people[refused_role])
        assert refused.value.code == "export.forbidden" and refused.value.status == 403


def test_a_job_is_found_only_in_its_own_organisation(session, settings, organisation, visit, manager, monkeypatch):
    monkeypatch.setattr(jobs, "run_job", lambda database, settings, job_id: None)
    job = jobs.start_export(session, settings, organisation, visit.form, {}, requested_by=manager)
    jobs.wait(job.id, 10)
    other = create_organisation(session, "othernet", "Other network")
    assert jobs.job_by_id(session, organisation, job.id).id == job.id
    for wrong in ((other, job.id), (organisation, job.id + 1000), (organisation, "x")):
        with pytest.raises(Problem) as missing:
            jobs.job_by_id(session, *wrong)
        assert missing.value.code == "export.not_found" and missing.value.status == 404
    assert jobs.jobs_of(session, other) == []


def test_bad_options_and_unknown_versions_are_refused_before_a_job_starts(session, settings, organisation, visit, manager):
    for options, code in (({"format": "pdf"}, "export.bad_option"), ({"version": "99"}, "form.version_not_found")):
        with pytest.raises(Problem) as refused:
            jobs.start_export(session, settings, organisation, visit.form, options, requested_by=manager)
        assert refused.value.code == code
    assert session.scalars(select(ExportJob)).all() == []
