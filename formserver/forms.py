"""Forms and their versions: upload, publish, media, state.

A form is identified by its ``form_id`` within an organisation; each upload
adds a form version. Phones are served the newest published version, and only
while its media are complete (Collect would install a form silently without them).
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import PurePath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, xform
from .network import declaration
from .network.sharing import withdraw_encrypted
from .models import Form, FormState, FormVersion, MediaFile, Organisation, Submission, User, utcnow
from .problems import Problem
from .storage import BlobStore
from .workbooks import Limits
from .xlsform import ITEMSETS, convert, with_public_key


@dataclass
class Upload:
    """What happened to an upload: the version it is, whether it was new, what to tell the designer."""

    form: Form
    version: FormVersion
    created: bool
    warnings: list[str] = field(default_factory=list)


def add_form_version(
    session: Session,
    blobs: BlobStore,
    organisation: Organisation,
    content: bytes,
    filename: str,
    *,
    media: list[tuple[str, bytes]] = (),
    draft: bool = False,
    validate_with_java: bool = False,
    limits: Limits = Limits(),
    actor: User | None = None,
) -> Upload:
    """Convert and store an uploaded form; raises ``FormError`` or ``Problem`` having stored nothing."""
    converted = convert(content, filename, validate_with_java=validate_with_java, limits=limits)
    form = session.scalar(
        select(Form).where(Form.organisation_id == organisation.id, Form.form_id == converted.form_id)
    )
    source_sha256 = hashlib.sha256(content).hexdigest()
    public_key = xform.public_key(converted.xform)
    tree = xform.field_tree(converted.xform)
    network = declaration.declare(tree, converted.network_column)
    if form is not None:
        same = _version_with_same_source(session, form, source_sha256, converted)
        if same is not None:
            for name, data in media:
                attach_media(session, blobs, same, name, data, actor=actor)
            return Upload(form, same, created=False, warnings=list(same.warnings) + _missing_warnings(same))
        clash = session.scalar(
            select(FormVersion).where(FormVersion.form_id == form.id, FormVersion.version == converted.version)
        )
        if clash is not None:
            raise Problem("form.version_exists", form_id=converted.form_id, version=converted.version)
        if public_key is None and (public_key := _managed_public_key(session, form)) is not None:
            converted.xform = with_public_key(converted.xform, public_key)
    else:
        form = Form(organisation_id=organisation.id, form_id=converted.form_id, title=converted.title)
        session.add(form)
        session.flush()
    version = FormVersion(
        form_id=form.id,
        version=converted.version,
        title=converted.title,
        xform=converted.xform,
        xform_md5=hashlib.md5(converted.xform).hexdigest(),
        source=content,
        source_filename=PurePath(filename).name,
        source_sha256=source_sha256,
        field_tree=tree,
        network=network,
        expected_media=xform.expected_media(converted.xform) + ([ITEMSETS] if converted.itemsets_csv else []),
        warnings=list(converted.warnings),
        public_key=public_key,
        created_by_id=actor.id if actor else None,
    )
    session.add(version)
    session.flush()
    if public_key is not None:
        withdraw_encrypted(session, form, actor=actor)
    given = {PurePath(name).name for name, _ in media}
    carry_media_forward(session, form, version, given)
    if converted.itemsets_csv is not None:
        _store_media(session, blobs, version, ITEMSETS, converted.itemsets_csv)
    for name, data in media:
        attach_media(session, blobs, version, name, data, actor=actor, audited=False)
    if not draft:
        publish(session, version, actor=actor)
    audit.record(
        session,
        "form.upload",
        organisation=organisation,
        user=actor,
        target=f"{form.form_id}@{version.version}",
        draft=draft,
    )
    session.flush()
    session.refresh(version)
    return Upload(form, version, created=True, warnings=list(version.warnings) + _missing_warnings(version))


def _managed_public_key(session: Session, form: Form) -> str | None:
    """The key a version without one gets: encryption, once on, stays on. The server's own key
    (turned on by a manager) goes into the new version; a key brought by the designer cannot be
    guessed, so the upload is refused."""
    query = select(FormVersion.public_key).where(FormVersion.form_id == form.id, FormVersion.public_key.is_not(None))
    key = session.scalar(query.order_by(FormVersion.id.desc()).limit(1))
    if key is not None and form.sealed_private_key is None:
        raise Problem("form.encryption_dropped", form_id=form.form_id)
    return key


def _version_with_same_source(session: Session, form: Form, source_sha256: str, converted) -> FormVersion | None:
    """Re-uploading identical content changes nothing, also when the server assigned the version."""
    for version in session.scalars(select(FormVersion).where(FormVersion.form_id == form.id)):
        if version.source_sha256 == source_sha256:
            return version
        if not converted.version_assigned and version.version == converted.version and version.xform == converted.xform:
            return version
    return None


def _missing_warnings(version: FormVersion) -> list[str]:
    return [f"Media file {name} is missing: upload it before phones can download this form." for name in version.missing_media]


def carry_media_forward(session: Session, form: Form, version: FormVersion, given: set[str]) -> None:
    """A new version keeps the previous version's media of the same names unless new files are given."""
    previous = session.scalar(
        select(FormVersion)
        .where(FormVersion.form_id == form.id, FormVersion.id != version.id)
        .order_by(FormVersion.id.desc())
        .limit(1)
    )
    if previous is None:
        return
    for media in previous.media:
        if media.filename in version.expected_media and media.filename not in given and media.filename != ITEMSETS:
            session.add(
                MediaFile(
                    form_version_id=version.id,
                    filename=media.filename,
                    sha256=media.sha256,
                    md5=media.md5,
                    size=media.size,
                    content_type=media.content_type,
                )
            )
    session.flush()


