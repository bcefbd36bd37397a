"""The REST API under ``/v1``, shaped as ODK Central's so that pyodk, ruODK, Excel and Power BI connect.

A Central *project* is an organisation (its integer id), a form is addressed by
its form id, a submission by the instanceID its record first arrived with. The
routes are thin over the plain functions of ``formserver``; ``access.py`` holds
the one check every call goes through, ``auth.py`` who is calling, ``errors.py``
Central's error shape. ``odata.py`` is the OData feed of a form's submissions.
The API never reads the web's cookie: a script signs in with a token or Basic.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import HTTPException

from ..problems import Problem
from . import errors
from .access import blueprint, public_route
from .errors import ApiError

# The calls register themselves on the blueprint.
from . import accounts, exports, forms, keys, odata, submissions  # noqa: E402,F401


@blueprint.before_request
def _limit_body_size():
    request.max_content_length = current_app.extensions["formserver.settings"].accept_content_length


@blueprint.after_request
def _private(response):
    response.headers.setdefault("Cache-Control", "no-store, private")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError):
    return errors.response(error.code, error.message)


@blueprint.errorhandler(Problem)
def _problem(problem: Problem):
    return errors.from_problem(problem)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    code = float(f"{error.code}.1") if error.code else 500.1
    message = errors.MESSAGES[404.1] if error.code == 404 else error.description or error.name
    return errors.response(code, message, error.code)


@public_route("/<path:_anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(_anything: str):
    """Any other address under /v1 answers in Central's shape, not with the web's page."""
    raise ApiError(404.1)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
