"""Exports of encrypted forms: the key opened once, each envelope decrypted in memory as it streams.

``export_key`` opens the form's key before any work starts (the passphrase of a
key the server keeps sealed, or a private key PEM the person brings) and
refuses a wrong one at once. ``Decryptor`` then turns each stored envelope into
the flattened answers the export writes, in memory only: the decrypted XML and
its media are never stored, the media go straight into the export's
``media/``, and a submission that cannot be decrypted goes on the sheet
``not decrypted`` with the reason while the export goes on.

Edits: the ``deprecatedID`` of an edited encrypted submission is sealed inside
it, so ingest cannot link the edit to the record it replaces. A first pass over
the form's envelopes (``peek_row``, in the worker processes when there are many)
unwraps each AES key once, keeps it in memory for the export, and reads the
``deprecatedID`` of each instance; ``sealed_edits`` joins the chains, so an edited
record is exported once, as its newest version, as a plain one is.

In Central's layout (the API's ``submissions.csv.zip``) a submission that is not decrypted is a
row of the main table with its metadata, no answers and Central's ``Status`` (``not decrypted``,
or ``missing encrypted form data`` when its encrypted XML never arrived), as Central writes it;
without a key (no passphrase posted, or a form with its own key) every envelope is such a row.
"""

from __future__ import annotations

import collections
import itertools
import datetime as dt
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
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
    decrypt_instance,
    decrypt_submission,
    is_encrypted,
    load_private_key,
    open_private_key,
    public_key_for_form,
    read_envelope,
    unwrap_key,
)
from ..models import Form, FormVersion, Submission, SubmissionAttachment
from ..problems import Problem
from ..storage import BlobStore
from ..translations import N_, translate
from ..xml import UnsafeOrBadXml, parse
from .flatten import RepeatsByVersion, _flatten_safely, flatten

SEALED = object()  # a row whose answers are sealed: the Decryptor opens it
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
    return [case((missing, Submission.xml), else_=None), case((missing, files_column()), else_=None)]


def files_column():
    """A submission's stored files as ``sha256name`` items joined by ``/`` (``stored_files`` reads them)."""
    return (
        select(func.aggregate_strings(SubmissionAttachment.sha256 + SubmissionAttachment.name, literal_column("'/'")))
        .where(SubmissionAttachment.submission_id == Submission.id)
        .correlate(Submission)
        .scalar_subquery()
    )


def sealed_count(session: Session, conditions) -> int:
    """How many of an export's rows have no flattened copy (envelopes, mostly): decrypting ahead pays past a few hundred."""
    return session.scalar(select(func.count()).select_from(Submission).where(*conditions, ~has_copy())) or 0


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
        self.kept: dict[int, bytes] = {}  # submission id -> its AES key, unwrapped by the first pass (peek)
        self._pool: ProcessPoolExecutor | None = None
        self._workers = 0

    def start_workers(self, sealed_rows: int) -> None:
        """With many sealed rows and a spare core, start the worker processes that decrypt ahead (``close`` ends them)."""
        if self.key is not None and sealed_rows >= AHEAD_FROM and (workers := ahead_workers()):
            self._pool, self._workers = start_pool(self, workers), workers

    def close(self) -> None:
        """End the workers and forget the kept keys."""
        self.kept.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def peek(self, rows):
        """``(id, root_id, instance_id, AES key, deprecatedID)`` of each envelope among ``rows``
        (``(id, root_id, xml, files)``), in the workers when they run; each key is kept for ``open``."""
        if self._pool is None:
            peeked = (peek_row(self.key, self.blobs, *row) for row in rows)
        else:
            peeked = peek_ahead(self, rows)
        for found in peeked:
            if found is not None:
                self.kept[found[0]] = found[3]
                yield found

    def open(self, submission_id: int, version_id: int, instance_id: str, received_at: dt.datetime,
             xml: bytes | None, files: str | None) -> dict | None:
        """The flattened answers of one row; None when it is listed as not decrypted, and in
        Central's layout no answers (``{}``) with ``status`` saying why."""
        opened = open_row(self.key, self.blobs, self.repeats[version_id], xml, files, self.kept.pop(submission_id, None))
        return self.take(opened, submission_id, version_id, instance_id, received_at)

    def take(self, opened: tuple, submission_id: int, version_id: int, instance_id: str,
             received_at: dt.datetime) -> dict | None:
        """What ``open_row`` gave for a row, here or in a worker process: media into the zip, a failure listed."""
        self.status = None
        data, media, failure = opened
        if failure is not None:
            return self._fail(instance_id, received_at, version_id, *failure)
        if self.media_zip is not None:
            for name, content in media.items():
                safe = name.replace("/", "_").replace("\\", "_") or "file"
                entry = f"media/{safe}" if self.central else f"media/{submission_id}/{safe}"
                if not self.media_zip.has_entry(entry):
                    self.media_zip.write_entry(entry, content)
                    self.media_files += 1
        return data

    def opened(self, stream, sealed_rows: int):
        """``(row, answers)`` for a stream of ``(row, answers or SEALED)``, in order. With many sealed rows
        and a spare core, worker processes decrypt ahead while this thread writes (``decrypt_ahead``)."""
        if self._pool is None:
            self.start_workers(sealed_rows)
        if self._pool is not None:
            yield from decrypt_ahead(self, stream)
            return
        for row, data in stream:
            yield row, (self.open(row[0], row[1], row[3], row[4], row[-2], row[-1]) if data is SEALED else data)

    def _fail(self, instance_id: str, received_at: dt.datetime, version_id: int, code: str, values: dict,
              data_missing: bool) -> dict | None:
        """List the submission as not decrypted (None); in Central's layout, give it its status (``{}``)."""
        if self.central:
            self.status = MISSING_DATA_STATUS if data_missing else NOT_DECRYPTED_STATUS
            self.failures += 1
            return {}
        if self._table is None:
            self._table = self.failure_table()
        code = code if code in REASONS else BadEnvelope.code
        reason = translate(REASONS[code], self.language, **{k: str(v) for k, v in values.items()})
        received = received_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S") if received_at else ""
        self._table.write_row([instance_id, received, self.version_names.get(version_id), reason, code])
        self.failures += 1
        return None