def attach_media(
    session: Session,
    blobs: BlobStore,
    version: FormVersion,
    filename: str,
    content: bytes,
    *,
    actor: User | None = None,
    audited: bool = True,
) -> MediaFile:
    name = PurePath(filename.replace("\\", "/")).name
    if name not in version.expected_media:
        raise Problem("media.not_expected", form_id=version.form.form_id, filename=name)
    media = _store_media(session, blobs, version, name, content)
    if audited:
        audit.record(
            session,
            "form.media",
            organisation=version.form.organisation,
            user=actor,
            target=f"{version.form.form_id}@{version.version}/{name}",
        )
    return media


def _store_media(session: Session, blobs: BlobStore, version: FormVersion, name: str, content: bytes) -> MediaFile:
    blob = blobs.put_bytes(content)
    media = session.scalar(select(MediaFile).where(MediaFile.form_version_id == version.id, MediaFile.filename == name))
    if media is None:
        media = MediaFile(form_version_id=version.id, filename=name)
        session.add(media)
    media.sha256, media.md5, media.size = blob.sha256, blob.md5, blob.size
    media.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    session.flush()
    session.refresh(version)
    return media


def publish(session: Session, version: FormVersion, *, actor: User | None = None) -> None:
    if version.published_at is None:
        version.published_at = utcnow()
        version.form.title = version.title
        audit.record(
            session,
            "form.publish",
            organisation=version.form.organisation,
            user=actor,
            target=f"{version.form.form_id}@{version.version}",
        )
    session.flush()


def served_version(session: Session, form: Form) -> FormVersion | None:
    """The newest published version: the one phones get."""
    return session.scalar(
        select(FormVersion)
        .where(FormVersion.form_id == form.id, FormVersion.published_at.is_not(None))
        .order_by(FormVersion.published_at.desc(), FormVersion.id.desc())
        .limit(1)
    )


def newest_version(session: Session, form: Form) -> FormVersion | None:
    return session.scalar(
        select(FormVersion).where(FormVersion.form_id == form.id).order_by(FormVersion.id.desc()).limit(1)
    )


def form_by_id(session: Session, organisation: Organisation, form_id: str) -> Form:
    form = session.scalar(select(Form).where(Form.organisation_id == organisation.id, Form.form_id == form_id))
    if form is None:
        raise Problem("form.not_found", form_id=form_id)
    return form


def forms_of(session: Session, organisation: Organisation) -> list[Form]:
    return list(session.scalars(select(Form).where(Form.organisation_id == organisation.id).order_by(Form.form_id)))


def set_state(session: Session, form: Form, state: str, *, actor: User | None = None) -> None:
    if state not in {s.value for s in FormState}:
        raise Problem("form.bad_state", state=state)
    form.state = state
    audit.record(session, "form.state", organisation=form.organisation, user=actor, target=form.form_id, state=state)
    session.flush()


@dataclass
class FormSummary:
    form: Form
    newest: FormVersion | None
    served: FormVersion | None
    submissions: int
    last_submission_at: object

    @property
    def encrypted(self) -> bool:
        return any(version.is_encrypted for version in self.form.versions)

    @property
    def missing_media(self) -> list[str]:
        return self.served.missing_media if self.served else (self.newest.missing_media if self.newest else [])


def summaries(session: Session, organisation: Organisation) -> list[FormSummary]:
    """Each form with its newest and served versions, submission count and last submission time."""
    counts = dict(
        (form_id, (count, last))
        for form_id, count, last in session.execute(
            select(Submission.form_id, func.count(), func.max(Submission.received_at))
            .where(Submission.organisation_id == organisation.id, Submission.is_current.is_(True))
            .group_by(Submission.form_id)
        )
    )
    result = []
    for form in forms_of(session, organisation):
        count, last = counts.get(form.id, (0, None))
        result.append(FormSummary(form, newest_version(session, form), served_version(session, form), count, last))
    return result
