"""Ingest: what a phone sends becomes a Submission, exactly once, with all its files.

``ingest()`` is the one path in. It parses the instance with the safe parser,
finds the form and version it names within the organisation, deduplicates by
instanceID, and stores the XML byte for byte with its attachments:

- blobs first (written to the blob store's temporary folder while the upload
  streams in, fsynced, then renamed to their sha256 names), rows after, in one
  transaction; a crash leaves the submission with all its rows or none of them
  (at worst an unreferenced blob, which is harmless and content addressed);
- the same instanceID with byte-identical XML is the same submission: files
  not stored yet are added (Collect's split uploads and retries), and the
  answer is success again;
- the same instanceID with different XML is kept aside as a
  ``SubmissionConflict`` for a manager, never dropped, and refused with 409;
- ``meta/deprecatedID`` naming a stored submission makes the new one an edit:
  a new row whose ``root_id`` is the first version, the others no longer current.

Two identical uploads at the same moment store one row: the unique constraint
(form_id, instance_id) decides, the loser rolls back, reads the winner and
compares.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Sequence

from lxml import etree
from sqlalchemy import bindparam, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .appusers import assigned
from .db import read_first
from .models import (
    AppUser,
    Form,
    FormAssignment,
    FormState,
    FormVersion,
    Organisation,
    ReviewState,
    Submission,
    SubmissionAttachment,
    SubmissionConflict,
    User,
    utcnow,
)
from .problems import Problem
from .storage import BlobStore
from .xml import UnsafeOrBadXml, local_name, parse
from .exports.flatten import flattened_copy

CHUNK = 256 * 1024
MAX_NAME = 255


# --------------------------------------------------------------------------- files


class PendingBlob:
    """A file being received: streamed to the blob store's temporary folder, hashed as it goes.

    Nothing is visible under a real name until ``commit()``; ``discard()`` removes
    the temporary file. Past ``limit`` bytes the rest is counted but not written,
    so the caller can read the request to its end and answer 413.
    """

    def __init__(self, blobs: BlobStore, limit: int | None = None):
        self.blobs = blobs
        self.limit = limit
        self.size = 0
        self.too_large = False
        self._sha = hashlib.sha256()
        fd, self._tmp = tempfile.mkstemp(dir=blobs.root / "tmp", prefix="upload-")
        self._file = os.fdopen(fd, "wb")
        self.sha256: str | None = None
        self.committed = False

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.too_large:
            return
        if self.limit is not None and self.size > self.limit:
            self.too_large = True
            self._close_and_remove()
            return
        self._sha.update(data)
        self._file.write(data)

    def finish(self) -> None:
        """All data received: flush to disk so that a later rename is durable."""
        if self.too_large or self.sha256 is not None:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.sha256 = self._sha.hexdigest()

    def commit(self) -> str:
        """Put the blob under its sha256 name (once); return the digest."""
        if self.committed:
            return self.sha256
        self.finish()
        if self.too_large:
            raise ValueError("a blob over the limit cannot be committed")
        target = self.blobs.path(self.sha256)
        if target.exists():
            os.unlink(self._tmp)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp, target)
            _fsync_directory(target.parent)
        self.committed = True
        return self.sha256

    def discard(self) -> None:
        if not self.committed:
            self._close_and_remove()

    def _close_and_remove(self) -> None:
        if not self._file.closed:
            self._file.close()
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass


def _fsync_directory(path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class ReceivedFile:
    """An attachment as received: the client's file name (data only, never a path) and its pending blob."""

    name: str
    content_type: str
    blob: PendingBlob

    @classmethod
    def from_bytes(
        cls, blobs: BlobStore, name: str, content: bytes, content_type: str = "application/octet-stream"
    ) -> "ReceivedFile":
        blob = PendingBlob(blobs)
        blob.write(content)
        blob.finish()
        return cls(attachment_name(name), content_type, blob)


