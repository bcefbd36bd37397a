"""``formserver serve``: gunicorn, a production WSGI server, around the application factory."""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication

from .config import Settings


# One worker process per core, each with 8 threads. Phone requests are short and spend
# part of their time waiting on the database (a commit waits for the disk), which
# threads overlap; more processes than cores only add memory (each worker holds the
# whole application, about 130 MB) and contention with the database for the same
# cores. Measured with bench/ingest.py: see README "Benchmarks".
DEFAULT_THREADS = 8


def default_workers() -> int:
    # At most 8: every thread that serves phones keeps a database connection
    # (openrosa/connections.py), and PostgreSQL allows 100 connections by default.
    return min(8, max(2, os.cpu_count() or 1))


class _Server(BaseApplication):
    def __init__(self, settings: Settings, options: dict):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app(self.settings)


def run(settings: Settings, *, host: str, port: int, workers: int | None, threads: int | None = None) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or default_workers(),
        "worker_class": "gthread",
        "threads": threads or DEFAULT_THREADS,
        "timeout": 120,
        "keepalive": 75,
        "accesslog": "-",
        # X-Forwarded-Proto decides http or https (and so whether Basic sign-in is allowed):
        # trusted only behind the TLS proxy (FORMSERVER_BEHIND_PROXY), from no one otherwise.
        "forwarded_allow_ips": "*" if settings.behind_proxy else "",
        # gunicorn 27 otherwise opens one control socket per user (~/.gunicorn/gunicorn.ctl) that every
        # instance on the machine shares, and waits for it when stopping.
        "control_socket_disable": True,
    }
    print(f"formserver serving on http://{host}:{port} (public address {settings.public_url})", flush=True)
    _Server(settings, options).run()
