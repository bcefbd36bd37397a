"""Network administrators: organisations, user accounts and the whole audit log."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import accounts
from ..db import request_session
from ..models import Membership, Organisation, User
from ..problems import Problem
from .access import user_route
from .auth import signed_in_user
from ..translations import N_
from .i18n import flash_text, problem_text


@user_route("/admin/organisations", "organisation.create", methods=["GET", "POST"])
def admin_organisations():
    session = request_session()
    error, form = None, {"slug": "", "name": ""}
    status = 200
    if request.method == "POST":
        form = {"slug": request.form.get("slug", "").strip().lower(), "name": request.form.get("name", "").strip()}
        try:
            organisation = accounts.create_organisation(
                session, form["slug"], form["name"] or form["slug"], actor=signed_in_user()
            )
        except Problem as problem:
            session.rollback()
            error, status = problem_text(problem), problem.status
        else:
            session.commit()
            flash_text(N_("Organisation %(name)s created. Add its first manager on its members page."), "success", name=organisation.name)
            return redirect(url_for("web.members_page", slug=organisation.slug))
    organisations = session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template("admin_organisations.html", organisations=organisations, error=error, form=form), status


@user_route("/admin/users", "user.create", methods=["GET", "POST"])
def admin_users():
    session = request_session()
    error, created, password = None, None, None
    status = 200
    form = {"email": "", "admin": False, "analyst": False}
    if request.method == "POST":
        form = {
            "email": request.form.get("email", ""),
            "admin": request.form.get("admin") == "yes",
            "analyst": request.form.get("analyst") == "yes",
        }
        password = request.form.get("password") or accounts.generate_password()
        try:
            created = accounts.create_user(
                session,
                form["email"],
                password,
                realm=current_app.extensions["formserver.settings"].digest_realm,
                is_admin=form["admin"],
                is_analyst=form["analyst"],
                actor=signed_in_user(),
            )
        except Problem as problem:
            session.rollback()
            error, status, password = problem_text(problem), problem.status, None
        else:
            session.commit()
            # Shown once on this page, never put in the (signed but readable) session cookie.
            password = password if not request.form.get("password") else None
    users = session.scalars(select(User).order_by(User.email)).all()
    memberships = session.execute(
        select(Membership.user_id, Organisation.slug, Membership.role).join(Organisation, Organisation.id == Membership.organisation_id)
    ).all()
    roles: dict[int, list[tuple[str, str]]] = {}
    for user_id, slug, role in memberships:
        roles.setdefault(user_id, []).append((slug, role))
    return (
        render_template(
            "admin_users.html", users=users, roles=roles, error=error, created=created, password=password, form=form
        ),
        status,
    )


@user_route("/admin/users/<int:user_id>/analyst", "user.create", methods=["POST"])
def set_analyst(user_id: int):
    """Make an account a network analyst (the network figures, no organisation's records) or not."""
    session = request_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    accounts.set_analyst(session, user, request.form.get("analyst") == "yes", actor=signed_in_user())
    session.commit()
    if user.is_analyst:
        flash_text(N_("%(email)s is now a network analyst."), "success", email=user.email)
    else:
        flash_text(N_("%(email)s is no longer a network analyst."), "success", email=user.email)
    return redirect(url_for("web.admin_users"))
