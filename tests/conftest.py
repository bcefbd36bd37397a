"""Fixtures shared by the whole suite.

The suite runs on SQLite by default and on PostgreSQL when
``FORMSERVER_TEST_DATABASE_URL`` names a server database: each run then gets a
fresh schema of its own, migrated once with Alembic, and emptied between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from formserver import create_app, migrate
from formserver.config import Settings
from formserver.db import Database
from formserver.storage import BlobStore

from .servers import server_environment

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "xlsforms"


def shared_path(*parts: str) -> Path:
    """A file of ../shared, or a skip saying why: a user's clone has no ../shared."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present: these tests read the shared reference material beside the project")
    return path


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """A migrated database for the session: (url, reset function)."""
    server_url = os.environ.get("FORMSERVER_TEST_DATABASE_URL")
    if server_url:
        schema = f"fs_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(server_url)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in server_url else "?"
        url = f"{server_url}{separator}options={quote(f'-csearch_path={schema}')}"
        engine = create_engine(url)
        migrate.upgrade(engine)
        tables = [
            name
            for (name,) in engine.connect().execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s AND tablename <> 'alembic_version'"),
                {"s": schema},
            )
        ]

        def reset() -> str:
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return url

        yield reset
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        template = tmp_path_factory.mktemp("template") / "template.sqlite3"
        engine = create_engine(f"sqlite:///{template}")
        migrate.upgrade(engine)
        engine.dispose()
        counter = iter(range(1_000_000))

        def reset() -> str:
            target = tmp_path_factory.getbasetemp() / f"db{next(counter)}.sqlite3"
            shutil.copyfile(template, target)
            return f"sqlite:///{target}"

        yield reset


@pytest.fixture
def settings(tmp_path, migrated_database) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Settings(
        data_dir=data_dir,
        database_url=migrated_database(),
        secret_key="test-secret-key",
        public_url="http://formserver.test",
        validate_with_java=False,
    )


@pytest.fixture
def database(settings):
    db = Database(settings)
    yield db
    db.dispose()


@pytest.fixture
def session(database):
    with database.session_scope() as session:
        yield session


@pytest.fixture
def blobs(settings) -> BlobStore:
    return BlobStore(settings.blob_dir)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["formserver.db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run(environment, monkeypatch, capsys):
    """Run ``formserver ARGS`` in-process against the test database; return (code, stdout, stderr)."""
    from formserver import cli

    for key, value in environment.items():
        if key.startswith("FORMSERVER_"):
            monkeypatch.setenv(key, value)

    def run(*args: str):
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def environment(settings) -> dict[str, str]:
    """Environment variables that point a ``formserver`` process at the test's database and data folder."""
    return server_environment(settings)
