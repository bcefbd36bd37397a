"""The data model: organisations, people, forms and their versions, submissions, exports, audit.

Schema changes are Alembic revisions in ``migrations/``; keep both in step.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always read back time-zone aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Role(str, enum.Enum):
    manager = "manager"
    collector = "collector"
    viewer = "viewer"


class FormState(str, enum.Enum):
    open = "open"
    closing = "closing"
    closed = "closed"


class ReviewState(str, enum.Enum):
    received = "received"
    has_issues = "has_issues"
    approved = "approved"
    rejected = "rejected"


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Bangkok")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person who signs in on the web, or with Digest from ODK Collect."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # MD5(email:realm:password): the only thing HTTP Digest can be checked against.
    digest_ha1: Mapped[str | None] = mapped_column(String(32))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # A network analyst reads the network's pooled figures, and no organisation's records unless a member.
    is_analyst: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_sign_in_at: Mapped[datetime | None]
    # Wrong passwords from phones (Digest, or Basic over https), counted apart from the web's: a phone
    # with a stale password slows down that person's phones, not their web sign-in.
    failed_phone_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_phone_sign_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()


class AppUser(Base):
    """A device account: a phone that reaches the server through a token URL, no password."""

    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()


class Form(Base):
    __tablename__ = "form"
    __table_args__ = (UniqueConstraint("organisation_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    form_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=FormState.open.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Encryption turned on by the server: the private key sealed under a passphrase people keep
    # (``encryption.seal_private_key``), and the hint they chose; never the passphrase.
    sealed_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_hint: Mapped[str | None] = mapped_column(Text)
    # The organisation counts this form's submissions in the network figures (``network/sharing.py``).
    network_shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    organisation: Mapped[Organisation] = relationship()
    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", order_by="FormVersion.id", cascade="all, delete-orphan"
    )


class FormAssignment(Base):
    """When a form has assignments, only the assigned accounts see it and submit to it."""

    __tablename__ = "form_assignment"
    __table_args__ = (UniqueConstraint("form_id", "app_user_id"), UniqueConstraint("form_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id", ondelete="CASCADE"))
    app_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))


class FormVersion(Base):
    """One version of a form: the XForm exactly as served to phones, and where it came from."""

    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    xform: Mapped[bytes] = mapped_column(LargeBinary)
    xform_md5: Mapped[str] = mapped_column(String(32))
    source: Mapped[bytes | None] = mapped_column(LargeBinary)
    source_filename: Mapped[str | None] = mapped_column(String(255))
    source_sha256: Mapped[str] = mapped_column(String(64))
    field_tree: Mapped[dict[str, Any]] = mapped_column(JSON)
    expected_media: Mapped[list[Any]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The XForm's ``<submission base64RsaPublicKey>``: phones encrypt what they send to this version.
    public_key: Mapped[str | None] = mapped_column(Text)
    # What the network may count, from the XLSForm's ``network`` column (``network/declaration.py``).
    network: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    form: Mapped[Form] = relationship(back_populates="versions")
    media: Mapped[list[MediaFile]] = relationship(
        back_populates="form_version", order_by="MediaFile.filename", cascade="all, delete-orphan"
    )

    @property
    def is_encrypted(self) -> bool:
        return self.public_key is not None

    @property
    def is_draft(self) -> bool:
        return self.published_at is None

    @property
    def missing_media(self) -> list[str]:
        present = {m.filename for m in self.media}
        return [name for name in self.expected_media if name not in present]


class MediaFile(Base):
    __tablename__ = "media_file"
    __table_args__ = (UniqueConstraint("form_version_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_version.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255))

    form_version: Mapped[FormVersion] = relationship(back_populates="media")


class Submission(Base):
    """One instance as the enumerator sent it; ``xml`` is kept byte for byte.

    An edit (``meta/deprecatedID``) is stored as a new row whose ``root_id`` points
    at the first version; only the newest version of a record has ``is_current``.
    ``data`` is a flattened copy for exports, derived from ``xml`` and rebuildable.
    """

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("form_id", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id", ondelete="CASCADE"), index=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_version.id"))
    instance_id: Mapped[str] = mapped_column(String(255))
    instance_name: Mapped[str | None] = mapped_column(Text)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    submitter_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    submitter_app_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    device_id: Mapped[str | None] = mapped_column(String(255))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    review_state: Mapped[str] = mapped_column(String(16), default=ReviewState.received.value)
    deprecated_id: Mapped[str | None] = mapped_column(String(255))
    root_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    attachments_expected: Mapped[int] = mapped_column(Integer, default=0)

    form_version: Mapped[FormVersion] = relationship()
    attachments: Mapped[list[SubmissionAttachment]] = relationship(
        back_populates="submission", order_by="SubmissionAttachment.name", cascade="all, delete-orphan"
    )


class SubmissionAttachment(Base):
    __tablename__ = "submission_attachment"
    __table_args__ = (UniqueConstraint("submission_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="attachments")


class SubmissionConflict(Base):
    """A resubmission with a known instanceID but different XML, kept aside for a manager."""

    __tablename__ = "submission_conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    device_id: Mapped[str | None] = mapped_column(String(255))
    submitter_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    submitter_app_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # The files sent with the differing XML, already in the blob store:
    # [{"name", "sha256", "size", "content_type"}], so that "take new" loses nothing.
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(String(32))

    submission: Mapped[Submission] = relationship()


class SubmissionComment(Base):
    __tablename__ = "submission_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportJob(Base):
    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    # Refreshed while the job runs: a running job whose heartbeat stops is marked failed.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    # Submissions received before this time are in the export: "new since my last export" starts here.
    watermark: Mapped[datetime | None]


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_app_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApiSession(Base):
    """A bearer token of the REST API (``POST /v1/sessions``); only its SHA-256 is kept."""

    __tablename__ = "api_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The password the token was opened with: changing it ends the token, as it ends web sessions.
    password_fingerprint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class WebSession(Base):
    """A signed-in browser: its cookie names this row by a random token, of which only the SHA-256 is kept.

    Signing out deletes the row, so a copy of the cookie taken before (a shared office computer, a
    stolen backup of a browser profile) no longer signs anyone in.
    """

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiSignInFailures(Base):
    """Wrong API passwords of one user, counted apart from the web's so a stale script locks out only itself."""

    __tablename__ = "api_sign_in_failures"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_sign_in_at: Mapped[datetime | None]


