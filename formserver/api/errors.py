"""The REST API's errors, in ODK Central's shape: ``{"code": 404.1, "message": "..."}``.

The number before the dot is the HTTP status; the codes are Central's, so that
clients written for Central (pyodk, ruODK, Power BI) recognise them. Messages are
English, as Central's are; a domain ``Problem`` keeps its own English words.
"""

from __future__ import annotations

from flask import jsonify

from ..problems import Problem

MESSAGES = {
    400.2: "A required parameter is missing: %(field)s.",
    400.8: "The value of %(field)s is not one this server understands: %(detail)s.",
    400.12: "The passphrase given does not open this form's encryption key: check it and try again.",
    401.2: "The credentials given could not be checked: sign in again.",
    401.3: "HTTP Basic sign-in is accepted only over HTTPS.",
    403.1: "Your role does not allow this.",
    404.1: "There is nothing at this address, or you may not see it.",
    409.3: "A submission with instanceID %(instance_id)s is already stored.",
    429.1: "Too many failed sign-ins for this account. Wait %(minutes)s minutes, then try again.",
    501.1: "This server does not support %(feature)s.",
}

# Domain problems that clients recognise by Central's code; others become STATUS.1.
PROBLEM_CODES = {
    "submission.conflict": 409.3,
    "form.closed": 409.2,
    "signin.failed": 401.2,
    "signin.throttled": 429.1,
}


class ApiError(Exception):
    """One of Central's errors: ``ApiError(404.1)``, ``ApiError(501.1, feature="$search")``."""

    def __init__(self, code: float, **values: object):
        self.code = code
        self.message = MESSAGES[code] % values if values else MESSAGES[code]
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return int(self.code)


def response(code: float, message: str, status: int | None = None, headers: dict | None = None):
    answer = jsonify(code=code, message=message)
    answer.status_code = status or int(code)
    for name, value in (headers or {}).items():
        answer.headers[name] = value
    return answer


def from_problem(problem: Problem):
    code = PROBLEM_CODES.get(problem.code, float(f"{problem.status}.1"))
    headers = {"Retry-After": str(60 * int(problem.values.get("minutes", 1)))} if problem.status == 429 else None
    return response(code, problem.en, problem.status, headers)
