"""Reading for exports: one snapshot, rows streamed, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import func, select, text

from formserver.accounts import create_organisation
from formserver.db import reading_session, stream_rows
from formserver.models import Organisation

NUMBERS = text("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :last) SELECT x FROM n")


def organisations(session) -> int:
    return session.scalar(select(func.count()).select_from(Organisation))


def test_streamed_rows_come_in_order_and_all_of_them(settings, database):
    with reading_session(settings) as session:
        assert [x for (x,) in stream_rows(session, NUMBERS.bindparams(last=5000), 100)] == list(range(1, 5001))


def test_a_stream_closed_early_leaves_the_same_snapshot_usable(settings, database):
    with database.session_scope() as writer:  # the application's engine puts SQLite in WAL mode, as a server does
        before = organisations(writer)
    with reading_session(settings) as session:
        assert organisations(session) == before
        with database.session_scope() as writer:
            create_organisation(writer, "latecomer", "Arrived after the snapshot")
        rows = stream_rows(session, NUMBERS.bindparams(last=50_000), 100)
        assert [next(rows)[0] for _ in range(3)] == [1, 2, 3]
        rows.close()  # PostgreSQL cancels the query half-way
        assert organisations(session) == before
        assert sum(1 for _ in stream_rows(session, NUMBERS.bindparams(last=2000), 100)) == 2000
    with reading_session(settings) as session:
        assert organisations(session) == before + 1
