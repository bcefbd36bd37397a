"""The ``formserver`` command: a contract other tools and tests rely on.

Every command exits non-zero with a one-line reason on error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import accounts, appusers, forms, migrate
from .config import Settings
from .db import Database
from .models import Organisation, User
from .problems import Problem
from .storage import BlobStore
from .xlsform import FormError

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"
COMMANDS: dict[str, Callable] = {}


class Context:
    """What every command needs: the settings, the database and the blob store."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.database = Database(settings)
        self.blobs = BlobStore(settings.blob_dir)

    def session(self):
        return self.database.session_scope()


def command(name: str):
    def register(function: Callable) -> Callable:
        COMMANDS[name] = function
        return function

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="formserver", description="A data-collection server for ODK Collect.")
    sub = parser.add_subparsers(dest="area", required=True)

    db = sub.add_parser("db", help="the database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply the migrations")

    setup = sub.add_parser("setup", help="upgrade the database, create the default organisation, load forms/, create an administrator")
    setup.add_argument("--forms", type=Path, default=FORMS_DIR, help="folder of XLSForms to load (default: forms/)")

    org = sub.add_parser("org", help="organisations").add_subparsers(dest="action", required=True)
    create = org.add_parser("create")
    create.add_argument("slug")
    create.add_argument("--name", required=True)
    org.add_parser("list")

    user = sub.add_parser("user", help="people who sign in").add_subparsers(dest="action", required=True)
    create = user.add_parser("create")
    create.add_argument("email")
    create.add_argument("--password", required=True)
    create.add_argument("--admin", action="store_true")
    password = user.add_parser("password", help="set a new password")
    password.add_argument("email")
    password.add_argument("--password", required=True)

    member = sub.add_parser("member", help="roles in an organisation").add_subparsers(dest="action", required=True)
    add = member.add_parser("add")
    add.add_argument("slug")
    add.add_argument("email")
    add.add_argument("--role", required=True, help="manager, collector or viewer")

    form = sub.add_parser("form", help="forms").add_subparsers(dest="action", required=True)
    add = form.add_parser("add", help="upload an XLSForm or XForm as a new version")
    add.add_argument("slug")
    add.add_argument("file", type=Path)
    add.add_argument("--media", type=Path, nargs="*", default=[])
    add.add_argument("--draft", action="store_true")
    state = form.add_parser("state")
    state.add_argument("slug")
    state.add_argument("form_id")
    state.add_argument("state", help="open, closing or closed")
    listing = form.add_parser("list")
    listing.add_argument("slug")
    media = form.add_parser("media", help="attach media files to the newest version")
    media.add_argument("slug")
    media.add_argument("form_id")
    media.add_argument("files", type=Path, nargs="+")
    publish = form.add_parser("publish", help="publish the newest draft")
    publish.add_argument("slug")
    publish.add_argument("form_id")
    for action, words in (("assign", "only these accounts may see and fill it"), ("unassign", "remove one assignment")):
        assignment = form.add_parser(action, help=f"assign the form to a device account or a person: {words}")
        assignment.add_argument("slug")
        assignment.add_argument("form_id")
        who = assignment.add_mutually_exclusive_group(required=True)
        who.add_argument("--app-user", metavar="NAME", help="a device account of the organisation")
        who.add_argument("--user", metavar="EMAIL", help="a member of the organisation")
    assignments = form.add_parser("assignments", help="who the form is assigned to (nobody: everyone may fill it)")
    assignments.add_argument("slug")
    assignments.add_argument("form_id")

    serve = sub.add_parser("serve", help="serve with a production WSGI server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--workers", type=int, default=None)
    serve.add_argument("--threads", type=int, default=None, help="threads per worker")

    for extend in EXTENSIONS:
        extend(sub)
    return parser


