"""``formserver appuser ...`` and ``formserver submission ...``: device accounts and kept-aside resubmissions.

Registered on the ``formserver`` command through ``cli.EXTENSIONS`` and
``@command``; imported at the end of ``formserver/cli.py``.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from lxml import etree

from .. import accounts, appusers, submissions
from ..cli import EXTENSIONS, Context, command
from ..models import AppUser, Submission, User
from ..xml import UnsafeOrBadXml, parse


def add_parsers(sub) -> None:
    appuser = sub.add_parser("appuser", help="device accounts: phones that use a token URL").add_subparsers(
        dest="action", required=True
    )
    create = appuser.add_parser("create", help="create a device account; the last line is its server URL")
    create.add_argument("slug")
    create.add_argument("name")
    create.add_argument("-o", "--output", type=Path, help="also write its set-up QR code to this PNG file")
    qr = appuser.add_parser("qr", help="write a device account's set-up QR code (the token stays the same)")
    qr.add_argument("slug")
    qr.add_argument("name")
    qr.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    revoke = appuser.add_parser("revoke", help="revoke a device account: its URL stops working")
    revoke.add_argument("slug")
    revoke.add_argument("name")
    listing = appuser.add_parser("list", help="device accounts of an organisation")
    listing.add_argument("slug")

    submission = sub.add_parser("submission", help="submissions").add_subparsers(dest="action", required=True)
    conflicts = submission.add_parser("conflicts", help="resubmissions kept aside because their XML differed")
    conflicts.add_argument("slug")
    conflicts.add_argument("--all", action="store_true", help="include resolved ones")
    conflict = submission.add_parser("conflict", help="show one: the stored XML against the new XML")
    conflict.add_argument("slug")
    conflict.add_argument("id")
    resolve = submission.add_parser("resolve", help="keep the stored XML, or take the new XML as an edit")
    resolve.add_argument("slug")
    resolve.add_argument("id")
    resolve.add_argument("resolution", help="keep_stored or take_new")


EXTENSIONS.append(add_parsers)


def _qr_settings(context: Context, organisation, app_user: AppUser) -> str:
    url = appusers.token_url(context.settings.public_url, organisation, app_user)
    return appusers.qr_payload(appusers.collect_settings(url, organisation.name))


@command("appuser create")
def appuser_create(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        app_user = appusers.create_app_user(session, organisation, args.name)
        if args.output:
            args.output.write_bytes(appusers.qr_png(_qr_settings(context, organisation, app_user)))
            print(f"QR code written to {args.output}")
        print(f"device account {app_user.name} of {organisation.slug}; its server URL for ODK Collect:")
        print(appusers.token_url(context.settings.public_url, organisation, app_user))


@command("appuser qr")
def appuser_qr(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        app_user = appusers.app_user_by_name(session, organisation, args.name)
        if app_user.revoked_at is not None:
            from ..problems import Problem

            raise Problem("appuser.revoked", name=app_user.name)
        args.output.write_bytes(appusers.qr_png(_qr_settings(context, organisation, app_user)))
        print(f"QR code of {app_user.name} written to {args.output}")


@command("appuser revoke")
def appuser_revoke(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        app_user = appusers.revoke_app_user(session, organisation, args.name)
        print(f"device account {app_user.name} of {organisation.slug} revoked")


@command("appuser list")
def appuser_list(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        for app_user in appusers.app_users_of(session, organisation):
            state = f"revoked {app_user.revoked_at:%Y-%m-%d %H:%M}" if app_user.revoked_at else "active"
            print(f"{app_user.name}\t{state}\tcreated {app_user.created_at:%Y-%m-%d %H:%M}")


def _who(session, conflict) -> str:
    if conflict.submitter_app_user_id:
        app_user = session.get(AppUser, conflict.submitter_app_user_id)
        return f"device account {app_user.name}" if app_user else "a deleted device account"
    if conflict.submitter_user_id:
        user = session.get(User, conflict.submitter_user_id)
        return user.email if user else "a deleted user"
    return "-"


@command("submission conflicts")
def submission_conflicts(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        for conflict in submissions.conflicts_of(session, organisation, unresolved_only=not args.all):
            stored: Submission = conflict.submission
            state = conflict.resolution or "unresolved"
            print(
                "\t".join(
                    [
                        str(conflict.id),
                        stored.form_version.form.form_id,
                        stored.instance_id,
                        f"{conflict.received_at:%Y-%m-%d %H:%M:%S}Z",
                        _who(session, conflict),
                        conflict.device_id or "-",
                        state,
                    ]
                )
            )


def _readable(xml: bytes) -> list[str]:
    """The XML indented one element a line (Collect sends it on one line), for a useful diff."""
    try:
        root = parse(xml)
        etree.indent(root, space="  ")
        text = etree.tostring(root, encoding="unicode")
    except (UnsafeOrBadXml, ValueError):
        text = xml.decode("utf-8", errors="replace")
    return text.splitlines(keepends=True)


@command("submission conflict")
def submission_conflict(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        conflict = submissions.conflict_by_id(session, organisation, args.id)
        stored: Submission = conflict.submission
        print(f"conflict {conflict.id}: form {stored.form_version.form.form_id}, instance {stored.instance_id}")
        print(f"stored   {stored.received_at:%Y-%m-%d %H:%M:%S}Z  sha256 {stored.xml_sha256}")
        print(f"new      {conflict.received_at:%Y-%m-%d %H:%M:%S}Z  sha256 {conflict.xml_sha256}  from {_who(session, conflict)}, device {conflict.device_id or '-'}")
        if conflict.attachments:
            print("new files: " + ", ".join(f"{a['name']} ({a['size']} bytes)" for a in conflict.attachments))
        print(f"state    {conflict.resolution or 'unresolved'}")
        diff = difflib.unified_diff(
            _readable(stored.xml), _readable(conflict.xml), fromfile="stored", tofile="new", n=2
        )
        for line in diff:
            print(line, end="" if line.endswith("\n") else "\n")


@command("submission resolve")
def submission_resolve(context: Context, args) -> None:
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        conflict = submissions.conflict_by_id(session, organisation, args.id)
        current = submissions.resolve_conflict(session, conflict, args.resolution, actor=None)
        print(f"conflict {conflict.id} resolved: {args.resolution}; current version is submission {current.id}")
