"""Apply the Alembic revisions in ``migrations/`` to the configured database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic reads options through configparser, where "%" starts an interpolation.
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade on one connection of ``engine``, so connect-time settings (search_path, pragmas) apply."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def newest() -> str:
    """The newest revision of ``migrations/`` (its heads, comma-separated, should there be several)."""
    return ", ".join(sorted(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()))


def pending(engine: Engine) -> str | None:
    """None when the database is at the newest revision; otherwise the revision it is at ("none" when empty)."""
    heads = set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return None
    return ", ".join(sorted(current)) or "none"
