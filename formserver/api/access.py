"""Who may call what: every API route is registered here with the verb it needs.

``project_route(rule, verb)`` loads the organisation (Central's project) named by
its id and checks the verb with ``permissions.can``, as the web pages do: no
credentials is 401, an organisation the caller is not in is 404 (as if it did not
exist), a member without the verb 403. Device tokens may read nothing. Every loader
is scoped by organisation, so an id from elsewhere is a 404 too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, g
from sqlalchemy import select

from .. import permissions
from ..central import SUPERSEDED
from ..db import request_session
from ..models import Form, FormVersion, Organisation, Submission, SubmissionAttachment
from .auth import Actor, current_actor
from .errors import ApiError

blueprint = Blueprint("api", __name__, url_prefix="/v1")

PUBLIC = "public"
SIGNED_IN = "signed in"


def _register(rule: str, access: tuple, wrapper: Callable, options: dict) -> Callable:
    wrapper.access = access  # read by the tests that check every route is covered
    blueprint.add_url_rule(rule, view_func=wrapper, **options)
    return wrapper


def public_route(rule: str, **options):
    """A call anyone may make (``POST /v1/sessions``)."""

    def decorate(view: Callable) -> Callable:
        return _register(rule, (PUBLIC, None), functools.wraps(view)(lambda **kwargs: view(**kwargs)), options)

    return decorate


def actor_route(rule: str, **options):
    """A call of any signed-in caller, outside a project; the view receives the actor."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**kwargs):
            return view(require_actor(), **kwargs)

        return _register(rule, (SIGNED_IN, None), wrapper, options)

    return decorate


def project_route(rule: str, verb: str, **options):
    """A call inside one project, at ``/v1/projects/<id>`` + rule; the view receives the organisation."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(project_id: int, **kwargs):
            return view(organisation_for(project_id, verb), **kwargs)

        return _register("/projects/<int:project_id>" + rule, ("organisation", verb), wrapper, options)

    return decorate


def require_actor() -> Actor:
    actor = current_actor()
    if actor is None:
        raise ApiError(401.2)
    return actor


def organisation_for(project_id: int, verb: str) -> Organisation:
    """The organisation if the caller may do ``verb`` there; 404 to outsiders, 403 to members without it."""
    actor = require_actor()
    session = request_session()
    organisation = session.get(Organisation, project_id)
    if organisation is None:
        raise ApiError(404.1)
    if actor.app_user is not None:
        # A phone's token: it belongs to one organisation and reads nothing through the API.
        raise ApiError(404.1 if actor.app_user.organisation_id != organisation.id else 403.1)
    user = actor.user
    if permissions.role_in(session, user, organisation) is None and not user.is_admin:
        raise ApiError(404.1)
    if not permissions.can(session, user, verb, organisation):
        raise ApiError(403.1)
    g.organisation = organisation
    return organisation


# -- loaders, each scoped by organisation: anything else is 404.1 ----------------------------------


def _one_or_404(statement):
    found = request_session().scalar(statement)
    if found is None:
        raise ApiError(404.1)
    return found


def form_in(organisation: Organisation, xml_form_id: str) -> Form:
    return _one_or_404(select(Form).where(Form.organisation_id == organisation.id, Form.form_id == xml_form_id))


def record_in(form: Form, instance_id: str) -> tuple[Submission, Submission]:
    """(first version, current version) of the record whose first instanceID is ``instance_id``."""
    first = _one_or_404(
        select(Submission).where(
            Submission.form_id == form.id,
            Submission.root_id.is_(None),
            (Submission.instance_id == instance_id)
            | Submission.instance_id.startswith(instance_id + SUPERSEDED, autoescape=True),
        )
    )
    if first.is_current:
        return first, first
    return first, _one_or_404(
        select(Submission).where(
            Submission.form_id == form.id, Submission.root_id == first.id, Submission.is_current.is_(True)
        )
    )


def attachment_in(submission: Submission, name: str) -> SubmissionAttachment:
    return _one_or_404(
        select(SubmissionAttachment).where(
            SubmissionAttachment.submission_id == submission.id, SubmissionAttachment.name == name
        )
    )


def versions_of(form: Form) -> list[FormVersion]:
    return list(request_session().scalars(select(FormVersion).where(FormVersion.form_id == form.id).order_by(FormVersion.id)))
