"""The OpenRosa blueprint: what ODK Collect talks to.

Each organisation's Collect server URL is ``{base}/o/{slug}`` (people sign in
with HTTP Digest), and each device account's is ``{base}/key/{token}/o/{slug}``
(no password). Under either prefix:

    GET       /formList                     the forms this account may fill
    GET       /forms/{form_id}.xml          the XForm, byte for byte as hashed in the list
    GET       /forms/{form_id}/manifest     its media files
    GET       /forms/{form_id}/media/{name} one media file
    HEAD/GET  /submission                   204 with the largest request we take
    POST      /submission                   a submission and its files

``/submission`` is a plain WSGI application in front of Flask (submission.py):
it is most of what phones ask. Routes only translate: ``auth.authenticate``
says who is asking, ``formats`` writes the XML answers, and every ``Problem``
becomes an OpenRosa answer in ``answers.problem_answer``.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, request, send_file
from sqlalchemy import select

from .. import forms as forms_module
from ..db import request_session
from ..models import Form, FormAssignment, FormState, FormVersion
from ..problems import Problem
from . import formats
from .answers import OPENROSA_HEADERS, problem_answer
from .auth import Access, authenticate
from .connections import ThreadConnections
from .submission import SubmissionEndpoint

blueprint = Blueprint("openrosa", __name__)

PREFIXES = {"": "/o/<slug>", "key_": "/key/<token>/o/<slug>"}


def _route(rule: str, endpoint: str, **options):
    def register(view):
        for name, prefix in PREFIXES.items():
            blueprint.add_url_rule(prefix + rule, endpoint=name + endpoint, view_func=view, **options)
        return view

    return register


def _settings():
    return current_app.extensions["formserver.settings"]


def _blobs():
    return current_app.extensions["formserver.blobs"]


def _access() -> Access:
    """Who is asking (once per request)."""
    access = g.get("openrosa_access")
    if access is None:
        args = request.view_args or {}
        access = authenticate(
            request_session(), _settings(), request.environ, slug=args.get("slug", ""), token=args.get("token")
        )
        g.openrosa_access = access
    return access


def _require(verb: str, refusal: str) -> Access:
    access = _access()
    if not access.can(request_session(), verb):
        raise Problem(refusal, slug=access.organisation.slug)
    return access


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=formats.CONTENT_TYPE)


@blueprint.record_once
def _keep_connections_and_answer_submissions(state) -> None:
    extensions = state.app.extensions
    extensions["formserver.openrosa.connections"] = ThreadConnections(extensions["formserver.db"].engine)
    state.app.wsgi_app = SubmissionEndpoint(extensions, state.app.wsgi_app)


@blueprint.before_request
def _thread_session() -> None:
    """The request's session uses this thread's kept connection (see connections.py)."""
    g.db_session = current_app.extensions["formserver.openrosa.connections"].session()


@blueprint.after_request
def _openrosa_headers(response: Response) -> Response:
    for name, value in OPENROSA_HEADERS:
        response.headers.setdefault(name, value)
    return response


@blueprint.errorhandler(Problem)
def _problem(problem: Problem) -> Response:
    status, headers, body = problem_answer(problem, _settings(), request.environ, request.stream)
    return Response(body, status=status, headers=headers)


# --------------------------------------------------------------------------- forms


def _offered(session, access: Access, form: Form, *, listing: bool) -> FormVersion | None:
    """The version a phone gets of this form, or None when this account may not have it."""
    if form.state == FormState.closed.value or (listing and form.state != FormState.open.value):
        return None
    version = forms_module.served_version(session, form)
    if version is None or version.missing_media:
        return None
    restricted = session.scalars(
        select(FormAssignment).where(FormAssignment.form_id == form.id)
    ).all()
    if restricted:
        if access.app_user is not None:
            allowed = any(a.app_user_id == access.app_user.id for a in restricted)
        else:
            allowed = any(a.user_id == access.user.id for a in restricted)
        if not allowed:
            return None
    return version


def _form_url(access: Access, form_id: str) -> str:
    return f"{access.base_url}/forms/{quote(form_id, safe='')}"


@_route("/formList", "form_list", methods=["GET"])
def form_list(slug: str, token: str | None = None):
    access = _require("form.list_open", "appuser.no_access")
    session = request_session()
    listed = []
    candidates = session.scalars(
        select(Form)
        .where(Form.organisation_id == access.organisation.id, Form.state == FormState.open.value)
        .order_by(Form.form_id)
    )
    for form in candidates:
        version = _offered(session, access, form, listing=True)
        if version is None:
            continue
        url = _form_url(access, form.form_id)
        listed.append(
            formats.ListedForm(
                form_id=form.form_id,
                name=version.title or form.title or form.form_id,
                version=version.version,
                md5=version.xform_md5,
                download_url=url + ".xml",
                manifest_url=url + "/manifest" if version.expected_media else None,
            )
        )
    return _xml(formats.form_list(listed))


def _served(form_id: str) -> tuple[Access, FormVersion]:
    access = _require("form.list_open", "appuser.no_access")
    session = request_session()
    form = forms_module.form_by_id(session, access.organisation, form_id)
    version = _offered(session, access, form, listing=False)
    if version is None:
        raise Problem("form.not_found", form_id=form_id)
    return access, version


@_route("/forms/<form_id>.xml", "form_xml", methods=["GET"])
def form_xml(slug: str, form_id: str, token: str | None = None):
    _, version = _served(form_id)
    response = _xml(version.xform)
    response.set_etag(version.xform_md5)
    return response.make_conditional(request)


@_route("/forms/<form_id>/manifest", "manifest", methods=["GET"])
def manifest(slug: str, form_id: str, token: str | None = None):
    access, version = _served(form_id)
    url = _form_url(access, form_id)
    files = [
        formats.ManifestFile(media.filename, media.md5, f"{url}/media/{quote(media.filename, safe='')}")
        for media in version.media
    ]
    return _xml(formats.manifest(files))


@_route("/forms/<form_id>/media/<filename>", "media", methods=["GET"])
def media(slug: str, form_id: str, filename: str, token: str | None = None):
    _, version = _served(form_id)
    for item in version.media:
        if item.filename == filename:
            response = send_file(
                _blobs().path(item.sha256), mimetype=item.content_type, etag=item.md5, conditional=True, max_age=None
            )
            response.headers["Cache-Control"] = "no-cache"
            return response
    raise Problem("media.not_found", form_id=form_id, filename=filename)


@_route("/<path:rest>", "unknown_address", methods=["GET", "HEAD", "POST", "PUT", "DELETE"])
def unknown_address(slug: str, rest: str, token: str | None = None):
    """Anything else under a Collect server URL gets an answer Collect shows in words, not a web page."""
    raise Problem("address.not_found")
