"""Reading a submission upload as it streams in, without holding its files in memory.

The multipart body is decoded with Werkzeug's sans-IO decoder, a chunk at a
time: the ``xml_submission_file`` part is kept in memory (it is parsed anyway,
and capped), every other file part goes straight into a ``PendingBlob`` in the
blob store's temporary folder. A part over the limit is read to its end and
dropped, so that the phone gets a 413 with a message instead of a reset
connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder

from ..problems import Problem
from ..storage import BlobStore
from ..submissions import PendingBlob, ReceivedFile, attachment_name

CHUNK = 256 * 1024
XML_PART = "xml_submission_file"
INCOMPLETE_PART = "*isIncomplete*"
MAX_XML = 20 * 1024 * 1024
MAX_FIELD = 64 * 1024


@dataclass
class Upload:
    xml: bytes | None = None
    files: list[ReceivedFile] = field(default_factory=list)
    incomplete: bool = False
    too_large: str | None = None

    def discard(self) -> None:
        for received in self.files:
            received.blob.discard()


def read_upload(stream: BinaryIO, content_type: str | None, blobs: BlobStore, *, limit: int) -> Upload:
    """Decode a ``multipart/form-data`` submission; raises ``Problem`` for a body that is not one."""
    mimetype, options = parse_options_header(content_type or "")
    boundary = options.get("boundary")
    if mimetype != "multipart/form-data" or not boundary:
        raise Problem("submission.no_xml")
    upload = Upload()
    try:
        _decode(stream, boundary.encode("latin-1"), blobs, limit, upload)
    except BaseException:
        upload.discard()
        raise
    return upload


def _decode(stream: BinaryIO, boundary: bytes, blobs: BlobStore, limit: int, upload: Upload) -> None:
    decoder = MultipartDecoder(boundary)
    sink = None  # bytearray (xml, small field), PendingBlob, or None (ignored part)
    field_name = None
    received: ReceivedFile | None = None
    finished = False
    while not finished:
        try:
            chunk = stream.read(CHUNK)
        except ClientDisconnected:
            raise Problem("submission.cut_off") from None
        decoder.receive_data(chunk or None)
        while True:
            try:
                event = decoder.next_event()
            except ValueError:
                if not chunk:
                    raise Problem("submission.cut_off") from None
                raise Problem("submission.no_xml") from None
            if event is NEED_DATA:
                break
            if isinstance(event, File):
                received = None
                if event.name == XML_PART and upload.xml is None:
                    sink, field_name = bytearray(), XML_PART
                else:
                    content_type = event.headers.get("content-type") or "application/octet-stream"
                    blob = PendingBlob(blobs, limit=limit)
                    received = ReceivedFile(attachment_name(event.filename or event.name), content_type, blob)
                    upload.files.append(received)
                    sink, field_name = blob, None
            elif isinstance(event, Field):
                received = None
                # Some clients send the XML as a plain field; the split marker is a plain field.
                if event.name in (XML_PART, INCOMPLETE_PART) and not (event.name == XML_PART and upload.xml is not None):
                    sink, field_name = bytearray(), event.name
                else:
                    sink, field_name = None, None
            elif isinstance(event, Data):
                if isinstance(sink, PendingBlob):
                    sink.write(event.data)
                    if not event.more_data:
                        sink.finish()
                        if sink.too_large and upload.too_large is None:
                            upload.too_large = received.name
                elif isinstance(sink, bytearray):
                    cap = MAX_XML if field_name == XML_PART else MAX_FIELD
                    if len(sink) + len(event.data) > cap:
                        if field_name == XML_PART and upload.too_large is None:
                            upload.too_large = XML_PART
                        sink = None
                    else:
                        sink.extend(event.data)
                    if not event.more_data and sink is not None:
                        if field_name == XML_PART:
                            upload.xml = bytes(sink)
                        elif field_name == INCOMPLETE_PART:
                            upload.incomplete = bytes(sink).strip().lower() == b"yes"
                if not event.more_data:
                    sink, field_name = None, None
            elif isinstance(event, Epilogue):
                finished = True
                break
        if not chunk and not finished:
            raise Problem("submission.cut_off")
    # Whatever follows the closing boundary is read and ignored.
    while stream.read(CHUNK):
        pass


def drain(stream: BinaryIO, *, at_most: int) -> bool:
    """Read and drop what is left of a request body; False when more than ``at_most`` bytes remain."""
    total = 0
    try:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            if total > at_most:
                return False
    except (ClientDisconnected, OSError, ValueError):
        return False
    return True
