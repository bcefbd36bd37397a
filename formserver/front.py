"""The front of ``formserver serve``: a request's body is received in full before a thread takes it.

Phones in the villages send photos over weak 2G/3G links: many uploads are slow and some stop
half-way when the signal drops. A WSGI server gives a request to one of its threads as soon as
the headers arrive, and the thread then waits for the body while holding its database
connection; 40 stalled phones held every thread, and no other phone was answered. More threads
cannot help: each would hold a connection, and PostgreSQL allows 100.

So Granian runs its asyncio interface (RSGI) and this front receives each body on the worker's
event loop, where a waiting upload costs a coroutine and a socket, not a thread. The body goes
to a spool (memory up to ``IN_MEMORY``, then an anonymous temporary file in the data folder's
``spool/``, gone when closed, even after a crash); an upload that sends nothing for
``FORMSERVER_UPLOAD_IDLE_SECONDS`` is dropped with nothing stored. Only a complete request goes
to the threads that run the WSGI application, with the spool as ``wsgi.input``, and the thread
answers it: bytes at once, a file (exports, attachments, media) sent by Granian from its path
a chunk at a time, so that neither memory nor a thread waits on a slow reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import queue
import sys
import tempfile
import threading

from . import memory
from .config import Settings
from .translations import N_, bilingual

log = logging.getLogger(__name__)

# Bodies up to this size stay in memory (the XML of a submission without photos is 3-6 KB); a larger
# one goes to disk, written this much at a time.
IN_MEMORY = 64 * 1024

# A thread idle this long ends, and with it the database connection it kept (openrosa/connections.py).
IDLE_THREAD_SECONDS = 600

# What a phone is told, in every language one after the other (rare answers: translated when sent).
DROPPED_IDLE = N_("Nothing arrived for too long: the upload was dropped.")
DROPPED_TOO_LARGE = N_("The request is too large.")
CUT_OFF = N_("The upload was cut off.")
FAILED = N_("The server failed to answer.")

_PROTOCOLS = {"1": "HTTP/1.0", "1.1": "HTTP/1.1", "2": "HTTP/2"}


def body_limit(settings: Settings) -> int:
    """The largest body received: every file may reach ``FORMSERVER_ACCEPT_CONTENT_LENGTH`` (and is then
    refused with a message), so twice that plus room for the XML and the multipart framing."""
    return 2 * settings.accept_content_length + (16 << 20)


def load(threads: int) -> Front:
    """Granian's loader, run in each worker process: the application behind its front."""
    from .app import create_app

    memory.tune()
    application = create_app()
    return Front(application, application.extensions["formserver.settings"], threads=threads)