def open_row(key: rsa.RSAPrivateKey | None, blobs: BlobStore, repeats: frozenset[str], xml: bytes | None,
             files: str | None, aes_key: bytes | None = None) -> tuple[dict | None, dict[str, bytes], tuple[str, dict, bool] | None]:
    """One row without a flattened copy, opened: ``(answers, media, None)``, or, when it cannot be decrypted,
    ``(None, {}, (code, values, whether its encrypted XML is missing))``. Plain values only, so that a
    worker process can send it back. ``aes_key``: the one ``peek_row`` unwrapped, if any."""
    if xml is None:
        return {}, {}, None
    xml = bytes(xml)
    try:
        root = parse(xml)
    except UnsafeOrBadXml:
        return {}, {}, None
    if not is_encrypted(root):
        return _flatten_safely(xml, repeats), {}, None
    envelope, stored = None, {}
    try:
        envelope = read_envelope(root)
        stored = stored_files(files)
        if envelope.xml_file not in stored:
            raise MissingPart(name=envelope.xml_file)
        if key is None:
            raise NotDecrypted(detail="no key was given")
        decrypted = decrypt_submission(envelope, key, lambda name: read_blob(blobs, stored.get(name)), aes_key)
        return flatten(decrypted.xml, repeats), decrypted.media, None
    except EncryptionError as error:
        data_missing = isinstance(error, MissingPart) and envelope is not None and envelope.xml_file not in stored
        return None, {}, (error.code, {k: str(v) for k, v in error.values.items()}, data_missing)
    except (ValueError, etree.LxmlError):
        failure = CorruptPart(name=envelope.xml_file if envelope else "", detail="the decrypted instance is not readable XML")
        return None, {}, (failure.code, failure.values, False)


def peek_row(key: rsa.RSAPrivateKey, blobs: BlobStore, submission_id: int, root_id: int | None, xml: bytes | None,
             files: str | None) -> tuple[int, int | None, str, bytes, str | None] | None:
    """The first pass over an envelope: ``(id, root_id, instanceID, AES key, deprecatedID)``, None when it
    is not an envelope or its key does not open (the export then lists it as not decrypted).

    The key is unwrapped once (RSA) and only the instance XML is decrypted, to read ``meta/deprecatedID``.
    An edit is trusted only when the whole submission decrypts and its signature holds, so that a damaged
    or incomplete edit never hides the version it names: its deprecatedID is then None."""
    try:
        envelope = read_envelope(parse(bytes(xml))) if xml is not None else None
        if envelope is None:
            return None
        stored = stored_files(files)
        aes_key = unwrap_key(envelope, key)
    except (EncryptionError, UnsafeOrBadXml):
        return None
    deprecated = None
    try:
        xml = decrypt_instance(envelope, aes_key, read_blob(blobs, stored.get(envelope.xml_file)))
        meta = parse(xml).find("{*}meta") if b"deprecatedID" in xml else None  # most are no edits: no parse
        named = meta.find("{*}deprecatedID") if meta is not None else None
        if named is not None and (named.text or "").strip():
            deprecated = named.text.strip()
        if deprecated is not None and deprecated != envelope.instance_id:
            decrypt_submission(envelope, key, lambda name: read_blob(blobs, stored.get(name)), aes_key)
    except (EncryptionError, UnsafeOrBadXml, ValueError, etree.LxmlError):
        deprecated = None
    return submission_id, root_id, envelope.instance_id, aes_key, deprecated


def read_blob(blobs: BlobStore, sha256: str | None) -> bytes | None:
    if sha256 is None:
        return None
    try:
        return blobs.read(sha256)
    except (OSError, ValueError):
        return None


