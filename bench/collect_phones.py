"""The phones of ``bench/ingest.py --client collect_load``: the shared Collect-like client, run as it is.

``../shared/tools/collect_load.py`` is the client that measured ODK Central beside formserver
in one run (issue #12). Running that same file, rather than a copy or our own phones, keeps our
figures comparable with Central's: the same instances, headers, multipart bodies, keep-alive
sessions (``requests``) and the same way of timing a POST. It is read from the shared folder at
run time and never copied into this repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

CLIENT = Path(__file__).resolve().parent.parent.parent / "shared" / "tools" / "collect_load.py"
FORM_ID = "household_load"
FORM_VERSION = "2026010101"


def client() -> Path:
    """The shared client; ``SystemExit`` (non-zero) with the reason when the shared folder is absent."""
    if not CLIENT.is_file():
        raise SystemExit(f"--client collect_load needs {CLIENT} (the shared folder beside the repository); it is absent")
    return CLIENT


def form_xml() -> tuple[bytes, str]:
    """The XForm matching the client's instances, as the client writes it (``--form-xml``)."""
    with tempfile.TemporaryDirectory(prefix="collect-load-form-") as folder:
        path = Path(folder) / f"{FORM_ID}.xml"
        subprocess.run([sys.executable, str(client()), "--form-xml", str(path)], check=True, capture_output=True)
        return path.read_bytes(), path.name


def drive(base: str, *, submissions: int, concurrency: int, seed: int, start_index: int, server_pid: int) -> dict:
    """One level: ``submissions`` sent by ``concurrency`` phones; the client's JSON report and its acknowledged IDs.

    The client samples the server's CPU itself (``--watch-pid`` with its workers). A non-zero exit
    (some submission not acknowledged) is reported as failures, not raised: the check that follows
    counts what was stored.
    """
    with tempfile.TemporaryDirectory(prefix="collect-load-") as folder:
        acked, report = Path(folder) / "acked.txt", Path(folder) / "report.json"
        finished = subprocess.run(
            [
                sys.executable, str(client()), "--base", base, "-n", str(submissions), "-c", str(concurrency),
                "--seed", str(seed), "--start-index", str(start_index), "--form-id", FORM_ID,
                "--form-version", FORM_VERSION, "--acked-out", str(acked), "--json-out", str(report),
                "--watch-pid", str(server_pid), "--watch-children",
            ],
            capture_output=True, text=True,
        )
        if not report.exists():
            raise RuntimeError(f"collect_load.py failed ({finished.returncode}): {finished.stderr.strip()[-2000:]}")
        result = json.loads(report.read_text())
        result["acknowledged"] = acked.read_text().split()
    return result
