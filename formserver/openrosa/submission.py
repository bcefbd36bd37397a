"""``/submission`` (HEAD, GET and POST) as a plain WSGI application in front of Flask.

Every submission is two requests here, HEAD then POST, and nothing else a phone
does comes as often. Flask's per-request machinery (request and application
contexts, the signed-cookie session phones never use, URL adapters, hooks) was
a third of the CPU of these two requests (cProfile in CPU time over
bench/ingest.py's submissions), so this endpoint reads the WSGI environ itself.
It only translates, as the Flask routes do: ``auth.authenticate`` says who is
asking, ``multipart.read_upload`` receives the files, ``submissions.ingest``
stores, and ``answers.problem_answer`` words every refusal. What the phone
shows is in Thai and English at once (it has no language choice to follow),
read from the catalogue when the endpoint is made, not at every request.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from urllib.parse import parse_qs

from werkzeug.wsgi import get_input_stream

from ..problems import Problem
from ..submissions import ingest
from ..translations import N_, bilingual
from . import formats
from .answers import OPENROSA_HEADERS, problem_answer, without_token
from .auth import Access, authenticate
from .multipart import read_upload

log = logging.getLogger(__name__)

PATH = re.compile(r"(?:/key/(?P<token>[^/]+))?/o/(?P<slug>[^/]+)/submission")
METHODS = ("GET", "HEAD", "POST")

RECEIVED = N_("Submission received.")
EDIT_RECEIVED = N_("Edited submission received.")


class SubmissionEndpoint:
    """WSGI middleware: answers ``…/o/{slug}/submission``, passes every other request on."""

    def __init__(self, extensions: dict, fallback):
        self.settings = extensions["formserver.settings"]
        self.blobs = extensions["formserver.blobs"]
        self.connections = extensions["formserver.openrosa.connections"]
        self.fallback = fallback
        self.received, self.edit_received = bilingual(RECEIVED), bilingual(EDIT_RECEIVED)

    def __call__(self, environ, start_response):
        match = PATH.fullmatch(environ.get("PATH_INFO") or "")
        if match is None:
            return self.fallback(environ, start_response)
        method = environ.get("REQUEST_METHOD", "")
        if method in METHODS:
            status, headers, body = self.answer(environ, method, match["slug"], match["token"])
        else:
            status, headers, body = 405, [("Allow", ", ".join(METHODS))], b""
        headers += [("Content-Length", str(len(body))), *OPENROSA_HEADERS]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [b"" if method == "HEAD" else body]

    def answer(self, environ, method: str, slug: str, token: str | None) -> tuple[int, list, bytes]:
        stream = get_input_stream(environ)
        session = self.connections.session()
        try:
            access = authenticate(session, self.settings, environ, slug=slug, token=token)
            if not access.can(session, "submission.create"):
                raise Problem("submission.forbidden", slug=access.organisation.slug)
            if method != "POST":
                return 204, [("X-OpenRosa-Accept-Content-Length", str(self.settings.accept_content_length))], b""
            return 201, [("Content-Type", formats.CONTENT_TYPE)], self.receive(session, access, environ, stream)
        except Problem as problem:
            return problem_answer(problem, self.settings, environ, stream)
        except Exception:
            log.exception("openrosa %s %s failed", method, without_token(environ.get("PATH_INFO", "")))
            return problem_answer(Problem("submission.failed"), self.settings, environ, stream)
        finally:
            session.close()

    def receive(self, session, access: Access, environ, stream) -> bytes:
        """Read the upload and store it; the answer's body."""
        if session.in_transaction():
            # No transaction stays open while the phone uploads (on SQLite it would hold the write lock).
            session.rollback()
        limit = self.settings.accept_content_length
        upload = read_upload(stream, environ.get("CONTENT_TYPE"), self.blobs, limit=limit)
        try:
            if upload.xml is None:
                raise Problem("submission.no_xml")
            outcome = ingest(
                session,
                self.blobs,
                access.organisation,
                upload.xml,
                upload.files,
                user=access.user,
                app_user=access.app_user,
                device_id=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).get("deviceID", [None])[0],
                user_agent=environ.get("HTTP_USER_AGENT"),
            )
        finally:
            upload.discard()
        return formats.openrosa_response(self.edit_received if outcome.status == "edit" else self.received)
