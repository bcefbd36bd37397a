"""``formserver db upgrade`` and ``formserver setup``: the tables, and what a new server needs before serving."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..config import Settings
    from ..models import Organisation
    from . import Commands, Context

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


def register(commands: Commands) -> None:
    commands.area("db", help="the database")
    commands.command("db upgrade", db_upgrade, needs_schema=False, help="apply the migrations")
    setup_parser = commands.command(
        "setup",
        setup,
        needs_schema=False,
        help="upgrade the database, create the default organisation, load forms/, create an administrator",
    )
    setup_parser.add_argument(
        "--forms", type=Path, default=FORMS_DIR, help="folder of XLSForms to load (default: forms/)"
    )


def db_upgrade(context: Context, _args: Namespace) -> None:
    from .. import migrate

    migrate.upgrade(context.database.engine)
    print("database is up to date")


def setup(context: Context, args: Namespace) -> None:
    """Everything ``make serve`` needs before serving; safe to run again."""
    from .. import forms, migrate
    from ..workbooks import Limits

    migrate.upgrade(context.database.engine)
    settings = context.settings
    with context.session() as session:
        organisation = _default_organisation(session, settings)
        for path in sorted(args.forms.glob("*.xls*")) if args.forms.is_dir() else []:
            if path.name.startswith("~$"):
                continue
            upload = forms.add_form_version(
                session,
                context.blobs,
                organisation,
                path.read_bytes(),
                path.name,
                validate_with_java=settings.java_available,
                limits=Limits.of(settings),
            )
            state = "loaded" if upload.created else "already loaded"
            print(f"form {upload.form.form_id} {upload.version.version} {state}")
        _first_administrator(session, settings)


def _default_organisation(session: Session, settings: Settings) -> Organisation:
    from sqlalchemy import select

    from .. import accounts
    from ..models import Organisation

    existing = session.scalar(select(Organisation).where(Organisation.slug == settings.default_organisation))
    if existing is not None:
        return existing
    organisation = accounts.create_organisation(
        session, settings.default_organisation, settings.default_organisation_name
    )
    print(f"created organisation {organisation.slug}")
    return organisation


def _first_administrator(session: Session, settings: Settings) -> None:
    from sqlalchemy import select

    from .. import accounts
    from ..models import User

    if session.scalar(select(User).where(User.is_admin.is_(True)).limit(1)) is not None:
        return
    password = settings.admin_password or accounts.generate_password()
    accounts.create_user(session, settings.admin_email, password, realm=settings.digest_realm, is_admin=True)
    if settings.admin_password:
        print(f"created administrator {settings.admin_email} with FORMSERVER_ADMIN_PASSWORD")
    else:
        print(f"created administrator {settings.admin_email} with password {password}  (shown once: keep it)")
