"""Phones on a weak 2G/3G link, for tests/test_slow_uploads.py and bench/crash.py.

A slow upload sends its submission a few bytes at a time (``rate`` bytes a second); a stalled
one sends its headers and part of its body, then nothing, as a phone does when the signal drops
half-way. One thread drives them all over raw non-blocking sockets and records when and what
each was answered.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

TICK = 0.1


@dataclass
class Upload:
    """One POST on its own connection: ``request`` is the whole of it, headers and body."""

    request: bytes
    rate: float | None = None  # bytes a second; None: as fast as the link takes it
    stall_after: int | None = None  # stop sending after this many bytes of the request
    sent: int = 0
    started: float = 0.0
    last_sent: float = 0.0
    answer: bytes = b""
    answered: float | None = None  # when the first byte of the answer came
    closed: float | None = None  # when the server closed the connection
    sock: socket.socket | None = field(default=None, repr=False)

    @property
    def status(self) -> int | None:
        """The answer's status code, once its status line has arrived."""
        line, _, _ = self.answer.partition(b"\r\n")
        parts = line.split(b" ")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None

    def done(self) -> bool:
        """Answered and closed (every request says ``Connection: close``)."""
        return self.closed is not None


def post_request(host: str, path: str, body: bytes, content_type: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nX-OpenRosa-Version: 1.0\r\nConnection: close\r\n\r\n"
    ).encode() + body


class Uploads:
    """Runs uploads to ``address`` in one thread until each is answered and closed, or ``stop()``."""

    def __init__(self, address: tuple[str, int], uploads: list[Upload]):
        self.address = address
        self.uploads = uploads
        self.selector = selectors.DefaultSelector()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="slow-phones", daemon=True)

    def __enter__(self) -> "Uploads":
        for upload in self.uploads:
            upload.sock = socket.create_connection(self.address)
            upload.sock.setblocking(False)
            upload.started = upload.last_sent = time.monotonic()
            self.selector.register(upload.sock, selectors.EVENT_READ, upload)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        for upload in self.uploads:
            if upload.sock is not None:
                upload.sock.close()

    def wait(self, timeout: float) -> bool:
        """True when every upload was answered before ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(upload.done() for upload in self.uploads):
                return True
            time.sleep(TICK)
        return False

    def _run(self) -> None:
        while not self.stopping.is_set():
            now = time.monotonic()
            for upload in self.uploads:
                if upload.closed is None:
                    self._send(upload, now)
            for key, _ in self.selector.select(timeout=TICK):
                self._receive(key.data)

    def _send(self, upload: Upload, now: float) -> None:
        goal = len(upload.request)
        if upload.rate is not None:
            goal = min(goal, int((now - upload.started) * upload.rate))
        if upload.stall_after is not None:
            goal = min(goal, upload.stall_after)
        if upload.sent >= goal:
            return
        try:
            count = upload.sock.send(upload.request[upload.sent : goal])
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # the server closed the connection (it answered, or dropped the upload)
            upload.closed = upload.closed or now
            return
        upload.sent += count
        upload.last_sent = now

    def _receive(self, upload: Upload) -> None:
        try:
            data = upload.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        now = time.monotonic()
        if data:
            upload.answered = upload.answered or now
            upload.answer += data
        else:
            upload.closed = now
            self.selector.unregister(upload.sock)
