"""The Alembic revisions build exactly the schema the models describe, on SQLite and PostgreSQL, from one head."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from formserver import migrate
from formserver.db import make_engine
from formserver.models import Base


def test_migrated_schema_matches_the_models(database):
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrations_go_down_to_nothing_and_up_again(database):
    migrate.downgrade(database.engine, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(database.engine)
    assert {"organisation", "form_version", "submission"} <= set(inspect(database.engine).get_table_names())


def test_the_embedded_database_uses_wal_and_full_synchronous_writes(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_revisions_have_one_head():
    # Revisions made side by side on branches each name the same parent: merged, they leave two
    # heads, and "upgrade head" refuses to run until one names the other as its down_revision.
    scripts = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    heads = [scripts.get_revision(head) for head in scripts.get_heads()]
    assert len(heads) == 1, "the migrations have several heads: " + "; ".join(
        f"{head.revision} ({head.doc}, after {head.down_revision})" for head in heads
    )
