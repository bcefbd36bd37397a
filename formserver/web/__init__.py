"""The web interface for form designers, coordinators and administrators.

Server-rendered pages in Thai and English under ``/orgs/<slug>/...``, sign-in at
``/login``. Routes stay thin: they check access through ``access.org_route``
(one helper for every organisation page), call the plain functions of
``formserver`` and render a template. ``init_app`` installs sign-in, CSRF,
idle sessions, security headers and the error pages.
"""

from __future__ import annotations

from flask import Flask, current_app, g, get_flashed_messages, jsonify, render_template, request
from flask_babel import Babel
from werkzeug.exceptions import HTTPException

from ..problems import Problem
from ..translations import N_, in_every_language, translate
from . import auth, i18n
from .access import blueprint, may, organisations_of
from .dates import shown_time
from .i18n import _
from . import network_snapshots  # noqa: F401  (published snapshots register themselves, as the pages below)

# The pages register themselves on the blueprint.
from . import account, admin, audit_pages, export_pages, form_pages, members, organisations, phones, submission_pages  # noqa: E402,F401
from . import network_pages  # noqa: E402,F401

blueprint.before_request(auth.before_web_request)  # idle sessions end; changes need the CSRF token

CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"


def init_app(app: Flask) -> None:
    """Register the web blueprint with everything around it."""
    Babel(app, locale_selector=i18n.current_language)  # _() and ngettext() in templates and views
    auth.init_auth(app)
    app.register_blueprint(blueprint)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    app.register_error_handler(404, _not_found_outside_blueprints)


def _is_web_request() -> bool:
    return request.blueprint == "web" or (request.url_rule is None and not request.path.startswith(("/o/", "/key/")))


def _security_headers(response):
    if _is_web_request():
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "web.static":
            # Pages carry personal data: never keep them in a shared or back-button cache.
            response.headers.setdefault("Cache-Control", "no-store, private")
        response.vary.add("Cookie")
    return response


def _template_globals() -> dict:
    if not _is_web_request():
        return {}
    language = i18n.current_language()
    return {
        "lang": language,
        "other_lang": "en" if language == "th" else "th",
        "csrf_token": auth.csrf_token,
        "csrf_field": auth.CSRF_FIELD,
        "may": may,
        "me": auth.signed_in_user(),
        "my_organisations": lambda: organisations_of(auth.signed_in_user()) if auth.signed_in_user() else [],
        "current_org": g.get("organisation"),
        "label_of": i18n.label_of,
        "word": i18n.word,
        "N_": N_,  # a text shown in another language than the page's, with in_language or in_every_language
        "in_language": translate,
        "in_every_language": in_every_language,
        "local_time": lambda value, seconds=False: shown_time(
            value,
            language,
            getattr(g.get("organisation"), "time_zone", None) or current_app.extensions["formserver.settings"].time_zone,
            seconds,
        ),
        "messages": lambda: [(category, i18n.flashed_text(m)) for category, m in get_flashed_messages(with_categories=True)],
    }


def error_page(status: int, message: str, title: str | None = None):
    if auth.wants_json() or request.path.endswith(".json"):
        return jsonify(error=message, status=status), status
    return render_template("error.html", status=status, message=message, title=title), status


@blueprint.errorhandler(Problem)
def _problem(problem: Problem):
    return error_page(problem.status, i18n.problem_text(problem))


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if error.response is not None:  # a ready answer, such as the redirect to the sign-in page
        return error.response
    return _error_page_for(error)


def _error_page_for(error: HTTPException):
    if error.code == 400 and g.get("csrf_refused"):
        return error_page(400, _("This form has expired or came from another site. Go back, reload the page and try again."))
    messages = {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("Your role in this organisation does not allow this."),
        404: _("There is nothing at this address, or you may not see it."),
        405: _("This address does not accept this kind of request."),
        413: _("The file is too large."),
    }
    return error_page(error.code or 500, messages.get(error.code, error.description or error.name))


def _not_found_outside_blueprints(error: HTTPException):
    """Unknown addresses get the web's 404 page, except under the phones' prefixes, whose blueprint answers its own way."""
    if request.path.startswith(("/o/", "/key/")) or (request.blueprint and request.blueprint != "web"):
        return error
    return _error_page_for(error)
