"""Who may see what: the one place that turns an address into an organisation, and organisation data.

Every page of an organisation is registered with ``org_route(rule, verb)``: it
loads the organisation named by the slug and checks the verb with
``permissions.can``. Someone who is not a member of that organisation gets 404
(as if it did not exist: guessing addresses teaches nothing), a member without
the verb 403, and someone not signed in is sent to the sign-in page. Every
loader below is scoped by organisation, so an id from another organisation is
a 404 too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, abort, current_app, g
from sqlalchemy import select

from .. import permissions, submissions
from ..exports import jobs
from ..db import request_session
from ..models import (
    AppUser,
    Form,
    FormVersion,
    Membership,
    Organisation,
    Submission,
    SubmissionAttachment,
    User,
)
from ..problems import Problem
from .auth import signed_in_user

blueprint = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)

PUBLIC = "public"
SIGNED_IN = "signed in"


def _register(rule: str, access: tuple, view: Callable, wrapper: Callable, options: dict) -> Callable:
    wrapper.access = access  # read by the tests that check every route is covered
    blueprint.add_url_rule(rule, view_func=wrapper, **options)
    return wrapper


def public_route(rule: str, **options):
    """A page anyone may see (sign-in, the landing page, the language switch)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**kwargs):
            return view(**kwargs)

        return _register(rule, (PUBLIC, None), view, wrapper, options)

    return decorate


def user_route(rule: str, verb: str | None = None, **options):
    """A page of the signed-in user, outside any organisation; ``verb`` (if any) is checked network-wide."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**kwargs):
            user = require_user()
            if verb is not None and not permissions.can(request_session(), user, verb, None):
                abort(403)
            return view(**kwargs)

        return _register(rule, (SIGNED_IN, verb), view, wrapper, options)

    return decorate


def org_route(rule: str, verb: str, **options):
    """A page of one organisation, at ``/orgs/<slug>`` + rule; the view receives the organisation, not the slug."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(slug: str, **kwargs):
            return view(organisation_for(slug, verb), **kwargs)

        return _register("/orgs/<slug>" + rule, ("organisation", verb), view, wrapper, options)

    return decorate


def require_user() -> User:
    user = signed_in_user()
    if user is None:
        abort(current_app.login_manager.unauthorized())
    return user


def organisation_for(slug: str, verb: str) -> Organisation:
    """The organisation ``slug`` if the signed-in user may do ``verb`` there; else 404 to outsiders, 403 to members."""
    user = require_user()
    session = request_session()
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        abort(404)
    role = permissions.role_in(session, user, organisation)
    if role is None and not user.is_admin:
        abort(404)
    if not permissions.can(session, user, verb, organisation):
        abort(403)
    g.organisation = organisation
    g.role = role
    return organisation


def may(verb: str, organisation: Organisation | None = None) -> bool:
    """For templates and views: may the signed-in user do ``verb`` (in the current organisation)?"""
    organisation = organisation if organisation is not None else g.get("organisation")
    answers = g.setdefault("may", {})  # a page asks about the same verbs many times
    key = (verb, organisation.id if organisation is not None else None)
    if key not in answers:
        answers[key] = permissions.can(request_session(), signed_in_user(), verb, organisation)
    return answers[key]


def organisations_of(user: User) -> list[tuple[Organisation, str | None]]:
    """The organisations a user can open, with their role; a network administrator opens them all."""
    session = request_session()
    if user.is_admin:
        roles = dict(
            session.execute(select(Membership.organisation_id, Membership.role).where(Membership.user_id == user.id)).all()
        )
        return [(o, roles.get(o.id)) for o in session.scalars(select(Organisation).order_by(Organisation.name))]
    return list(
        session.execute(
            select(Organisation, Membership.role)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user.id)
            .order_by(Organisation.name)
        ).all()
    )


# -- loaders, each scoped by organisation: anything else is a 404 ------------------------------------


def _one_or_404(statement):
    found = request_session().scalar(statement)
    if found is None:
        abort(404)
    return found


def form_in(organisation: Organisation, form_id: str) -> Form:
    return _one_or_404(select(Form).where(Form.organisation_id == organisation.id, Form.form_id == form_id))


def version_in(form: Form, version_id: int) -> FormVersion:
    return _one_or_404(select(FormVersion).where(FormVersion.form_id == form.id, FormVersion.id == version_id))


def submission_in(organisation: Organisation, submission_id: int) -> Submission:
    return _one_or_404(
        select(Submission).where(Submission.organisation_id == organisation.id, Submission.id == submission_id)
    )


def attachment_in(submission: Submission, name: str) -> SubmissionAttachment:
    return _one_or_404(
        select(SubmissionAttachment).where(
            SubmissionAttachment.submission_id == submission.id, SubmissionAttachment.name == name
        )
    )


def app_user_in(organisation: Organisation, app_user_id: int) -> AppUser:
    return _one_or_404(select(AppUser).where(AppUser.organisation_id == organisation.id, AppUser.id == app_user_id))


def membership_in(organisation: Organisation, user_id: int) -> Membership:
    return _one_or_404(
        select(Membership).where(Membership.organisation_id == organisation.id, Membership.user_id == user_id)
    )


def _loaded_or_404(load: Callable, organisation: Organisation, number: int):
    """What a domain lookup (which raises a Problem when there is nothing) finds in this organisation, else 404."""
    try:
        return load(request_session(), organisation, number)
    except (Problem, LookupError):
        abort(404)


def job_in(organisation: Organisation, job_id: int):
    job = _loaded_or_404(jobs.job_by_id, organisation, job_id)
    if job is None or job.organisation_id != organisation.id:
        abort(404)
    return job


def conflict_in(organisation: Organisation, conflict_id: int):
    conflict = _loaded_or_404(submissions.conflict_by_id, organisation, conflict_id)
    if conflict is None or conflict.submission.organisation_id != organisation.id:
        abort(404)
    return conflict
