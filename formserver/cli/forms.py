"""``formserver form ...``: form versions, their media, their state, and who may fill them."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..forms import FormSummary, Upload
    from ..models import Form, Organisation
    from . import Commands, Context


def register(commands: Commands) -> None:
    commands.area("form", help="forms")
    add = commands.command("form add", form_add, help="upload an XLSForm or XForm as a new version")
    add.add_argument("slug")
    add.add_argument("file", type=Path)
    add.add_argument("--media", type=Path, nargs="*", default=[])
    add.add_argument("--draft", action="store_true")
    state = commands.command("form state", form_state)
    state.add_argument("slug")
    state.add_argument("form_id")
    state.add_argument("state", help="open, closing or closed")
    listing = commands.command("form list", form_list)
    listing.add_argument("slug")
    media = commands.command("form media", form_media, help="attach media files to the newest version")
    media.add_argument("slug")
    media.add_argument("form_id")
    media.add_argument("files", type=Path, nargs="+")
    publish = commands.command("form publish", form_publish, help="publish the newest draft")
    publish.add_argument("slug")
    publish.add_argument("form_id")
    encrypt = commands.command(
        "form encrypt", form_encrypt, help="turn encryption on: a key pair kept sealed by a passphrase, a new version"
    )
    encrypt.add_argument("slug")
    encrypt.add_argument("form_id")
    encrypt.add_argument("--passphrase-file", type=Path, required=True, help="a file whose first line is the passphrase")
    encrypt.add_argument("--hint", help="a reminder of the passphrase, shown when it is asked for")
    for action, handler, words in (
        ("assign", form_assign, "only these accounts may see and fill it"),
        ("unassign", form_unassign, "remove one assignment"),
    ):
        assignment = commands.command(
            f"form {action}", handler, help=f"assign the form to a device account or a person: {words}"
        )
        assignment.add_argument("slug")
        assignment.add_argument("form_id")
        who = assignment.add_mutually_exclusive_group(required=True)
        who.add_argument("--app-user", metavar="NAME", help="a device account of the organisation")
        who.add_argument("--user", metavar="EMAIL", help="a member of the organisation")
    assignments = commands.command(
        "form assignments", form_assignments, help="who the form is assigned to (nobody: everyone may fill it)"
    )
    assignments.add_argument("slug")
    assignments.add_argument("form_id")


def _organisation_and_form(session: Session, args: Namespace) -> tuple[Organisation, Form]:
    from .. import accounts, forms

    organisation = accounts.organisation_by_slug(session, args.slug)
    return organisation, forms.form_by_id(session, organisation, args.form_id)


def form_add(context: Context, args: Namespace) -> None:
    from .. import accounts, forms
    from ..workbooks import Limits

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
            limits=Limits.of(context.settings),
        )
        _print_upload(upload)


def _print_upload(upload: Upload) -> None:
    for warning in upload.warnings:
        print(f"warning: {warning}")
    if not upload.created:
        print("unchanged: this content is already stored")
    print(f"{upload.form.form_id} {upload.version.version}")


def form_state(context: Context, args: Namespace) -> None:
    from .. import forms

    with context.session() as session:
        _, form = _organisation_and_form(session, args)
        forms.set_state(session, form, args.state)
        print(f"{form.form_id} {form.state}")


def form_list(context: Context, args: Namespace) -> None:
    from .. import accounts, forms

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        for summary in forms.summaries(session, organisation):
            print(_form_line(summary))


def _form_line(summary: FormSummary) -> str:
    newest = summary.newest
    status = "draft" if newest is None or newest.is_draft else "published"
    missing = newest.missing_media if newest else []
    media = f"incomplete: missing {', '.join(missing)}" if missing else "media complete"
    encrypted = ["encrypted"] if summary.encrypted else []
    return "\t".join([summary.form.form_id, newest.version if newest else "-", summary.form.state, status, media, *encrypted])


def form_media(context: Context, args: Namespace) -> None:
    from .. import forms

    with context.session() as session:
        _, form = _organisation_and_form(session, args)
        version = forms.newest_version(session, form)
        for path in args.files:
            forms.attach_media(session, context.blobs, version, path.name, path.read_bytes())
        missing = version.missing_media
        print(f"missing: {', '.join(missing)}" if missing else "media complete")


def form_publish(context: Context, args: Namespace) -> None:
    from .. import forms

    with context.session() as session:
        _, form = _organisation_and_form(session, args)
        version = forms.newest_version(session, form)
        forms.publish(session, version)
        print(f"{args.form_id} {version.version} published")


def form_encrypt(context: Context, args: Namespace) -> None:
    from ..form_keys import turn_on_encryption

    passphrase = read_passphrase(args.passphrase_file)
    with context.session() as session:
        _, form = _organisation_and_form(session, args)
        version = turn_on_encryption(session, form, passphrase, hint=args.hint)
        print(f"{args.form_id} {version.version} published, encrypted: keep the passphrase safe, it cannot be recovered")


def read_passphrase(path: Path) -> str:
    """The first line of the file, without its line break (editors add one); the file is not kept."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[0] if lines else ""


def _assignee(session: Session, organisation: Organisation, args: Namespace) -> dict:
    from .. import accounts, appusers

    if args.app_user:
        return {"app_user": appusers.app_user_by_name(session, organisation, args.app_user)}
    return {"user": accounts.user_by_email(session, args.user)}


def form_assign(context: Context, args: Namespace) -> None:
    from .. import appusers

    with context.session() as session:
        organisation, form = _organisation_and_form(session, args)
        appusers.assign_form(session, form, **_assignee(session, organisation, args))
        print(f"{form.form_id} assigned to: {', '.join(a.label for a in appusers.assignments_of(session, form))}")


def form_unassign(context: Context, args: Namespace) -> None:
    from .. import appusers

    with context.session() as session:
        organisation, form = _organisation_and_form(session, args)
        appusers.unassign_form(session, form, **_assignee(session, organisation, args))
        left = appusers.assignments_of(session, form)
        print(f"{form.form_id} assigned to: {', '.join(a.label for a in left)}" if left else f"{form.form_id} is open to every account of {organisation.slug}")


def form_assignments(context: Context, args: Namespace) -> None:
    from .. import appusers

    with context.session() as session:
        _, form = _organisation_and_form(session, args)
        for assignee in appusers.assignments_of(session, form):
            print(assignee.label)
