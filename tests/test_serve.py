"""What ``make serve`` runs: setup, then a production server whose home page answers."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request

from formserver import forms
from formserver.accounts import create_organisation
from formserver.models import ExportJob, utcnow

from .servers import formserver_executable, running_server
from .xlsforms import simple_form


def test_setup_then_serve_answers_on_the_home_page(environment, tmp_path):
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "simple.xlsx").write_bytes(simple_form(title="แบบสำรวจตัวอย่าง"))
    setup = subprocess.run(
        [formserver_executable(), "setup", "--forms", str(folder)], env=environment, capture_output=True, text=True
    )
    assert setup.returncode == 0, setup.stderr
    assert "form simple 1 loaded" in setup.stdout
    with running_server(environment) as (base, _pid):
        with urllib.request.urlopen(base + "/") as response:
            assert response.status == 200
            assert "text/html" in response.headers["Content-Type"]
            assert "formserver" in response.read().decode("utf-8")
        server = urllib.request.urlopen(base + "/").headers.get("Server", "")
        assert "Werkzeug" not in server, "a production WSGI server, not Flask's development server"


def test_the_access_log_names_every_request_but_never_a_device_token(environment, tmp_path):
    log = tmp_path / "server.log"
    token = "SecretDeviceToken0123456789"
    with running_server(environment, log=log) as (base, _pid):
        asked = [("HEAD", f"/key/{token}/o/hillnet/submission"), ("HEAD", f"/key/{token}/o/hillnet/formList"),
                 ("DELETE", f"/v1/sessions/{token}")]
        for method, path in asked:
            request = urllib.request.Request(base + path, method=method)
            try:
                urllib.request.urlopen(request).close()
            except urllib.error.HTTPError as refused:
                assert refused.code == 401
        deadline = time.monotonic() + 10  # a request is logged just after its answer is sent
        while log.read_text().count("/o/hillnet/") + log.read_text().count("/v1/sessions/") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    written = log.read_text()
    assert "/key/…/o/hillnet/submission" in written and "/key/…/o/hillnet/formList" in written, written
    assert "/v1/sessions/…" in written, written
    assert token not in written
    assert "[WARNING]" not in written  # nothing that would worry whoever reads the log


def test_an_export_left_running_by_a_stopped_server_is_failed_when_the_server_starts(environment, session, blobs):
    organisation = create_organisation(session, "hillnet", "เครือข่ายบนดอย")
    upload = forms.add_form_version(session, blobs, organisation, simple_form(), "simple.xlsx")
    ended = subprocess.Popen(["true"])
    ended.wait()
    job = ExportJob(
        organisation_id=organisation.id, form_id=upload.form.id, status="running",
        worker=f"{socket.gethostname()[:40]}:{ended.pid}:0000", started_at=utcnow(), heartbeat_at=utcnow(),
    )
    session.add(job)
    session.commit()
    with running_server(environment):
        session.expire_all()
        assert session.get(ExportJob, job.id).status == "failed"
