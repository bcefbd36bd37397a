"""The files of an export's submissions, streamed into the export's ``media/`` folder."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Submission, SubmissionAttachment
from ..storage import BlobStore
from .zipstream import ZipStream

READ_BATCH = 250


def write_media(session: Session, zip_stream: ZipStream, blobs: BlobStore, conditions, beat, *, flat: bool = False) -> int:
    """Every attachment of the exported submissions as ``media/<submission id>/<name>``, streamed.

    ``flat`` (Central's layout, whose cells name the file alone): ``media/<name>``, a name once."""
    query = (
        select(SubmissionAttachment.submission_id, SubmissionAttachment.name, SubmissionAttachment.sha256)
        .join(Submission, Submission.id == SubmissionAttachment.submission_id)
        .where(*conditions)
        .order_by(SubmissionAttachment.submission_id, SubmissionAttachment.name)
    )
    written, written_names = 0, set()
    for submission_id, name, sha256 in session.connection().execute(query.execution_options(yield_per=READ_BATCH)):
        try:
            handle = blobs.open(sha256)
        except (OSError, ValueError):
            continue  # a blob that is not there: the sheet counts attachments present, nothing to add
        safe = name.replace("/", "_").replace("\\", "_") or "file"
        entry = f"media/{safe}" if flat else f"media/{submission_id}/{safe}"
        if entry in written_names:
            handle.close()
            continue
        written_names.add(entry)
        with handle:
            zip_stream.start_entry(entry)
            while chunk := handle.read(1 << 20):
                zip_stream.write(chunk)
            zip_stream.end_entry()
        written += 1
        if written % 50 == 0:
            beat()
    return written
