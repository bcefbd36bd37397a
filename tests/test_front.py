"""The front of ``formserver serve`` (formserver/front.py) with RSGI requests made here: what the application gets."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import threading

import pytest

from werkzeug.wrappers import Request

from formserver.front import IN_MEMORY, Front, Threads, body_limit


class Headers:
    def __init__(self, items: list[tuple[str, str]]):
        self._items = items

    def items(self) -> list[tuple[str, str]]:
        return self._items


@dataclasses.dataclass
class Scope:
    headers: Headers
    method: str = "POST"
    path: str = "/o/hillnet/submission"
    query_string: str = ""
    proto: str = "http"
    server: str = "127.0.0.1:5000"
    client: str = "192.0.2.7:40000"
    http_version: str = "1.1"
    scheme: str = "http"


class Protocol:
    """Granian's side of one request: the body in pieces (then, if ``stall``, nothing more); the answer given."""

    def __init__(self, pieces: list[bytes], *, stall: bool = False):
        self.pieces = pieces
        self.stall = stall
        self.read = 0
        self.answer = None

    def __aiter__(self):
        return self._body()

    async def _body(self):
        for piece in self.pieces:
            await asyncio.sleep(0)
            self.read += 1
            yield piece
        if self.stall:
            await asyncio.sleep(3600)

    def response_bytes(self, status, headers, body):
        self.answer = (status, dict(headers), body)

    def response_file(self, status, headers, path):
        self.answer = (status, dict(headers), path)


class Application:
    """A WSGI application that keeps what it was given."""

    def __init__(self, answer=None):
        self.environ = None
        self.body = None
        self.input_file = None
        self.answer = answer

    def __call__(self, environ, start_response):
        self.environ = environ
        stream = environ["wsgi.input"]
        if not isinstance(stream, io.BytesIO):
            self.input_file = os.readlink(f"/proc/self/fd/{stream.fileno()}")
        self.body = stream.read()
        start_response("201 Created", [("Content-Type", "text/plain")])
        return self.answer(environ) if self.answer else [b"stored"]


def serve(settings, application, scope: Scope, protocol: Protocol) -> None:
    async def run():
        front = Front(application, settings, threads=2)
        try:
            await front.__rsgi__(scope, protocol)
        finally:
            front.__rsgi_del__(asyncio.get_running_loop())

    asyncio.run(run())


def test_a_body_sent_in_pieces_reaches_the_application_whole_from_a_file_of_the_spool(settings):
    pieces = [bytes([n]) * 50_000 for n in range(5)]
    application, protocol = Application(), Protocol(pieces)
    serve(settings, application, Scope(Headers([("transfer-encoding", "chunked")])), protocol)
    assert protocol.answer == (201, {"Content-Type": "text/plain"}, b"stored")
    assert application.body == b"".join(pieces) and application.environ["CONTENT_LENGTH"] == "250000"
    assert application.input_file.startswith(str(settings.spool_dir)) and application.input_file.endswith("(deleted)")
    assert list(settings.spool_dir.iterdir()) == []


def test_a_small_body_stays_in_memory_and_is_read_only_up_to_its_declared_length(settings):
    body = b"<data/>" * 100
    application, protocol = Application(), Protocol([body, b"never read"])
    serve(settings, application, Scope(Headers([("content-length", str(len(body)))])), protocol)
    assert application.body == body and application.input_file is None and len(body) < IN_MEMORY
    assert protocol.read == 1 and protocol.answer[0] == 201


def test_an_upload_that_sends_nothing_for_the_idle_time_is_dropped_before_the_application(settings):
    settings = dataclasses.replace(settings, upload_idle_seconds=1)
    application, protocol = Application(), Protocol([b"x" * 100_000], stall=True)
    serve(settings, application, Scope(Headers([("content-length", "200000")])), protocol)
    status, headers, message = protocol.answer
    assert (status, headers["Connection"]) == (408, "close") and "Nothing arrived" in message.decode()
    assert application.environ is None
    assert list(settings.spool_dir.iterdir()) == []


def test_an_upload_cut_off_half_way_never_reaches_the_application(settings):
    application, protocol = Application(), Protocol([b"x" * 10, b"", b""])
    serve(settings, application, Scope(Headers([("content-length", "100")])), protocol)
    assert protocol.answer[0] == 400 and application.environ is None


def test_a_body_declared_over_the_limit_is_refused_without_reading_it(settings):
    application, protocol = Application(), Protocol([b"x"])
    serve(settings, application, Scope(Headers([("content-length", str(body_limit(settings) + 1))])), protocol)
    assert protocol.answer[0] == 413 and protocol.read == 0 and application.environ is None


def test_the_application_sees_the_request_as_a_wsgi_server_gives_it(settings):
    application, protocol = Application(), Protocol([])
    scope = Scope(
        Headers([("host", "forms.example.org"), ("cookie", "a=1"), ("cookie", "b=2"), ("x-openrosa-version", "1.0")]),
        method="GET", path="/o/hillnet/forms/บ้าน/media/รูป บ้าน.jpg", query_string="deviceID=collect%3Aab",
    )
    serve(settings, application, scope, protocol)
    request = Request(application.environ)
    assert request.path == "/o/hillnet/forms/บ้าน/media/รูป บ้าน.jpg"
    assert request.args["deviceID"] == "collect:ab" and request.host == "forms.example.org"
    assert request.cookies.to_dict() == {"a": "1", "b": "2"} and request.headers["X-OpenRosa-Version"] == "1.0"
    assert request.remote_addr == "192.0.2.7" and application.body == b""


def test_a_file_answer_is_sent_by_granian_from_its_path(settings, tmp_path):
    export = tmp_path / "export.xlsx"
    export.write_bytes(b"PK" * 1000)
    application = Application(answer=lambda environ: environ["wsgi.file_wrapper"](open(export, "rb")))
    protocol = Protocol([])
    serve(settings, application, Scope(Headers([]), method="GET"), protocol)
    assert protocol.answer == (201, {"Content-Type": "text/plain"}, str(export))


def test_the_threads_are_at_most_their_number_and_end_when_idle():
    threads = Threads(2, "test", idle_seconds=0.3)

    async def run():
        release = threading.Event()
        first = threads.run(release.wait)
        await asyncio.sleep(0.1)  # the first thread is busy: each job given now wants a thread of its own
        others = [threads.run(release.wait) for _ in range(5)]
        assert len(threads.running) == 2
        release.set()
        assert await asyncio.gather(first, *others) == [True] * 6
        with pytest.raises(ZeroDivisionError):
            await threads.run(lambda: 1 / 0)
        await asyncio.sleep(0.8)
        assert threads.running == set()  # each ended after its idle time (and with it its database connection)
        assert await threads.run(lambda: "again") == "again"

    asyncio.run(run())
    threads.close()
    assert threads.running == set()
