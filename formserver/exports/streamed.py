"""A decrypted export streamed to the person who asked for it, and kept nowhere.

An export job writes its file into the data folder and keeps it for a while;
a decrypted export must not, so the web runs it here instead: the export
writes into a bounded queue from a thread of its own, and the response sends
what it writes as it comes. The key lives in that thread's memory only; the
export leaves no job row, no file, and no watermark for "new since my last
export". A person who stops the download stops the export.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from ..config import Settings
from ..db import reading_session
from ..models import Form, Organisation, User
from .export import ExportOptions, run_export

CHUNKS = 16  # chunks waiting to be sent at most: memory stays flat however large the export
_END = object()


class _Stopped(Exception):
    """The person who asked went away: the export stops."""


class _QueueWriter:
    """The file the export writes to: each write waits for room in the queue."""

    def __init__(self, chunks: queue.Queue, stopped: threading.Event):
        self.chunks = chunks
        self.stopped = stopped

    def write(self, data: bytes) -> int:
        while not self.stopped.is_set():
            try:
                self.chunks.put(bytes(data), timeout=0.5)
                return len(data)
            except queue.Full:
                continue
        raise _Stopped()

    def flush(self) -> None:
        pass


def stream_export(
    settings: Settings, organisation_id: int, form_id: int, options: ExportOptions, key: RSAPrivateKey,
    *, requested_by_id: int | None, file_stem: str,
) -> Iterator[bytes]:
    """The bytes of the decrypted export, made while they are sent; errors end the stream."""
    chunks: queue.Queue = queue.Queue(CHUNKS)
    stopped = threading.Event()

    def work() -> None:
        outcome: object = _END
        try:
            with reading_session(settings) as reader:
                run_export(
                    reader,
                    settings,
                    reader.get(Organisation, organisation_id),
                    reader.get(Form, form_id),
                    options,
                    _QueueWriter(chunks, stopped),
                    requested_by=reader.get(User, requested_by_id) if requested_by_id else None,
                    spool_dir=settings.export_dir,
                    file_stem=file_stem,
                    key=key,
                )
        except BaseException as error:  # noqa: BLE001 - handed to the response, which ends the download
            outcome = error
        while not stopped.is_set():
            try:
                chunks.put(outcome, timeout=0.5)
                return
            except queue.Full:
                continue

    settings.export_dir.mkdir(parents=True, exist_ok=True)
    thread = threading.Thread(target=work, name="decrypted-export", daemon=True)
    thread.start()
    try:
        while True:
            chunk = chunks.get()
            if chunk is _END:
                return
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk
    finally:
        stopped.set()
