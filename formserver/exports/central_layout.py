"""ODK Central's layout of a CSV export (``layout="central"``), as its ``submissions.csv.zip`` has it.

Central's metadata columns with their names, ``<form id>.csv`` and ``<form id>-<repeat>.csv``, and
a record as Central knows it: keyed by the instanceID its first version arrived with, dated and
credited as its first version, with its current version's answers, review and form version.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import central
from ..models import Form, Submission
from .columns import Meta, Table

# ODK Central's layout: its columns and their names (their values: central_values).
CENTRAL_BEFORE = (Meta("SubmissionDate", width=24),)
CENTRAL_AFTER = (
    Meta("KEY", width=20),
    Meta("SubmitterID", "number"),
    Meta("SubmitterName", width=16),
    Meta("AttachmentsPresent", "number"),
    Meta("AttachmentsExpected", "number"),
    Meta("Status"),
    Meta("ReviewState"),
    Meta("DeviceID", width=16),
    Meta("Edits", "number"),
    Meta("FormVersion"),
)
CENTRAL_REPEAT_AFTER = (Meta("PARENT_KEY", width=20), Meta("KEY", width=24))


def name_as_central(schema: Table, form_id: str) -> None:
    """Central's file names: ``<form id>.csv``, and ``<form id>-<repeat>.csv`` for each repeat."""
    for table in schema.walk():
        table.name = form_id if table.parent is None else f"{form_id}-{table.path.rsplit('/', 1)[-1]}"


def central_values(users: dict, app_users: dict, edits: dict, version_names: dict, firsts: dict, decryptor=None):
    """Central's metadata: a record is its first version's (key, date, submitter, device), its
    current version's answers, review and form version; Status is the ``decryptor``'s word for
    the row it opened last (``decrypting.Decryptor.status``: an encrypted submission not decrypted);
    the rows it opens carry their XML after the 12 columns read here (``decrypting.envelope_columns``)."""

    def values(row, _done: int):
        submission_id, version_id, _copy, instance_id, received_at, user_id, app_user_id, device_id, review, expected, root_id, present = row[:12]
        later = edits.get(root_id or submission_id, 1) - 1
        if root_id is not None:
            instance_id, received_at, user_id, app_user_id, device_id = firsts[root_id]
        key = central.record_key(instance_id)
        return key, (
            central.iso(received_at),
            key,
            central.submitter_id(user_id, app_user_id),
            users.get(user_id) if user_id else app_users.get(app_user_id),
            present or 0,
            expected,
            decryptor.status if decryptor is not None and row[12] is not None else None,  # row[12]: the envelope
            central.review_state(review, later),
            device_id,
            later,
            version_names.get(version_id),
        )

    return values


def first_versions(session: Session, form: Form) -> dict[int, tuple]:
    """The first versions of the form's edited records: id -> (instanceID, received, user, device account, device)."""
    edited = select(Submission.root_id).where(Submission.form_id == form.id, Submission.root_id.is_not(None))
    rows = session.execute(
        select(
            Submission.id, Submission.instance_id, Submission.received_at, Submission.submitter_user_id,
            Submission.submitter_app_user_id, Submission.device_id,
        ).where(Submission.id.in_(edited))
    )
    return {row[0]: tuple(row[1:]) for row in rows}
