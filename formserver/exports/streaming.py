"""An export sent while it is written: the writer runs in a thread, the answer reads what it wrote.

The exporter writes to a file object; a web answer is an iterator of bytes. ``streamed(write)`` runs
``write(pipe)`` in a thread and yields the bytes as they come, with at most a few chunks between the
two (the writer waits for the reader), so memory stays flat whatever the size of the export. When
the reader stops (the client went away), the writer's next write raises ``BrokenPipeError`` and the
export is abandoned; an error of the writer is raised in the reader.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

CHUNK = 1 << 16
DEPTH = 8  # chunks waiting for the reader at most
_END = object()


class _Pipe:
    """The writer's end: a write-only file object that hands chunks to the reader."""

    def __init__(self):
        self.chunks: queue.Queue = queue.Queue(DEPTH)
        self.abandoned = threading.Event()
        self._buffer = bytearray()

    def write(self, data) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self.put(bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def flush(self) -> None:
        """Nothing: a chunk goes when it is full, the rest with ``finish``."""

    def finish(self) -> None:
        if self._buffer:
            self.put(bytes(self._buffer))
            self._buffer.clear()

    def put(self, item) -> None:
        while not self.abandoned.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        raise BrokenPipeError("the reader of the export went away")


def streamed(write: Callable[[BinaryIO], None]) -> Iterator[bytes]:
    """The bytes ``write(file)`` writes, as it writes them (see the module's docstring)."""
    pipe = _Pipe()

    def run() -> None:
        try:
            write(pipe)
            pipe.finish()
            outcome = _END
        except BaseException as error:  # handed to the reader, which raises it
            outcome = error
        try:
            pipe.put(outcome)
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=run, name="streamed export", daemon=True)
    thread.start()
    try:
        while True:
            item = pipe.chunks.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        pipe.abandoned.set()
        thread.join(timeout=60)