def attachment_name(filename: str) -> str:
    """The base name of a client's file name, as data: no folders, no control characters."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(c for c in name if c >= " " and c != "\x7f").strip()
    if name in ("", ".", ".."):
        name = "attachment"
    return name[:MAX_NAME]


# --------------------------------------------------------------------------- the instance


@dataclass(frozen=True)
class Instance:
    """What ingest needs from a submitted instance."""

    root: etree._Element
    form_id: str
    version: str | None
    instance_id: str
    deprecated_id: str | None
    instance_name: str | None


def read_instance(xml: bytes) -> Instance:
    """Parse with the one safe parser and pick out the ids; raises ``Problem`` (400)."""
    try:
        root = parse(xml)
    except UnsafeOrBadXml as error:
        raise Problem("submission.malformed", detail=str(error)) from None
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise Problem("submission.no_form_id")
    meta = _child(root, "meta")
    instance_id = _text(_child(meta, "instanceID")) or (root.get("instanceID") or "").strip()
    if not instance_id:
        raise Problem("submission.no_instance_id")
    if len(instance_id) > MAX_NAME:
        raise Problem("submission.malformed", detail="the instanceID is longer than 255 characters")
    return Instance(
        root=root,
        form_id=form_id,
        version=(root.get("version") or "").strip() or None,
        instance_id=instance_id,
        deprecated_id=(_text(_child(meta, "deprecatedID")) or None),
        instance_name=(_text(_child(meta, "instanceName")) or None),
    )


def _child(element, name: str):
    """The first child element with this local name, in any namespace or none (meta may be ``orx:meta``)."""
    return element.find("{*}" + name) if element is not None else None


def _text(element) -> str:
    return (element.text or "").strip() if element is not None else ""


_BINARY_PATHS: dict[str, frozenset[str]] = {}


def binary_paths(session: Session, version_pk: int, xform_md5: str) -> frozenset[str]:
    """Paths (below the instance root) of the form's binary fields; cached by the XForm's md5,
    since the field tree is derived from the XForm and a stored XForm never changes."""
    cached = _BINARY_PATHS.get(xform_md5)
    if cached is None:
        tree = session.scalar(select(FormVersion.field_tree).where(FormVersion.id == version_pk)) or {}
        paths = set()
        stack = list(tree.get("fields", []))
        while stack:
            node = stack.pop()
            if node.get("kind") == "field" and node.get("type") == "binary":
                paths.add(node["path"].split("/", 2)[-1])
            stack.extend(node.get("children", []))
        cached = _BINARY_PATHS[xform_md5] = frozenset(paths)
    return cached


def count_expected_attachments(root: etree._Element, paths: frozenset[str]) -> int:
    """How many binary fields have a value in this instance (repeats counted once per row)."""
    if not paths:
        return 0
    count = 0

    def walk(element, prefix: str) -> None:
        nonlocal count
        for child in element:
            if not isinstance(child.tag, str):
                continue
            path = f"{prefix}{local_name(child)}"
            if path in paths:
                if (child.text or "").strip():
                    count += 1
            elif len(child):
                walk(child, path + "/")

    walk(root, "")
    return count


# --------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Target:
    form_pk: int
    form_id: str
    state: str
    version_pk: int
    version: str
    xform_md5: str
    has_assignments: bool


def _target_query(with_version: bool):
    form, version, assignment = Form.__table__, FormVersion.__table__, FormAssignment.__table__
    has_assignments = exists().where(assignment.c.form_id == form.c.id).correlate(form)
    query = (
        select(
            form.c.id.label("form_pk"),
            form.c.state,
            version.c.id.label("version_pk"),
            version.c.version,
            version.c.xform_md5,
            has_assignments.label("has_assignments"),
        )
        .select_from(form.join(version, version.c.form_id == form.c.id))
        .where(form.c.organisation_id == bindparam("organisation_pk"), form.c.form_id == bindparam("form_id"))
    )
    if with_version:
        return query.where(version.c.version == bindparam("version"))
    return (
        query.where(version.c.published_at.is_not(None))
        .order_by(version.c.published_at.desc(), version.c.id.desc())
        .limit(1)
    )


_TARGET = {True: _target_query(True), False: _target_query(False)}


def find_target(session: Session, organisation: Organisation, form_id: str, version: str | None) -> Target:
    """The form and version an instance names, in one query; 404 problems when either is unknown.

    An instance without a version attribute is taken as the version phones are served.
    Read outside the storing transaction (``read_first``): a form closed a moment later
    changes nothing, and the read costs no lock and less CPU.
    """
    parameters = {"organisation_pk": organisation.id, "form_id": form_id}
    if version is not None:
        parameters["version"] = version
    row = read_first(session, _TARGET[version is not None], parameters)
    if row is None:
        known = session.scalar(
            select(Form.id).where(Form.organisation_id == organisation.id, Form.form_id == form_id)
        )
        if known is None:
            raise Problem("submission.unknown_form", form_id=form_id)
        raise Problem("submission.unknown_version", form_id=form_id, version=version or "-")
    return Target(
        row["form_pk"], form_id, row["state"], row["version_pk"], row["version"], row["xform_md5"], bool(row["has_assignments"])
    )


# --------------------------------------------------------------------------- ingest

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


@dataclass(frozen=True)
class Sender:
    """Who sent a submission, recorded with it (and with a kept-aside conflict)."""

    user: User | None
    app_user: AppUser | None
    device_id: str | None
    user_agent: str | None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def app_user_id(self) -> int | None:
        return self.app_user.id if self.app_user else None


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
    sender = Sender(user, app_user, _cut(device_id), _cut(user_agent))
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
    files = _unique_names(files)
    xml_sha256 = hashlib.sha256(xml).hexdigest()
    for _attempt in range(5):
        try:
            return _store(session, blobs, organisation, xml, xml_sha256, instance, target, files, sender)
        except IntegrityError:
            # Someone stored the same attachment name between our read and our write:
            # start again from their committed rows.
            session.rollback()
    raise RuntimeError(f"could not store {instance.instance_id} after repeated concurrent writes")


def _unique_names(files: Sequence[ReceivedFile]) -> list[ReceivedFile]:
    """One file per name: the first one sent wins, the others are discarded."""
    seen, result = set(), []
    for received in files:
        if received.name in seen:
            received.blob.discard()
        else:
            seen.add(received.name)
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
    same = same or _earlier_version_with(session, existing, xml, xml_sha256)
    if same is not None:
        added = _add_missing_attachments(session, same, files)
        session.commit()
        return Outcome(same.id, "duplicate", added, session)
    _keep_aside(session, organisation, existing, xml, xml_sha256, files, sender)
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


def _derived(session: Session, target: Target, instance: Instance) -> dict:
    """The columns computed from the parsed instance when it is stored: the flattened copy that exports
    read (rebuildable from the XML) and how many files its answers name."""
    return {
        "data": flattened_copy(session, target.version_pk, instance.root, target.xform_md5),
        "attachments_expected": count_expected_attachments(
            instance.root, binary_paths(session, target.version_pk, target.xform_md5)
        ),
    }


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
            **_derived(session, target, instance),
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
                    content_type=_cut(received.content_type) or "application/octet-stream",
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


def _attachment_row(received: ReceivedFile, now) -> SubmissionAttachment:
    sha256 = received.blob.commit()
    return SubmissionAttachment(
        name=received.name,
        sha256=sha256,
        size=received.blob.size,
        content_type=_cut(received.content_type) or "application/octet-stream",
        received_at=now,
    )


def _add_missing_attachments(session: Session, submission: Submission, files: list[ReceivedFile]) -> list[str]:
    if not files:
        return []
    stored = set(
        session.scalars(select(SubmissionAttachment.name).where(SubmissionAttachment.submission_id == submission.id))
    )
    now = utcnow()
    added = []
    for received in files:
        if received.name in stored:
            continue
        row = _attachment_row(received, now)
        row.submission_id = submission.id
        session.add(row)
        added.append(received.name)
    if added:
        session.flush()
    return added


def _earlier_version_with(session: Session, existing: Submission, xml: bytes, xml_sha256: str) -> Submission | None:
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


def _keep_aside(
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
                    "content_type": _cut(received.content_type) or "application/octet-stream",
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


def _cut(value: str | None) -> str | None:
    return value[:255] if value else None


# --------------------------------------------------------------------------- conflicts (managers)


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
        **_derived(session, target, instance),
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
