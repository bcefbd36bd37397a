"""Reading a submission upload as it streams in, without holding its files in memory.

The multipart body is read a chunk at a time: the ``xml_submission_file`` part is kept in memory (it is parsed anyway,
and capped), every other file part goes straight into a ``PendingBlob`` in the
blob store's temporary folder. A part over the limit is read to its end and
dropped, so that the phone gets a 413 with a message instead of a reset
connection. The limit is the whole request's too (Collect puts no more than it
in one request, splitting the files over several), give or take the multipart
headers: a body that goes on past it is refused with 413 as soon as it does, and
what is left of it is drained by whoever answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import parse_options_header

from ..problems import Problem
from ..storage import BlobStore
from ..submissions import PendingBlob, ReceivedFile, attachment_name

CHUNK = 256 * 1024
XML_PART = "xml_submission_file"
INCOMPLETE_PART = "*isIncomplete*"
MAX_XML = 20 * 1024 * 1024
MAX_FIELD = 64 * 1024
HEADERS_ALLOWANCE = 1_000_000  # boundaries and part headers, which Collect does not count against the limit


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
    """Decode a ``multipart/form-data`` submission; raises ``Problem`` for a body that is not one, or is over the limit."""
    boundary = multipart_boundary(content_type)
    if not boundary:
        raise Problem("submission.no_xml")
    upload = Upload()
    try:
        _decode(_Reader(stream, boundary.encode("latin-1"), limit + HEADERS_ALLOWANCE), blobs, limit, upload)
    except _OverLimit:
        upload.discard()
        raise _too_large(upload, limit) from None
    except BaseException:
        upload.discard()
        raise
    if upload.too_large is not None:
        upload.discard()
        raise _too_large(upload, limit)
    return upload


class _OverLimit(Exception):
    """The body goes on past the limit."""


def _too_large(upload: Upload, limit: int) -> Problem:
    """The 413 that names the file over the limit, or else says the whole upload is."""
    limit_mb = f"{limit / 1_000_000:g}"
    if upload.too_large is not None:
        return Problem("submission.too_large", filename=upload.too_large, limit_mb=limit_mb)
    return Problem("submission.body_too_large", limit_mb=limit_mb)


def multipart_boundary(content_type: str | None) -> str | None:
    """The boundary of a ``multipart/form-data`` Content-Type, or None.

    A boundary cannot contain ``;`` or ``"`` (RFC 2046), so splitting at ``;`` is exact;
    werkzeug's general header parser (regular expressions) was a third of reading an upload.
    """
    mimetype, _, parameters = (content_type or "").partition(";")
    if mimetype.strip().lower() != "multipart/form-data":
        return None
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value or None
    return None


class _Reader:
    """Byte-level multipart reader: ``bytes.find`` for the delimiter, no regular expression.

    (Werkzeug's decoder compiles two regular expressions per request, since every
    request has its own boundary, which costs more CPU than all of ingest.)
    """

    def __init__(self, stream: BinaryIO, boundary: bytes, most: int):
        self.stream = stream
        self.buffer = bytearray()
        self.eof = False
        self.delimiter = b"\r\n--" + boundary
        self.received = 0
        self.most = most

    def fill(self) -> bool:
        """Read one more chunk; False at the end of the body."""
        if self.eof:
            return False
        try:
            chunk = self.stream.read(CHUNK)
        except (ClientDisconnected, OSError):
            raise Problem("submission.cut_off") from None
        if not chunk:
            self.eof = True
            return False
        self.received += len(chunk)
        if self.received > self.most:
            raise _OverLimit
        self.buffer += chunk
        return True

    def skip_preamble(self) -> None:
        """Up to and including the first delimiter (which may open the body without a line break)."""
        first = self.delimiter[2:]
        while True:
            if self.buffer.startswith(first):
                del self.buffer[: len(first)]
                return
            at = self.buffer.find(self.delimiter)
            if at >= 0:
                del self.buffer[: at + len(self.delimiter)]
                return
            keep = len(self.delimiter)
            if len(self.buffer) > keep:
                del self.buffer[: len(self.buffer) - keep]
            if not self.fill():
                raise Problem("submission.no_xml")

    def after_delimiter(self) -> bool:
        """True when another part follows, False after the closing ``--``."""
        while len(self.buffer) < 2:
            if not self.fill():
                raise Problem("submission.cut_off")
        if self.buffer[:2] == b"--":
            return False
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                if self.buffer[:end].strip(b" \t"):
                    raise Problem("submission.no_xml")
                del self.buffer[: end + 2]
                return True
            if len(self.buffer) > 1024 or not self.fill():
                raise Problem("submission.cut_off" if self.eof else "submission.no_xml")

    def headers(self) -> dict[str, str]:
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                raw = bytes(self.buffer[:end])
                del self.buffer[: end + 4]
                break
            if self.buffer.startswith(b"\r\n"):  # a part without headers
                del self.buffer[:2]
                return {}
            if len(self.buffer) > MAX_FIELD:
                raise Problem("submission.no_xml")
            if not self.fill():
                raise Problem("submission.cut_off")
        result = {}
        for line in raw.decode("utf-8", errors="replace").split("\r\n"):
            name, _, value = line.partition(":")
            result[name.strip().lower()] = value.strip()
        return result

    def body(self):
        """The part's data in pieces, up to the next delimiter (consumed)."""
        delimiter = self.delimiter
        keep = len(delimiter) - 1
        while True:
            at = self.buffer.find(delimiter)
            if at >= 0:
                if at:
                    yield bytes(self.buffer[:at])
                del self.buffer[: at + len(delimiter)]
                return
            if len(self.buffer) > keep:
                cut = len(self.buffer) - keep
                yield bytes(self.buffer[:cut])
                del self.buffer[:cut]
            if not self.fill():
                raise Problem("submission.cut_off")


def _decode(reader: _Reader, blobs: BlobStore, limit: int, upload: Upload) -> None:
    reader.skip_preamble()
    while reader.after_delimiter():
        headers = reader.headers()
        _, options = parse_options_header(headers.get("content-disposition", ""))
        name = options.get("name") or ""
        filename = options.get("filename")
        if name == XML_PART and upload.xml is None:
            upload.xml = _small(reader, MAX_XML, upload)
        elif filename is None:
            value = _small(reader, MAX_FIELD, None)
            if name == INCOMPLETE_PART and value is not None:
                upload.incomplete = value.strip().lower() == b"yes"
        else:
            stored_name = attachment_name(filename or name)  # refused before anything is written
            blob = PendingBlob(blobs, limit=limit)
            received = ReceivedFile(stored_name, headers.get("content-type") or "application/octet-stream", blob)
            upload.files.append(received)
            for piece in reader.body():
                blob.write(piece)
                if blob.too_large and upload.too_large is None:
                    upload.too_large = received.name
            blob.finish()
    # Whatever follows the closing delimiter is read and ignored.
    while reader.fill():
        reader.buffer.clear()


def _small(reader: _Reader, cap: int, upload: Upload | None) -> bytes | None:
    """A part kept in memory, or None (and, for the XML, ``too_large``) past ``cap`` bytes."""
    data = bytearray()
    over = False
    for piece in reader.body():
        if not over and len(data) + len(piece) > cap:
            over = True
            data.clear()
        if not over:
            data += piece
    if over:
        if upload is not None and upload.too_large is None:
            upload.too_large = XML_PART
        return None
    return bytes(data)


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
