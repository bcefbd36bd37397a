"""``formserver submission ...``: resubmissions kept aside because their XML differed, and their resolution."""

from __future__ import annotations

import difflib
from argparse import Namespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..models import Submission, SubmissionConflict
    from . import Commands, Context


def register(commands: Commands) -> None:
    commands.area("submission", help="submissions")
    conflicts = commands.command(
        "submission conflicts", submission_conflicts, help="resubmissions kept aside because their XML differed"
    )
    conflicts.add_argument("slug")
    conflicts.add_argument("--all", action="store_true", help="include resolved ones")
    conflict = commands.command(
        "submission conflict", submission_conflict, help="show one: the stored XML against the new XML"
    )
    conflict.add_argument("slug")
    conflict.add_argument("id")
    resolve = commands.command(
        "submission resolve", submission_resolve, help="keep the stored XML, or take the new XML as an edit"
    )
    resolve.add_argument("slug")
    resolve.add_argument("id")
    resolve.add_argument("resolution", help="keep_stored or take_new")


def _who(session: Session, conflict: SubmissionConflict) -> str:
    from ..models import AppUser, User

    if conflict.submitter_app_user_id:
        app_user = session.get(AppUser, conflict.submitter_app_user_id)
        return f"device account {app_user.name}" if app_user else "a deleted device account"
    if conflict.submitter_user_id:
        user = session.get(User, conflict.submitter_user_id)
        return user.email if user else "a deleted user"
    return "-"


def submission_conflicts(context: Context, args: Namespace) -> None:
    from .. import accounts, submissions

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
    from lxml import etree

    from ..xml import UnsafeOrBadXml, parse

    try:
        root = parse(xml)
        etree.indent(root, space="  ")
        text = etree.tostring(root, encoding="unicode")
    except (UnsafeOrBadXml, ValueError):
        text = xml.decode("utf-8", errors="replace")
    return text.splitlines(keepends=True)


def submission_conflict(context: Context, args: Namespace) -> None:
    from .. import accounts, submissions

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


def submission_resolve(context: Context, args: Namespace) -> None:
    from .. import accounts, submissions

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        conflict = submissions.conflict_by_id(session, organisation, args.id)
        current = submissions.resolve_conflict(session, conflict, args.resolution, actor=None)
        print(f"conflict {conflict.id} resolved: {args.resolution}; current version is submission {current.id}")
