"""The files of a submission: received while the upload streams in, stored content addressed.

A file is written to the blob store's temporary folder as it arrives, hashed
as it goes, and put under its sha256 name only when its submission is stored
(blobs first, rows after). A resend of the same submission adds the files not
stored yet (Collect's split uploads and retries).

A client's file name is data, kept as sent, and never made into another name:
one with folders, control characters or over 255 characters is refused (Collect
sends the plain names of the files it made; cutting or stripping a name could
make it another file's).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Submission, SubmissionAttachment, utcnow
from ..problems import Problem
from ..storage import BlobStore
from .instance import MAX_NAME, cut


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
        """Put the blob under its sha256 name (once); return the digest.

        The new copy replaces an identical one already there: its fresh modification time
        tells the orphan clean-up (``integrity.py``), which removes only unreferenced blobs
        older than a day, that a row is about to refer to it.
        """
        if self.committed:
            return self.sha256
        self.finish()
        if self.too_large:
            raise ValueError("a blob over the limit cannot be committed")
        target = self.blobs.path(self.sha256)
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
    """A client's file name as it is stored, or ``Problem`` when it is not a plain file name."""
    name = filename or ""
    if (
        not name.strip()
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or len(name) > MAX_NAME
        or any(unicodedata.category(c) == "Cc" for c in name)
    ):
        raise Problem("submission.bad_file_name", filename=shown_name(name))
    return name


def shown_name(name: str) -> str:
    """A file name fit for a message: control characters as ``?``, at most 60 characters."""
    shown = "".join("?" if unicodedata.category(c) == "Cc" else c for c in name)
    return shown if len(shown) <= 60 else shown[:59] + "…"


def _attachment_row(received: ReceivedFile, now) -> SubmissionAttachment:
    sha256 = received.blob.commit()
    return SubmissionAttachment(
        name=received.name,
        sha256=sha256,
        size=received.blob.size,
        content_type=cut(received.content_type) or "application/octet-stream",
        received_at=now,
    )


def add_missing_attachments(session: Session, submission: Submission, files: list[ReceivedFile]) -> list[str]:
    """Store the files a resend brings that ``submission`` does not have yet; their names."""
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
