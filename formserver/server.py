"""``formserver serve``: Granian, a production HTTP server, around the application factory.

Granian parses HTTP and moves bytes in Rust. Measured with a Collect-like client
(HEAD, then POST, on keep-alive connections) and an application that does nothing,
it cost 0.33 ms of CPU per submission where gunicorn's gthread worker costs
1.35 ms: on a 2-core machine that is a fifth of everything a submission costs.
Each worker process runs an event loop with our front (front.py), which receives
request bodies without a thread (slow and stalled phones never stop the others) and
runs the WSGI application in a pool of threads.
"""

from __future__ import annotations

import copy
import functools
import logging
import os

from . import front
from .config import Settings
from .openrosa.answers import without_token

# Threads per worker process that run the application. Phone requests are short and
# spend part of their time waiting on the database (a commit waits for the disk), which
# threads overlap; more processes than cores only add memory and contention with the
# database for the same cores. Since the front receives bodies without a thread, a slow
# phone holds none, and four threads did better than eight at 8 and at 32 phones (more
# threads only took turns for the GIL). Measured with bench/ingest.py: README "Benchmarks".
DEFAULT_THREADS = 4


def default_workers() -> int:
    # At most 8: every thread that serves phones keeps a database connection
    # (openrosa/connections.py), and PostgreSQL allows 100 connections by default.
    return min(8, max(2, os.cpu_count() or 1))


class HideTokens(logging.Filter):
    """A device account's token is its password: the access log shows ``/key/…/`` instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and isinstance(record.args.get("path"), str):
            record.args = {**record.args, "path": without_token(record.args["path"])}
        return True


def logging_config() -> dict:
    from granian.log import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"hide_tokens": {"()": f"{__name__}.HideTokens"}}
    config["handlers"]["access"]["filters"] = ["hide_tokens"]
    return config


def recover_exports(settings: Settings) -> None:
    """Exports that a stopped server left running end as failed, and files past their time go, before
    serving; so do orphan files older than a day (``integrity.remove_old_orphans``)."""
    from .db import Database
    from .exports import jobs
    from .integrity import remove_old_orphans

    database = Database(settings)
    try:
        with database.session_scope() as session:
            failed = jobs.recover(session, settings=settings)
    finally:
        database.dispose()
    if failed:
        print(f"{failed} export(s) left running by a stopped server marked failed", flush=True)
    if removed := remove_old_orphans(settings):
        print(f"{len(removed)} orphan file(s) older than 24 hours removed", flush=True)


def run(settings: Settings, *, host: str, port: int, workers: int | None, threads: int | None = None) -> None:
    """Serve until SIGINT or SIGTERM. Each worker builds its application from the same
    environment (``create_app()`` reads FORMSERVER_*), so every worker has the same settings."""
    from granian import Granian
    from granian.constants import Interfaces, Loops

    recover_exports(settings)
    print(f"formserver serving on http://{host}:{port} (public address {settings.public_url})", flush=True)
    Granian(
        "formserver.front:load",
        interface=Interfaces.RSGI,
        loop=Loops.uvloop,  # about 0.1 ms less server CPU a submission than Python's own loop (bench/ingest.py)
        address=host,
        port=port,
        workers=workers or default_workers(),
        websockets=False,
        respawn_failed_workers=True,
        log_access=True,
        log_dictconfig=logging_config(),
    ).serve(target_loader=functools.partial(front.load, threads or DEFAULT_THREADS), wrap_loader=False)