# -- decrypting ahead, in worker processes -------------------------------------------------------------
# Two RSA private-key operations make most of an encrypted export's time (README › Benchmarks), on one
# core while the others wait. With enough sealed rows, worker processes (spawned: a fresh interpreter, never
# a fork of a threaded server) decrypt and flatten the rows ahead while this thread writes them in order,
# one per core, at a lower priority than the server's own processes so that phones are answered first.
# The key reaches them through the pipe, in memory only, and ends with them.

AHEAD_FROM = 200  # fewer sealed rows than this are opened here: starting a worker costs about half a second
WORKER_NICENESS = 10  # phones and pages first
OPEN_CHUNK = 32  # rows per task of the main pass; two tasks in flight per worker keep it busy and hold little
MEDIA_CHUNK = 2  # when photos come back with the rows: a few megabytes each, held until written
PEEK_CHUNK = 64  # envelopes per task of the first pass: the pipe's cost spread, little memory held


def ahead_workers() -> int:
    """Worker processes for decrypting ahead: one per core (the writer mostly waits for them), at most four."""
    return min(4, os.cpu_count() or 1)


def start_pool(decryptor: "Decryptor", workers: int) -> ProcessPoolExecutor:
    pem = decryptor.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    repeats = {version_id: decryptor.repeats[version_id] for version_id in decryptor.version_names}
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker, initargs=(pem, str(decryptor.blobs.root), repeats),
    )


def decrypt_ahead(decryptor: "Decryptor", stream):
    """The stream's rows in order, the sealed ones opened by the workers a chunk per task (one task per row
    spent more on the pipe and the futures than the export saved on the second core)."""
    pool, kept, media = decryptor._pool, decryptor.kept, decryptor.media_zip is not None
    size = MEDIA_CHUNK if media else OPEN_CHUNK
    waiting: collections.deque = collections.deque()
    try:
        for chunk in iter(lambda: list(itertools.islice(stream, size)), []):
            sealed = [(row[1], row[-2], row[-1], kept.pop(row[0], None)) for row, data in chunk if data is SEALED]
            waiting.append((chunk, pool.submit(_open_in_worker, sealed, media) if sealed else None))
            while len(waiting) > decryptor._workers * 2 or (waiting and waiting[0][1] is None):
                yield from _settled(decryptor, *waiting.popleft())
        while waiting:
            yield from _settled(decryptor, *waiting.popleft())
    finally:
        decryptor.close()


def peek_ahead(decryptor: "Decryptor", rows):
    """``peek_row`` of each row, in order, a chunk of rows per task (one task per row would spend more on
    the pipe than on the RSA). The writer has nothing to write yet: while the workers are behind (on a
    busy machine their lower priority holds them back), it peeks the next chunk itself."""
    pool, workers = decryptor._pool, decryptor._workers
    waiting: collections.deque = collections.deque()
    rows = (tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows)
    for chunk in iter(lambda: list(itertools.islice(rows, PEEK_CHUNK)), []):
        while waiting and (type(waiting[0]) is list or waiting[0].done()):
            yield from _peeked(waiting.popleft())
        if sum(type(item) is Future for item in waiting) < workers * 2:
            waiting.append(pool.submit(_peek_in_worker, chunk))
        else:
            waiting.append([peek_row(decryptor.key, decryptor.blobs, *row) for row in chunk])
    while waiting:
        yield from _peeked(waiting.popleft())


def _peeked(item) -> list:
    return item if type(item) is list else item.result()


def _settled(decryptor: "Decryptor", chunk: list, opening: Future | None):
    opened = iter(opening.result() if opening is not None else ())
    for row, data in chunk:
        if data is SEALED:
            data = decryptor.take(next(opened), row[0], row[1], row[3], row[4])
        yield row, data


_WORKER: dict = {}


def _start_worker(pem: bytes, blob_root: str, repeats: dict[int, frozenset[str]]) -> None:
    os.nice(WORKER_NICENESS)
    _WORKER.update(key=load_private_key(pem), blobs=BlobStore(Path(blob_root)), repeats=repeats)


def _open_in_worker(rows: list[tuple], media: bool) -> list:
    """``open_row`` of each ``(version id, xml, files, kept AES key)``; the media only when the export has them."""
    opened = [
        open_row(_WORKER["key"], _WORKER["blobs"], _WORKER["repeats"].get(version_id, frozenset()),
                 bytes(xml) if xml is not None else None, files, aes_key)
        for version_id, xml, files, aes_key in rows
    ]
    return opened if media else [(data, {}, failure) for data, _media, failure in opened]


def _peek_in_worker(rows: list[tuple]) -> list:
    return [peek_row(_WORKER["key"], _WORKER["blobs"], *row) for row in rows]


def stored_files(lines: str | None) -> dict[str, str]:
    """``name -> sha256`` from the aggregated ``sha256name`` items."""
    return {item[64:]: item[:64] for item in (lines or "").split("/") if len(item) > 64}
