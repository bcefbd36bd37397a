"""Each server thread keeps one database connection for phone requests, and gives it back when it ends."""

from __future__ import annotations

import gc
import threading

from sqlalchemy import text

from formserver.openrosa.connections import ThreadConnections


def _in_a_thread(function):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", function()))
    thread.start()
    thread.join()
    return result["value"]


def test_a_thread_reuses_its_connection_from_one_request_to_the_next(database):
    connections = ThreadConnections(database.engine)

    def two_requests():
        first, second = connections.session(), connections.session()
        return first.connection().connection.driver_connection is second.connection().connection.driver_connection

    assert _in_a_thread(two_requests)


def test_a_thread_that_ends_closes_its_connection(database):
    connections = ThreadConnections(database.engine)

    def request():
        session = connections.session()
        assert session.execute(text("SELECT 1")).scalar() == 1
        session.rollback()
        return session.get_bind()

    kept = _in_a_thread(request)
    gc.collect()
    assert kept.closed
