"""What a phone is told when something is wrong: one OpenRosa answer for every ``Problem``.

Shared by the Flask routes (form list, downloads) and the plain WSGI ``/submission``
endpoint, so that a phone gets the same answer from both.
"""

from __future__ import annotations

import logging
import re
from typing import BinaryIO

from ..config import Settings
from ..problems import Problem
from . import formats
from .auth import challenges, is_https
from .multipart import drain

log = logging.getLogger(__name__)

# Every OpenRosa answer carries these; nothing a phone fetches may be cached for long.
OPENROSA_HEADERS = [("X-OpenRosa-Version", "1.0"), ("Cache-Control", "no-cache")]

_TOKEN = re.compile(r"^/key/[^/]+/")
_API_SESSION = re.compile(r"^/v1/sessions/[^/?]+")


def without_token(path: str) -> str:
    """A path fit for a log: a device account's token is its password, and so is an API session's
    (``DELETE /v1/sessions/TOKEN``)."""
    return _API_SESSION.sub("/v1/sessions/…", _TOKEN.sub("/key/…/", path))


def problem_answer(
    problem: Problem, settings: Settings, environ: dict, stream: BinaryIO
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of the answer to a problem, with a short Thai / English message.

    ``stream`` is the request body as the endpoint has been reading it (what is left is drained).
    """
    method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
    headers = [("Content-Type", formats.CONTENT_TYPE)]
    if problem.status == 401:
        if path.startswith("/key/"):  # a device account's token URL: no password would help
            headers.append(("WWW-Authenticate", f'Bearer realm="{settings.digest_realm}", error="invalid_token"'))
        else:
            stale = bool(problem.values.get("stale"))
            values = challenges(settings, https=is_https(environ), stale=stale)
            headers += [("WWW-Authenticate", value) for value in values]
    if method == "POST":
        # Read what the phone is still sending, so it sees this answer and not a reset connection.
        if not drain(stream, at_most=2 * settings.accept_content_length + (16 << 20)):
            headers.append(("Connection", "close"))
    if problem.status >= 400 and problem.status != 401:
        log.info("openrosa %s %s: %s", method, without_token(path), problem.code)
    return problem.status, headers, formats.openrosa_response(problem.bilingual, nature="error")