class NetworkUnit(Base):
    """One counted unit of a shared form: a household (a submission) or a row of one of its repeats.

    Holds no answer but the organisation, the pooled form id, the month, and the keyed hash of the
    declared identity field; its counted answers are ``NetworkValue`` rows. Derived from the stored
    XML, rebuildable (``formserver network rebuild``).
    """

    __tablename__ = "network_unit"
    __table_args__ = (
        Index("ix_network_unit_form", "form_id", "repeat", "month"),
        Index("ix_network_unit_identity", "form_id", "identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    form_id: Mapped[str] = mapped_column(String(255))
    # "" for a household, else the repeat's path below the instance root ("intake/member").
    repeat: Mapped[str] = mapped_column(String(255), default="")
    household_id: Mapped[int | None] = mapped_column(ForeignKey("network_unit.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    received_at: Mapped[datetime]
    # HMAC-SHA256 of the declared identity's 13 digits, first 64 bits (``network/identity.py``).
    identity: Mapped[int | None] = mapped_column(BigInteger)
    # Counted in the figures: the newest of its identity, in a counted household (``network/counting.py``).
    counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class NetworkValue(Base):
    """One counted answer of a unit: a choice name, or the band an integer falls in."""

    __tablename__ = "network_value"
    __table_args__ = (Index("ix_network_value_field", "field", "unit_id", "choice"),)

    unit_id: Mapped[int] = mapped_column(ForeignKey("network_unit.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(255), primary_key=True)
    choice: Mapped[str] = mapped_column(String(255), primary_key=True)


class NetworkSnapshot(Base):
    """A published table: only the figures as shown, frozen, at a public unguessable URL until revoked."""

    __tablename__ = "network_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    form_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    organisations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