class Dropped(Exception):
    """A request whose body is not received: answered with ``status``, and the connection closed."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Front:
    """An RSGI application around a WSGI application (see the module's docstring)."""

    def __init__(self, application, settings: Settings, *, threads: int):
        self.application = application
        self.idle_seconds = settings.upload_idle_seconds
        self.limit = body_limit(settings)
        self.spool_dir = settings.spool_dir
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self.threads = Threads(threads, "formserver")
        # Threads that only write spools, so that a slow disk never stops the event loop.
        self.disk = Threads(2, "formserver-spool")

    def __rsgi_del__(self, loop) -> None:
        # Requests already in a thread finish (a submission being stored is stored) before the worker ends.
        self.threads.close()
        self.disk.close()

    async def __rsgi__(self, scope, protocol) -> None:
        environ = wsgi_environ(scope)
        try:
            environ["wsgi.input"] = body = await self.receive(protocol, environ)
        except Dropped as dropped:
            headers = [("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")]
            protocol.response_bytes(dropped.status, headers, f"{dropped.message}\n".encode())
            return
        try:
            await self.threads.run(self.answer, environ, protocol)
        finally:
            body.close()

    async def receive(self, protocol, environ: dict) -> io.IOBase:
        """The whole body, from its start; raises ``Dropped`` for one that stalls, is too large or is cut off."""
        declared = environ.get("CONTENT_LENGTH")
        if not declared and "HTTP_TRANSFER_ENCODING" not in environ:
            return io.BytesIO()
        expected = int(declared) if declared else None
        if expected is not None and expected > self.limit:
            raise Dropped(413, bilingual(DROPPED_TOO_LARGE))
        watchdog = Watchdog(self.idle_seconds)
        pending, size, spool = bytearray(), 0, None
        chunks = protocol.__aiter__()
        try:
            # Stop at the declared length rather than wait for the end of the stream: one wake-up of
            # the event loop fewer, a tenth of the server's CPU for a small submission.
            while size != expected:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                watchdog.arrived()
                size += len(chunk)
                if size > self.limit:
                    raise Dropped(413, bilingual(DROPPED_TOO_LARGE))
                pending += chunk
                if len(pending) >= IN_MEMORY:
                    with watchdog.paused():
                        spool = await self.disk.run(self.write, spool, bytes(pending))
                    pending.clear()
            if expected is not None and size != expected:
                raise Dropped(400, bilingual(CUT_OFF))  # the phone went away half-way: nobody reads this answer
            if spool is None:
                body = io.BytesIO(pending)
            else:
                with watchdog.paused():
                    body = await self.disk.run(self.write, spool, bytes(pending), True)
        except BaseException as error:
            if spool is not None:
                spool.close()
            if isinstance(error, asyncio.CancelledError) and watchdog.fired:
                asyncio.current_task().uncancel()
                raise Dropped(408, bilingual(DROPPED_IDLE)) from None
            raise
        finally:
            watchdog.stop()
        environ["CONTENT_LENGTH"] = str(size)
        return body

    def write(self, spool, data: bytes, rewind: bool = False):
        """In a disk thread: ``data`` appended to the spool (created by its first write); read from its start when ``rewind``."""
        if spool is None:
            spool = tempfile.TemporaryFile(dir=self.spool_dir)
        spool.write(data)
        if rewind:
            spool.seek(0)
        return spool

    def answer(self, environ: dict, protocol) -> None:
        """In a thread: run the application and give Granian its answer (Granian takes it from any thread).

        A file is sent by Granian from its path. Any other iterable is joined: besides files,
        formserver answers with pages and small documents.
        """
        started: list = []

        def start_response(status, headers, exc_info=None):
            started[:] = [int(status.split(" ", 1)[0]), headers]

        try:
            answer = self.application(environ, start_response)
            try:
                path = answer.path() if isinstance(answer, SentFile) else None
                content = None if path else b"".join(answer)
            finally:
                if hasattr(answer, "close"):
                    answer.close()
            status, headers = started
        except Exception:
            log.exception("%s %s failed", environ["REQUEST_METHOD"], environ["PATH_INFO"])
            protocol.response_bytes(500, [("Content-Type", "text/plain; charset=utf-8")], f"{bilingual(FAILED)}\n".encode())
            return
        if path:
            protocol.response_file(status, headers, path)
        else:
            protocol.response_bytes(status, headers, content)


class Threads:
    """Up to ``size`` threads that run functions for the event loop, each ending after ``idle_seconds`` without work.

    Lighter than ``loop.run_in_executor`` (which chains a second future to the first), and a thread
    ends when idle, closing the database connection it kept. A job is queued and a thread started
    under one lock, and a thread ends only when it finds the queue empty under that lock, so that no
    job is left without a thread.
    """

    def __init__(self, size: int, name: str, *, idle_seconds: float = IDLE_THREAD_SECONDS):
        self.size = size
        self.name = name
        self.idle_seconds = idle_seconds
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.running: set[threading.Thread] = set()
        self.waiting = 0  # threads waiting for a job

    def run(self, function, *args) -> asyncio.Future:
        """``function(*args)`` in one of the threads; its result or exception, awaited on the running loop."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self.lock:
            self.jobs.put((loop, future, function, args))
            if not self.waiting and len(self.running) < self.size:
                thread = threading.Thread(target=self.work, name=f"{self.name}-{len(self.running) + 1}", daemon=True)
                self.running.add(thread)
                thread.start()
        return future

    def work(self) -> None:
        while True:
            with self.lock:
                self.waiting += 1
            try:
                job = self.jobs.get(timeout=self.idle_seconds)
            except queue.Empty:
                job = _IDLE
            with self.lock:
                self.waiting -= 1
                if job is None or (job is _IDLE and self.jobs.empty()):
                    self.running.discard(threading.current_thread())
                    break
            if job is _IDLE:
                continue
            loop, future, function, args = job
            try:
                result = function(*args)
            except BaseException as error:  # noqa: BLE001 - handed to whoever awaits it
                loop.call_soon_threadsafe(_settle, future, None, error)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)
        memory.give_back()  # what this thread's requests left in its arena

    def close(self) -> None:
        """Let the jobs given finish, then end every thread."""
        with self.lock:
            running = list(self.running)
            for _ in running:
                self.jobs.put(None)
        for thread in running:
            thread.join()


_IDLE = object()


def _settle(future: asyncio.Future, result, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class Watchdog:
    """Cancels the task receiving a body once nothing arrived for ``seconds``.

    One timer a request, moved on when it fires early, rather than ``asyncio.wait_for`` for every
    chunk (which cost more than all the rest of receiving a small body). A spool's disk write is
    never interrupted, so that a file is never closed while a thread writes to it.
    """

    def __init__(self, seconds: float):
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.seconds = seconds
        self.fired = False
        self.writing = False
        self.last = self.loop.time()
        self.timer = self.loop.call_at(self.last + seconds, self.check)

    def arrived(self) -> None:
        self.last = self.loop.time()

    @contextlib.contextmanager
    def paused(self):
        self.writing = True
        try:
            yield
        finally:
            self.writing = False
            self.arrived()

    def check(self) -> None:
        now, due = self.loop.time(), self.last + self.seconds
        if self.writing:
            self.timer = self.loop.call_at(now + self.seconds, self.check)
        elif now < due:
            self.timer = self.loop.call_at(due, self.check)
        else:
            self.fired = True
            self.task.cancel()

    def stop(self) -> None:
        self.timer.cancel()


class SentFile:
    """``wsgi.file_wrapper``: a file the application answers with, which Granian then sends from its path."""

    def __init__(self, file, block_size: int = 64 * 1024):
        self.file = file
        self.block_size = block_size

    def path(self) -> str | None:
        """The file's path when the whole file is the answer (not a file in memory, not read from its middle)."""
        name = getattr(self.file, "name", None)
        return name if isinstance(name, str) and self.file.seekable() and self.file.tell() == 0 else None

    def __iter__(self):
        while block := self.file.read(self.block_size):
            yield block

    # werkzeug answers a Range request with a range of this file, which it seeks to.
    def seekable(self) -> bool:
        return self.file.seekable()

    def seek(self, *args) -> int:
        return self.file.seek(*args)

    def tell(self) -> int:
        return self.file.tell()

    def close(self) -> None:
        self.file.close()


def wsgi_environ(scope) -> dict:
    """The WSGI environ of an RSGI request (PEP 3333: the path as the bytes it was sent in, read as latin-1)."""
    host, _, port = scope.server.rpartition(":")
    environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": _PROTOCOLS.get(scope.http_version, "HTTP/1.1"),
        "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": SentFile,
    }
    for name, value in scope.headers.items():
        key = _environ_key(name)
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ", ") + value
        environ[key] = value
    return environ


_KEYS: dict[str, str] = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def _environ_key(name: str) -> str:
    key = _KEYS.get(name)
    if key is None:
        key = "HTTP_" + name.upper().replace("-", "_")
        if len(_KEYS) < 1000:  # header names repeat; a client inventing new ones does not grow this forever
            _KEYS[name] = key
    return key