EXTENSIONS: list[Callable] = []
NEEDS_NO_SCHEMA = {"db upgrade", "setup"}  # the commands that create or upgrade the tables


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    key = f"{args.area} {getattr(args, 'action', '')}".strip()
    handler = COMMANDS.get(key) or COMMANDS.get(args.area)
    try:
        context = Context(Settings.from_env())
        if key not in NEEDS_NO_SCHEMA and (revision := migrate.pending(context.database.engine)) is not None:
            print(
                f"formserver: the database is not set up for this version of formserver (it is at revision "
                f"{revision}): run `formserver db upgrade` (or `formserver setup`) first",
                file=sys.stderr,
            )
            return 1
        result = handler(context, args)
    except (Problem, FormError) as error:
        print(f"formserver: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"formserver: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    return result or 0


@command("db upgrade")
def db_upgrade(context: Context, _args) -> None:
    migrate.upgrade(context.database.engine)
    print("database is up to date")


@command("org create")
def org_create(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.create_organisation(session, args.slug, args.name)
        print(f"{organisation.slug} {organisation.name}")


@command("org list")
def org_list(context: Context, _args) -> None:
    with context.session() as session:
        for organisation in session.scalars(select(Organisation).order_by(Organisation.slug)):
            print(f"{organisation.slug}\t{organisation.name}")


@command("user create")
def user_create(context: Context, args) -> None:
    with context.session() as session:
        user = accounts.create_user(
            session, args.email, args.password, realm=context.settings.digest_realm, is_admin=args.admin
        )
        print(f"{user.email}{' (network administrator)' if user.is_admin else ''}")


@command("user password")
def user_password(context: Context, args) -> None:
    with context.session() as session:
        user = accounts.user_by_email(session, args.email)
        accounts.set_password(user, args.password, realm=context.settings.digest_realm)
        print(f"password changed for {user.email}")


@command("member add")
def member_add(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        user = accounts.user_by_email(session, args.email)
        accounts.add_member(session, organisation, user, args.role)
        print(f"{user.email} is {args.role} of {organisation.slug}")


@command("form add")
def form_add(context: Context, args) -> None:
    media = [(path.name, path.read_bytes()) for path in args.media]
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        upload = forms.add_form_version(
            session,
            context.blobs,
            organisation,
            args.file.read_bytes(),
            args.file.name,
            media=media,
            draft=args.draft,
            validate_with_java=context.settings.java_available,
        )
        _print_upload(upload)


def _print_upload(upload: forms.Upload) -> None:
    for warning in upload.warnings:
        print(f"warning: {warning}")
    if not upload.created:
        print("unchanged: this content is already stored")
    print(f"{upload.form.form_id} {upload.version.version}")


@command("form state")
def form_state(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        form = forms.form_by_id(session, organisation, args.form_id)
        forms.set_state(session, form, args.state)
        print(f"{form.form_id} {form.state}")


@command("form list")
def form_list(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        for summary in forms.summaries(session, organisation):
            print(_form_line(summary))


def _form_line(summary: forms.FormSummary) -> str:
    newest = summary.newest
    status = "draft" if newest is None or newest.is_draft else "published"
    missing = newest.missing_media if newest else []
    media = f"incomplete: missing {', '.join(missing)}" if missing else "media complete"
    return "\t".join([summary.form.form_id, newest.version if newest else "-", summary.form.state, status, media])


@command("form media")
def form_media(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        version = forms.newest_version(session, forms.form_by_id(session, organisation, args.form_id))
        for path in args.files:
            forms.attach_media(session, context.blobs, version, path.name, path.read_bytes())
        missing = version.missing_media
        print(f"missing: {', '.join(missing)}" if missing else "media complete")


@command("form publish")
def form_publish(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        version = forms.newest_version(session, forms.form_by_id(session, organisation, args.form_id))
        forms.publish(session, version)
        print(f"{args.form_id} {version.version} published")


def _assignee(session, organisation, args) -> dict:
    if args.app_user:
        return {"app_user": appusers.app_user_by_name(session, organisation, args.app_user)}
    return {"user": accounts.user_by_email(session, args.user)}


@command("form assign")
def form_assign(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        form = forms.form_by_id(session, organisation, args.form_id)
        appusers.assign_form(session, form, **_assignee(session, organisation, args))
        print(f"{form.form_id} assigned to: {', '.join(a.label for a in appusers.assignments_of(session, form))}")


@command("form unassign")
def form_unassign(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        form = forms.form_by_id(session, organisation, args.form_id)
        appusers.unassign_form(session, form, **_assignee(session, organisation, args))
        left = appusers.assignments_of(session, form)
        print(f"{form.form_id} assigned to: {', '.join(a.label for a in left)}" if left else f"{form.form_id} is open to every account of {organisation.slug}")


@command("form assignments")
def form_assignments(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        form = forms.form_by_id(session, organisation, args.form_id)
        for assignee in appusers.assignments_of(session, form):
            print(assignee.label)


@command("setup")
def setup(context: Context, args) -> None:
    """Everything ``make serve`` needs before serving; safe to run again."""
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
            )
            state = "loaded" if upload.created else "already loaded"
            print(f"form {upload.form.form_id} {upload.version.version} {state}")
        _first_administrator(session, settings)


def _default_organisation(session: Session, settings: Settings):
    existing = session.scalar(select(Organisation).where(Organisation.slug == settings.default_organisation))
    if existing is not None:
        return existing
    organisation = accounts.create_organisation(
        session, settings.default_organisation, settings.default_organisation_name
    )
    print(f"created organisation {organisation.slug}")
    return organisation


def _first_administrator(session: Session, settings: Settings) -> None:
    if session.scalar(select(User).where(User.is_admin.is_(True)).limit(1)) is not None:
        return
    password = settings.admin_password or accounts.generate_password()
    accounts.create_user(session, settings.admin_email, password, realm=settings.digest_realm, is_admin=True)
    if settings.admin_password:
        print(f"created administrator {settings.admin_email} with FORMSERVER_ADMIN_PASSWORD")
    else:
        print(f"created administrator {settings.admin_email} with password {password}  (shown once: keep it)")


@command("serve")
def serve(context: Context, args) -> None:
    from .server import run

    run(context.settings, host=args.host, port=args.port, workers=args.workers, threads=args.threads)


# Device accounts and kept-aside resubmissions: `formserver appuser ...`, `formserver submission ...`.
from .openrosa import commands as _openrosa_commands  # noqa: E402,F401

# Exports to a file and the rebuild of their flattened copies: `formserver export ...`.
from .exports import command as _export_commands  # noqa: E402,F401
