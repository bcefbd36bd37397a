"""Engine, one session per request, ``session_scope()`` for the command line and jobs, ``reading_session()``
and ``stream_rows()`` for exports, and ``read_first()``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings


class Database:
    """The engine and session factory of one settings object."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back otherwise."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL with full fsync so that a 201 means on disk.

    JSON columns are written compactly with Thai as UTF-8, not as \\u escapes:
    a third smaller, and faster for exports to read back.
    """
    kwargs.setdefault("json_serializer", _compact_json)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _compact_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:
    """Take the write lock at BEGIN, so concurrent writers queue instead of failing mid-way."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def request_session() -> Session:
    """The session of the current request, closed when the request ends.

    Flask is imported by the two request functions, not by the module: the command line uses the
    database without Flask."""
    from flask import current_app, g

    if "db_session" not in g:
        g.db_session = current_app.extensions["formserver.db"].sessions()
    return g.db_session


def close_request_session(_exc: BaseException | None = None) -> None:
    from flask import g

    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def reading_session(settings: Settings):
    """A session that reads one consistent snapshot and never blocks writers.

    On SQLite the application's engine begins every transaction with BEGIN
    IMMEDIATE (the write lock); a long export must not hold that, so it reads
    through its own engine with a plain (deferred) BEGIN, which in WAL mode is a
    snapshot that phones' writes do not wait for. On PostgreSQL the snapshot is
    REPEATABLE READ. Long reads go through ``stream_rows``.
    """
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_reader)
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
    else:
        engine = make_engine(url, isolation_level="REPEATABLE READ")
    try:
        with Session(engine) as session:
            try:
                yield session
            finally:
                session.rollback()
    finally:
        engine.dispose()


def _sqlite_reader(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA query_only=1")
    cursor.close()


def stream_rows(session: Session, statement, batch: int) -> Iterator[tuple]:
    """The rows of a long read in the session's transaction, about ``batch`` of them in memory at a time.

    On PostgreSQL the rows come through psycopg's ``stream``: the server sends
    them as it makes them, so its work overlaps ours, where a server-side cursor
    waits for each FETCH (a tenth of an export's time). No other statement can
    run on the connection until the rows are read or the iterator is closed.
    Closing it early cancels the query, so the rows are read inside a savepoint
    that is rolled back then: the transaction and its snapshot stay usable.
    Values come as psycopg makes them, without SQLAlchemy's result processing:
    use it for integers, text and time-zone-aware timestamps, which come as
    SQLAlchemy gives them (and for statements without ``IN`` lists, which
    SQLAlchemy expands only when it runs a statement itself). Elsewhere, a
    streamed SQLAlchemy result.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        with connection.execute(statement.execution_options(yield_per=batch)) as result:
            yield from result
        return
    import psycopg

    compiled = statement.compile(dialect=connection.dialect)
    parameters = compiled.construct_params()
    for name, value in parameters.items():
        processor = compiled.binds[name].type.bind_processor(connection.dialect)
        if processor is not None:
            parameters[name] = processor(value)
    driver = connection.connection.driver_connection
    size = batch if psycopg.pq.version() >= 170000 else 1  # chunks need libpq 17; else row by row
    driver.execute("SAVEPOINT stream_rows")
    finished = False
    try:
        yield from driver.cursor().stream(str(compiled), parameters, size=size)
        finished = True
    finally:
        driver.execute("RELEASE SAVEPOINT stream_rows" if finished else "ROLLBACK TO SAVEPOINT stream_rows")


# --------------------------------------------------------------------------- reads outside a transaction

_COMPILED: dict[tuple[int, str], tuple[str, tuple[str, ...] | None, tuple[str, ...], dict]] = {}


def read_first(session: Session, statement, parameters: dict) -> dict | None:
    """The first row (as a dict) of a read that decides who a phone is, run outside any transaction.

    Every phone request starts with such a read, and a submission's form is found with one. Run in a transaction it would, on
    SQLite, take the write lock (the engine begins every transaction IMMEDIATE) for
    as long as the request lasts, uploads included; on PostgreSQL it would cost a
    BEGIN and a ROLLBACK round trip. So, when the session is bound to a kept
    connection with no transaction open, the statement goes straight to the driver
    in autocommit mode: a single consistent read, no lock held afterwards.
    Columns come back as the driver gives them (use it for ids, text and flags).
    """
    bind = session.get_bind()
    if not isinstance(bind, Connection) or session.in_transaction() or bind.in_transaction() or bind.invalidated:
        row = session.connection().execute(statement, parameters).first()
        return dict(row._mapping) if row is not None else None
    dialect = bind.dialect
    key = (id(statement), dialect.name)
    compiled = _COMPILED.get(key)
    if compiled is None:
        sql = statement.compile(dialect=dialect)
        compiled = _COMPILED[key] = (
            str(sql),
            tuple(sql.positiontup) if sql.positional else None,
            tuple(column.name for column in statement.selected_columns),
            {name: bind.value for name, bind in sql.binds.items() if bind.value is not None},  # e.g. a LIMIT
        )
    text, positions, names, fixed = compiled
    parameters = {**fixed, **parameters}
    arguments = tuple(parameters[name] for name in positions) if positions is not None else parameters
    driver = bind.connection.driver_connection
    try:
        if dialect.name == "postgresql":
            driver.autocommit = True
            try:
                cursor = driver.execute(text, arguments)
                row = cursor.fetchone()
            finally:
                driver.autocommit = False
        else:  # SQLite, whose driver connection runs statements outside BEGIN in autocommit (see db.py)
            cursor = driver.execute(text, arguments)
            row = cursor.fetchone()
            cursor.close()
    except Exception:
        bind.invalidate()  # whatever went wrong, the next request starts on a fresh connection
        raise
    return dict(zip(names, row)) if row is not None else None
