"""Duplicates and conflicts: a submission sent again under an instanceID already stored.

The same XML again is a duplicate, answered as a success (also when it is an
earlier version of the record that a manager has since replaced). Differing
XML is kept aside as a ``SubmissionConflict`` with its files, never dropped;
a manager lists the conflicts and resolves each by keeping the stored
submission or taking the new one as its next version.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..models import Form, Organisation, Submission, SubmissionAttachment, SubmissionConflict, User, utcnow
from ..problems import Problem
from .attachments import ReceivedFile
from .instance import MAX_NAME, Sender, cut, derived_columns, find_target, read_instance


def earlier_version_with(session: Session, existing: Submission, xml: bytes, xml_sha256: str) -> Submission | None:
    """The identical XML stored before as another version of this record (a manager took a newer one)."""
    root_pk = existing.root_id or existing.id
    for candidate in session.scalars(
        select(Submission).where(
            or_(Submission.id == root_pk, Submission.root_id == root_pk), Submission.xml_sha256 == xml_sha256
        )
    ):
        if candidate.xml == xml:
            return candidate
    return None


def keep_aside(
    session: Session,
    organisation: Organisation,
    existing: Submission,
    xml: bytes,
    xml_sha256: str,
    files: list[ReceivedFile],
    sender: Sender,
) -> SubmissionConflict:
    """Keep the differing XML (and its files) for a manager; the same differing XML again is one conflict."""
    conflict = session.scalar(
        select(SubmissionConflict).where(
            SubmissionConflict.submission_id == existing.id,
            SubmissionConflict.xml_sha256 == xml_sha256,
            SubmissionConflict.resolved_at.is_(None),
        )
    )
    if conflict is None:
        conflict = SubmissionConflict(
            submission_id=existing.id,
            xml=xml,
            xml_sha256=xml_sha256,
            received_at=utcnow(),
            device_id=sender.device_id,
            user_agent=sender.user_agent,
            submitter_user_id=sender.user_id,
            submitter_app_user_id=sender.app_user_id,
            attachments=[],
        )
        session.add(conflict)
    known = {a["name"] for a in conflict.attachments}
    added = list(conflict.attachments)
    for received in files:
        if received.name not in known:
            added.append(
                {
                    "name": received.name,
                    "sha256": received.blob.commit(),
                    "size": received.blob.size,
                    "content_type": cut(received.content_type) or "application/octet-stream",
                }
            )
    conflict.attachments = added
    session.flush()
    audit.record(
        session,
        "submission.conflict",
        organisation=organisation,
        user=sender.user,
        app_user=sender.app_user,
        target=existing.instance_id,
        conflict=conflict.id,
    )
    return conflict


# --------------------------------------------------------------------------- managers


def conflicts_of(
    session: Session, organisation: Organisation, *, unresolved_only: bool = True
) -> list[SubmissionConflict]:
    """The kept-aside resubmissions of an organisation, oldest first."""
    query = (
        select(SubmissionConflict)
        .join(Submission, Submission.id == SubmissionConflict.submission_id)
        .where(Submission.organisation_id == organisation.id)
        .order_by(SubmissionConflict.received_at, SubmissionConflict.id)
    )
    if unresolved_only:
        query = query.where(SubmissionConflict.resolved_at.is_(None))
    return list(session.scalars(query))


def conflict_by_id(session: Session, organisation: Organisation, conflict_id: int | str) -> SubmissionConflict:
    try:
        pk = int(conflict_id)
    except (TypeError, ValueError):
        raise Problem("submission.conflict_not_found", conflict_id=conflict_id) from None
    conflict = session.scalar(
        select(SubmissionConflict)
        .join(Submission, Submission.id == SubmissionConflict.submission_id)
        .where(SubmissionConflict.id == pk, Submission.organisation_id == organisation.id)
    )
    if conflict is None:
        raise Problem("submission.conflict_not_found", conflict_id=conflict_id)
    return conflict


RESOLUTIONS = ("keep_stored", "take_new")


def resolve_conflict(
    session: Session, conflict: SubmissionConflict, resolution: str, *, actor: User | None
) -> Submission:
    """Decide a kept-aside resubmission; return the submission that is current afterwards.

    ``keep_stored`` keeps what was stored. ``take_new`` stores the kept-aside XML as
    a new version of the stored record (its files, plus stored files it did not
    resend); the superseded row keeps its XML and files, and its ``instance_id``
    column gets the suffix ``~superseded-<id>`` because one form holds each
    instanceID once. The XML itself is never changed. Flushes; the caller commits.
    """
    if resolution not in RESOLUTIONS:
        raise Problem("submission.bad_resolution", resolution=resolution)
    if conflict.resolved_at is not None:
        raise Problem("submission.conflict_resolved", conflict_id=conflict.id, resolution=conflict.resolution)
    stored = conflict.submission
    current = stored
    if resolution == "take_new":
        current = _take_new(session, conflict, stored)
    conflict.resolved_at = utcnow()
    conflict.resolved_by_id = actor.id if actor else None
    conflict.resolution = resolution
    session.flush()
    form = session.get(Form, stored.form_id)
    audit.record(
        session,
        "submission.resolve_conflict",
        organisation=session.get(Organisation, form.organisation_id),
        user=actor,
        target=stored.instance_id.split("~superseded-")[0],
        conflict=conflict.id,
        resolution=resolution,
    )
    return current


def _take_new(session: Session, conflict: SubmissionConflict, stored: Submission) -> Submission:
    form = session.get(Form, stored.form_id)
    organisation = session.get(Organisation, form.organisation_id)
    instance = read_instance(conflict.xml)
    target = find_target(session, organisation, instance.form_id, instance.version)
    instance_id = stored.instance_id
    root_pk = stored.root_id or stored.id
    stored.instance_id = f"{instance_id}~superseded-{stored.id}"[:MAX_NAME]
    session.execute(
        update(Submission)
        .where(or_(Submission.id == root_pk, Submission.root_id == root_pk), Submission.is_current.is_(True))
        .values(is_current=False)
    )
    session.flush()
    session.refresh(stored)
    now = utcnow()
    new = Submission(
        organisation_id=organisation.id,
        form_id=stored.form_id,
        form_version_id=target.version_pk,
        instance_id=instance_id,
        instance_name=instance.instance_name,
        xml=conflict.xml,
        xml_sha256=conflict.xml_sha256,
        received_at=conflict.received_at,
        submitter_user_id=conflict.submitter_user_id,
        submitter_app_user_id=conflict.submitter_app_user_id,
        device_id=conflict.device_id,
        user_agent=conflict.user_agent,
        deprecated_id=instance.deprecated_id,
        root_id=root_pk,
        is_current=True,
        **derived_columns(session, target, instance),
    )
    sent = {a["name"] for a in conflict.attachments}
    for item in conflict.attachments:
        new.attachments.append(
            SubmissionAttachment(
                name=item["name"], sha256=item["sha256"], size=item["size"],
                content_type=item["content_type"], received_at=now,
            )
        )
    for old in stored.attachments:
        if old.name not in sent:
            new.attachments.append(
                SubmissionAttachment(
                    name=old.name, sha256=old.sha256, size=old.size, content_type=old.content_type, received_at=now
                )
            )
    session.add(new)
    session.flush()
    return new
