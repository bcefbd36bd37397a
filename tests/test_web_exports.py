"""Exports on the web: start a job (as the page's script does, and without script), follow its progress,
download its file; the options reach the job."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from formserver.exports import jobs
from formserver.models import AuditEvent, ExportJob

from .web_fixtures import CSRF, sign_in, web  # noqa: F401


JSON = {"Accept": "application/json", "X-CSRF-Token": CSRF}


@pytest.fixture
def viewer(app, web):
    client = app.test_client()
    sign_in(client, app, web.users["viewer"])
    return client


def test_an_export_started_by_the_script_reports_progress_and_downloads(app, viewer, web):
    response = viewer.post(
        "/orgs/hillnet/forms/intake/export",
        data={"format": "xlsx", "language": "en", "header": "names", "values": "names"},
        headers=JSON,
    )
    assert response.status_code == 202
    started = response.get_json()
    assert started["status"] in ("queued", "running", "complete")
    assert started["progress_url"] == f"/orgs/hillnet/exports/{started['id']}"
    assert jobs.wait(started["id"], timeout=60)
    state = viewer.get(started["progress_url"], headers={"Accept": "application/json"}).get_json()
    assert state["status"] == "complete" and state["rows_done"] == state["rows_total"] == 1
    download = viewer.get(state["download_url"])
    assert download.status_code == 200
    assert download.headers["Cache-Control"] == "no-store, private"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    workbook = load_workbook(BytesIO(download.data), read_only=True)
    header = next(workbook.worksheets[0].iter_rows(values_only=True))
    assert "name" in header
    with app.extensions["formserver.db"].session_scope() as session:
        job = session.get(ExportJob, started["id"])
        assert job.options["lang"] == "en" and job.options["header"] == "names"
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("export.%"))).all()
        assert actions == ["export.create", "export.download"]


def test_without_script_the_form_posts_and_the_page_lists_the_job(app, viewer):
    response = viewer.post("/orgs/hillnet/forms/intake/export", data={"csrf_token": CSRF, "format": "csv", "media": "1"})
    assert response.status_code == 302 and response.location == "/orgs/hillnet/forms/intake/export"
    with app.extensions["formserver.db"].session_scope() as session:
        job = session.scalars(select(ExportJob).order_by(ExportJob.id.desc())).first()
        assert job.options["format"] == "csv" and job.options["media"] is True
        assert job.options["lang"] == "th"  # the page's language unless chosen
    jobs.wait(job.id, timeout=60)
    page = viewer.get("/orgs/hillnet/forms/intake/export").get_data(as_text=True)
    assert f'data-progress-url="/orgs/hillnet/exports/{job.id}"' in page
    assert f'href="/orgs/hillnet/exports/{job.id}/download"' in page
    assert f'href="/orgs/hillnet/exports/{job.id}/download"' in viewer.get("/orgs/hillnet/exports").get_data(as_text=True)


def test_a_bad_option_is_refused_before_a_job_starts(app, viewer):
    response = viewer.post("/orgs/hillnet/forms/intake/export", data={"format": "pdf"}, headers=JSON)
    assert response.status_code == 400 and "format" in response.get_json()["error"]
    response = viewer.post("/orgs/hillnet/forms/intake/export", data={"since": "yesterday"}, headers=JSON)
    assert response.status_code == 400
    with app.extensions["formserver.db"].session_scope() as session:
        assert len(session.scalars(select(ExportJob)).all()) == 2  # only the two of the test world


def test_a_file_no_longer_kept_says_so(viewer, web):
    response = viewer.get(f"/orgs/hillnet/exports/{web.own.job}/download")
    assert response.status_code == 410
    assert "โปรดส่งออกใหม่" in response.get_data(as_text=True)


def test_progress_needs_a_signed_in_session(app, web):
    anonymous = app.test_client()
    assert anonymous.get(f"/orgs/hillnet/exports/{web.own.job}", headers={"Accept": "application/json"}).status_code == 401


def test_the_export_page_shows_how_to_connect_tools_with_an_address_that_answers(app, viewer, web):
    from .api_fixtures import basic

    thai = viewer.get("/orgs/hillnet/forms/intake/export", headers={"Accept-Language": "th"}).get_data(as_text=True)
    odata = f"http://localhost/v1/projects/{web.own.org_id}/forms/intake.svc"
    assert "เชื่อมต่อ Excel / Power BI / R / Python" in thai and odata in thai
    assert "หน้านี้เปิดผ่าน http ธรรมดา" in thai  # Basic is refused here: said plainly
    assert "ru_setup(" in thai and "[central]" in thai and 'username = "viewer@hill.example"' in thai
    secure = viewer.get("/orgs/hillnet/forms/intake/export", headers={"Accept-Language": "en"}, base_url="https://localhost")
    english = secure.get_data(as_text=True)
    assert "Connect Excel / Power BI / R / Python" in english and "Excel, Power BI and R need this server on https" in english
    assert "This page was opened over plain http" not in english
    shown = f"https://localhost/v1/projects/{web.own.org_id}/forms/intake.svc"
    assert shown in english and 'tz = "Asia/Bangkok"' in english
    feed = app.test_client().get(shown + "/Submissions", headers=basic("viewer@hill.example"))
    assert feed.status_code == 200 and feed.get_json()["value"][0]["name"] == "สมชาย"
