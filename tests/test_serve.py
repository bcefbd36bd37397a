"""What ``make serve`` runs: setup, then a production server whose home page answers."""

from __future__ import annotations

import subprocess
import urllib.request

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
