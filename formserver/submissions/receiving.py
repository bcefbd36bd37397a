"""Receiving and storing: ``ingest``, the one path by which a submission comes in.

The instance names its form and version (checked: open, assigned to the
sender); blobs are committed first, then the submission and its attachment
rows are inserted and committed in one transaction. Inserting first is the
check for a resend: the unique constraint (form_id, instance_id) turns it
into a comparison with the stored row (``conflicts.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Sequence

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..appusers import assigned
from ..models import AppUser, FormState, Organisation, ReviewState, Submission, SubmissionAttachment, User, utcnow
from ..problems import Problem
from ..storage import BlobStore
from .attachments import ReceivedFile, add_missing_attachments, shown_name
from .conflicts import earlier_version_with, keep_aside
from .instance import Instance, Sender, Target, cut, derived_columns, find_target, read_instance

# Built once: ingest runs for every submission, and building a statement costs more than running it.
_EXISTING = select(Submission).where(
    Submission.form_id == bindparam("form_pk"), Submission.instance_id == bindparam("instance_id")
)


@dataclass
class Outcome:
    """What happened: ``created`` (a new record), ``edit`` (a new version of one) or ``duplicate``."""

    submission_id: int
    status: str
    attachments_added: list[str] = field(default_factory=list)
    session: Session | None = field(default=None, repr=False, compare=False)

    @property
    def submission(self) -> Submission:
        return self.session.get(Submission, self.submission_id)


def ingest(
    session: Session,
    blobs: BlobStore,
    organisation: Organisation,
    xml: bytes,
    files: Sequence[ReceivedFile] = (),
    *,
    user: User | None = None,
    app_user: AppUser | None = None,
    device_id: str | None = None,
    user_agent: str | None = None,
) -> Outcome:
    """Store one submission and its files, or raise ``Problem`` having stored nothing
    (except a conflict, which is kept aside and committed before its 409 is raised).

    Commits the session. Files not stored (refused, duplicates) are discarded.
    """
    sender = Sender(user, app_user, cut(device_id), cut(user_agent))
    try:
        instance = read_instance(xml)
        return _place_and_store(session, blobs, organisation, xml, instance, files, sender)
    except BaseException:
        session.rollback()
        raise
    finally:
        for received in files:
            received.blob.discard()


def _place_and_store(
    session: Session,
    blobs: BlobStore,
    organisation: Organisation,
    xml: bytes,
    instance: Instance,
    files: Sequence[ReceivedFile],
    sender: Sender,
) -> Outcome:
    """The form and version the instance names, checked; then the one transaction that stores it."""
    target = find_target(session, organisation, instance.form_id, instance.version)
    if target.state == FormState.closed.value:
        raise Problem("form.closed", form_id=target.form_id)
    if target.has_assignments and not assigned(session, target.form_pk, user=sender.user, app_user=sender.app_user):
        raise Problem("submission.not_assigned", form_id=target.form_id)
    files = _files_to_store(files)
    xml_sha256 = hashlib.sha256(xml).hexdigest()
    for _attempt in range(5):
        try:
            return _store(session, blobs, organisation, xml, xml_sha256, instance, target, files, sender)
        except IntegrityError:
            # Someone stored the same attachment name between our read and our write:
            # start again from their committed rows.
            session.rollback()
    raise RuntimeError(f"could not store {instance.instance_id} after repeated concurrent writes")


def _files_to_store(files: Sequence[ReceivedFile]) -> list[ReceivedFile]:
    """One file per name, the first one sent; none that is empty, so that a resend with the real file
    completes the submission; ``Problem`` for two names that differ only in case (they would overwrite
    each other on a computer that ignores case, in an export's media folder say)."""
    seen: dict[str, str] = {}
    result = []
    for received in files:
        folded = received.name.casefold()
        if folded in seen and seen[folded] != received.name:
            first, second = shown_name(seen[folded]), shown_name(received.name)
            raise Problem("submission.file_names_differ_in_case", first=first, second=second)
        if folded in seen or received.blob.size == 0:
            received.blob.discard()
            continue
        seen[folded] = received.name
        result.append(received)
    return result


def _store(
    session: Session,
    blobs: BlobStore,
    organisation: Organisation,
    xml: bytes,
    xml_sha256: str,
    instance: Instance,
    target: Target,
    files: list[ReceivedFile],
    sender: Sender,
) -> Outcome:
    """Insert first (most submissions are new); the unique constraint (form_id, instance_id) turns a
    resend, or the loser of two simultaneous uploads, into the comparison with the stored row."""
    for _ in range(3):
        created = _store_new(session, organisation, xml, xml_sha256, instance, target, files, sender)
        if created is not None:
            return created
        existing = session.scalar(_EXISTING, {"form_pk": target.form_pk, "instance_id": instance.instance_id})
        if existing is not None:
            break
        session.rollback()  # the row we collided with is gone again (rolled back): insert anew
    else:
        raise RuntimeError(f"could not store {instance.instance_id}: it keeps appearing and disappearing")
    same = existing if existing.xml_sha256 == xml_sha256 and existing.xml == xml else None
    same = same or earlier_version_with(session, existing, xml, xml_sha256)
    if same is not None:
        added = add_missing_attachments(session, same, files)
        session.commit()
        return Outcome(same.id, "duplicate", added, session)
    keep_aside(session, organisation, existing, xml, xml_sha256, files, sender)
    session.commit()
    raise Problem("submission.conflict", instance_id=instance.instance_id)


_SUBMISSION = Submission.__table__
_ATTACHMENT = SubmissionAttachment.__table__
_PREVIOUS = select(_SUBMISSION.c.id, _SUBMISSION.c.root_id).where(
    _SUBMISSION.c.form_id == bindparam("form_pk"), _SUBMISSION.c.instance_id == bindparam("instance_id")
)
_LOCK_RECORD = select(_SUBMISSION.c.id).where(_SUBMISSION.c.id == bindparam("root_pk")).with_for_update()


def _insert_unless_stored(dialect: str):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: no row back means the instanceID is stored already."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - formserver runs on PostgreSQL and SQLite
        return _SUBMISSION.insert().returning(_SUBMISSION.c.id)
    return insert(_SUBMISSION).on_conflict_do_nothing(index_elements=["form_id", "instance_id"]).returning(_SUBMISSION.c.id)


_INSERTS: dict[str, object] = {}


def _store_new(
    session: Session,
    organisation: Organisation,
    xml: bytes,
    xml_sha256: str,
    instance: Instance,
    target: Target,
    files: list[ReceivedFile],
    sender: Sender,
) -> Outcome | None:
    """Insert the submission and its attachments and commit; None (nothing written) when the
    instanceID is already stored. Core statements: this runs for every submission."""
    connection = session.connection()
    previous = None
    if instance.deprecated_id and instance.deprecated_id != instance.instance_id:
        previous = connection.execute(
            _PREVIOUS, {"form_pk": target.form_pk, "instance_id": instance.deprecated_id}
        ).first()
    now = utcnow()
    dialect = connection.dialect.name
    statement = _INSERTS.get(dialect)
    if statement is None:
        statement = _INSERTS[dialect] = _insert_unless_stored(dialect)
    root_pk = (previous.root_id or previous.id) if previous is not None else None
    if root_pk is not None:
        # Edits of one record wait here for each other (PostgreSQL; SQLite's BEGIN IMMEDIATE does already),
        # so that each one's update below sees the others' rows and one version stays current.
        connection.execute(_LOCK_RECORD, {"root_pk": root_pk})
    rows = [(received, received.blob.commit()) for received in files]  # blobs first, rows after
    submission_pk = connection.execute(
        statement,
        dict(
            organisation_id=organisation.id,
            form_id=target.form_pk,
            form_version_id=target.version_pk,
            instance_id=instance.instance_id,
            instance_name=instance.instance_name,
            xml=xml,
            xml_sha256=xml_sha256,
            received_at=now,
            submitter_user_id=sender.user_id,
            submitter_app_user_id=sender.app_user_id,
            device_id=sender.device_id,
            user_agent=sender.user_agent,
            review_state=ReviewState.received.value,
            deprecated_id=instance.deprecated_id,
            root_id=root_pk,
            is_current=True,
            **derived_columns(session, target, instance),
        ),
    ).scalar()
    if submission_pk is None:
        return None
    if rows:
        connection.execute(
            _ATTACHMENT.insert(),
            [
                dict(
                    submission_id=submission_pk,
                    name=received.name,
                    sha256=sha256,
                    size=received.blob.size,
                    content_type=cut(received.content_type) or "application/octet-stream",
                    received_at=now,
                )
                for received, sha256 in rows
            ],
        )
    if root_pk is not None:
        connection.execute(
            update(_SUBMISSION)
            .where(
                or_(_SUBMISSION.c.id == root_pk, _SUBMISSION.c.root_id == root_pk),
                _SUBMISSION.c.id != submission_pk,
                _SUBMISSION.c.is_current.is_(True),
            )
            .values(is_current=False)
        )
    session.commit()
    return Outcome(submission_pk, "edit" if previous is not None else "created", [f.name for f in files], session)
