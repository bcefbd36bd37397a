"""Exports of encrypted forms: the key opened once, each envelope decrypted in memory as it streams.

``export_key`` opens the form's key before any work starts (the passphrase of a
key the server keeps sealed, or a private key PEM the person brings) and
refuses a wrong one at once. ``Decryptor`` then turns each stored envelope into
the flattened answers the export writes, in memory only: the decrypted XML and
its media are never stored, the media go straight into the export's
``media/``, and a submission that cannot be decrypted goes on the sheet
``not decrypted`` with the reason while the export goes on.

In Central's layout (the API's ``submissions.csv.zip``) a submission that is not decrypted is a
row of the main table with its metadata, no answers and Central's ``Status`` (``not decrypted``,
or ``missing encrypted form data`` when its encrypted XML never arrived), as Central writes it;
without a key (no passphrase posted, or a form with its own key) every envelope is such a row.

Edits: the ``deprecatedID`` of an edited encrypted submission is sealed inside
it, so ingest cannot link the edit to the record it replaces; both are
exported as rows of their own (the sheet shows each one's instanceID).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from sqlalchemy import Text, case, cast, func, literal_column, or_, select
from sqlalchemy.orm import Session

from ..encryption import (
    BadEnvelope,
    CorruptPart,
    EncryptionError,
    MissingPart,
    NotAPrivateKey,
    NotDecrypted,
    SealedKeyUnreadable,
    WrongPassphrase,
    decrypt_submission,
    is_encrypted,
    load_private_key,
    open_private_key,
    public_key_for_form,
    read_envelope,
)
from ..models import Form, FormVersion, Submission, SubmissionAttachment
from ..problems import Problem
from ..storage import BlobStore
from ..translations import N_, translate
from ..xml import UnsafeOrBadXml, parse
from .flatten import RepeatsByVersion, _flatten_safely, flatten

NOT_DECRYPTED = {"xlsx": "not decrypted", "csv": "not_decrypted"}
NOT_DECRYPTED_HEADER = ("KEY", "SubmissionDate", "FormVersion", "Reason", "Code")
# Central's Status of a submission it could not decrypt, and of one whose encrypted XML is missing.
NOT_DECRYPTED_STATUS, MISSING_DATA_STATUS = "not decrypted", "missing encrypted form data"
# What the sheet says of each reason, in the export's language.
REASONS = {
    "encryption.wrong_key": N_("Encrypted for another key than the one given."),
    "encryption.missing_part": N_("The encrypted file %(name)s has not been received."),
    "encryption.corrupt_part": N_("The encrypted file %(name)s is damaged."),
    "encryption.bad_signature": N_("The signature does not match the files: they were changed after the phone sealed them."),
    "encryption.bad_envelope": N_("The envelope the phone sent is not valid."),
}


def form_is_encrypted(versions: list[FormVersion]) -> bool:
    return any(version.is_encrypted for version in versions)


def export_key(
    session: Session, form: Form, *, passphrase: str | None = None, private_pem: bytes | None = None
) -> rsa.RSAPrivateKey | None:
    """The private key an export of ``form`` decrypts with, checked now; None for a form never encrypted.

    ``Problem`` when none is given, the passphrase is wrong, or the PEM is not the key of
    any version of the form: said before the export starts, never half-way.
    """
    query = select(FormVersion.public_key).where(FormVersion.form_id == form.id, FormVersion.public_key.is_not(None))
    public_keys = {"".join(key.split()) for key in session.scalars(query)}
    if not public_keys:
        return None
    if passphrase:
        if form.sealed_private_key is None:
            raise Problem("export.no_sealed_key", form_id=form.form_id)
        try:
            return open_private_key(form.sealed_private_key, passphrase)
        except WrongPassphrase:
            raise Problem("export.wrong_passphrase", form_id=form.form_id) from None
        except SealedKeyUnreadable as error:
            raise Problem("export.key_unreadable", form_id=form.form_id, detail=str(error)) from None
    if private_pem:
        try:
            key = load_private_key(private_pem)
        except NotAPrivateKey as error:
            raise Problem("export.not_a_private_key", detail=str(error)) from None
        if public_key_for_form(key) not in public_keys:
            raise Problem("export.key_mismatch", form_id=form.form_id)
        return key
    raise Problem("export.key_needed", form_id=form.form_id)


def envelope_columns() -> list:
    """Two columns more for a decrypting export: the XML of a row without a flattened copy
    (the envelope; a plain one is flattened from it), and its files as ``sha256name`` joined by ``/``
    (which no envelope's file name has). The separator is SQL text, not a parameter:
    ``stream_rows`` sends the statement as compiled."""
    missing = or_(Submission.data.is_(None), cast(Submission.data, Text) == "null")
    files = (
        select(func.aggregate_strings(SubmissionAttachment.sha256 + SubmissionAttachment.name, literal_column("'/'")))
        .where(SubmissionAttachment.submission_id == Submission.id)
        .correlate(Submission)
        .scalar_subquery()
    )
    return [case((missing, Submission.xml), else_=None), case((missing, files), else_=None)]


def has_copy():
    """Plain submissions only: their stored attachments are their media (an envelope's are ``.enc`` files)."""
    return ~or_(Submission.data.is_(None), cast(Submission.data, Text) == "null")


class Decryptor:
    """Opens the rows of a decrypting export that have no flattened copy.

    ``media_zip`` (when the export includes media) receives each decrypted file as
    ``media/<submission id>/<name>``; ``failure_table()`` gives the table of the
    submissions that cannot be decrypted, made at the first one. ``central``: Central's
    layout, where such a submission is a row of metadata whose ``status`` says why, and
    media are ``media/<name>``, a name once. ``key`` None: nothing is decrypted.
    """

    def __init__(self, key: rsa.RSAPrivateKey | None, blobs: BlobStore, repeats: RepeatsByVersion, *,
                 media_zip, failure_table, language: str, zone: ZoneInfo, version_names: dict, central: bool = False):
        self.key = key
        self.central = central
        self.status: str | None = None  # Central's Status of the row opened last
        self.blobs = blobs
        self.repeats = repeats
        for version_id in version_names:  # read now: no statement may run while the rows stream
            repeats[version_id]
        self.media_zip = media_zip
        self.failure_table = failure_table
        self.language = language
        self.zone = zone
        self.version_names = version_names
        self.failures = 0
        self.media_files = 0
        self._table = None

    def open(self, submission_id: int, version_id: int, instance_id: str, received_at: dt.datetime,
             xml: bytes | None, files: str | None) -> dict | None:
        """The flattened answers of one row; None when it is listed as not decrypted, and in
        Central's layout no answers (``{}``) with ``status`` saying why."""
        self.status = None
        if xml is None:
            return {}
        xml = bytes(xml)
        try:
            root = parse(xml)
        except UnsafeOrBadXml:
            return {}
        if not is_encrypted(root):
            return _flatten_safely(xml, self.repeats[version_id])
        try:
            envelope = read_envelope(root)
            stored = stored_files(files)
            if envelope.xml_file not in stored:
                return self._fail(instance_id, received_at, version_id, MissingPart(name=envelope.xml_file), data_missing=True)
            if self.key is None:
                return self._fail(instance_id, received_at, version_id, NotDecrypted(detail="no key was given"))
            decrypted = decrypt_submission(envelope, self.key, lambda name: self._read(stored.get(name)))
            data = flatten(decrypted.xml, self.repeats[version_id])
        except EncryptionError as error:
            return self._fail(instance_id, received_at, version_id, error)
        except (ValueError, etree.LxmlError):
            return self._fail(instance_id, received_at, version_id,
                              CorruptPart(name=envelope.xml_file, detail="the decrypted instance is not readable XML"))
        if self.media_zip is not None:
            for name, content in decrypted.media.items():
                safe = name.replace("/", "_").replace("\\", "_") or "file"
                entry = f"media/{safe}" if self.central else f"media/{submission_id}/{safe}"
                if not self.media_zip.has_entry(entry):
                    self.media_zip.write_entry(entry, content)
                    self.media_files += 1
        return data

    def _read(self, sha256: str | None) -> bytes | None:
        if sha256 is None:
            return None
        try:
            return self.blobs.read(sha256)
        except (OSError, ValueError):
            return None

    def _fail(self, instance_id: str, received_at: dt.datetime, version_id: int, error: EncryptionError, *,
              data_missing: bool = False) -> dict | None:
        """List the submission as not decrypted (None); in Central's layout, give it its status (``{}``)."""
        if self.central:
            self.status = MISSING_DATA_STATUS if data_missing else NOT_DECRYPTED_STATUS
            self.failures += 1
            return {}
        if self._table is None:
            self._table = self.failure_table()
        code = error.code if error.code in REASONS else BadEnvelope.code
        reason = translate(REASONS[code], self.language, **{k: str(v) for k, v in error.values.items()})
        received = received_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S") if received_at else ""
        self._table.write_row([instance_id, received, self.version_names.get(version_id), reason, code])
        self.failures += 1
        return None


def stored_files(lines: str | None) -> dict[str, str]:
    """``name -> sha256`` from the aggregated ``sha256name`` items."""
    return {item[64:]: item[:64] for item in (lines or "").split("/") if len(item) > 64}
