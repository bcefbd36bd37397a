"""One database connection per server thread for phone requests, kept from one request to the next.

Every submission is two requests (HEAD, then POST), each a few milliseconds of
work; checking a connection out of the pool for each of them (with the pool's
liveness ping, and its reset on return) costs a database round trip and a
noticeable share of the CPU. Like Django's persistent connections, each server
thread keeps its own connection instead and binds the request's session to it.
When the thread ends (the server stops idle threads), its connection is closed.

A connection that the database dropped (a PostgreSQL restart) is marked invalid
by SQLAlchemy when a request fails on it; the next request in that thread opens a
new one. That failed request gets a 500, which Collect retries, and nothing was
stored. Disposing the engine closes every kept connection.
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session


class ThreadConnections:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Connection] = []
        event.listen(engine, "engine_disposed", self._close_all)

    def session(self) -> Session:
        """A new session bound to this thread's connection (committing or rolling back, never closing it)."""
        kept = getattr(self._local, "kept", None)
        if kept is None or kept.connection.closed or kept.connection.invalidated:
            if kept is not None:
                self._forget(kept.connection)
            kept = self._local.kept = _Kept(self.engine.connect())
            with self._lock:
                self._open.append(kept.connection)
            # The thread-local value goes when its thread ends: close the connection with it.
            weakref.finalize(kept, self._forget, kept.connection)
        return Session(bind=kept.connection, expire_on_commit=False)

    def _forget(self, connection: Connection) -> None:
        with self._lock:
            if connection in self._open:
                self._open.remove(connection)
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - an invalid connection may fail to close; it is gone anyway
            pass

    def _close_all(self, _engine: Engine) -> None:
        with self._lock:
            connections, self._open = self._open, []
        for connection in connections:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - e.g. an SQLite connection of another thread
                pass


class _Kept:
    """The thread-local holder of one thread's connection."""

    __slots__ = ("connection", "__weakref__")

    def __init__(self, connection: Connection):
        self.connection = connection
