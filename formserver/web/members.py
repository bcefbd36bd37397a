"""Members of an organisation: add people by e-mail with a role, change a role, remove a member."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import accounts, audit
from ..db import request_session
from ..models import Membership, Organisation, Role, User
from ..problems import Problem
from .access import may, membership_in, org_route
from .auth import signed_in_user
from ..translations import N_
from .i18n import _, flash_text, problem_text

ROLES = [r.value for r in Role]


def members_of(organisation: Organisation) -> list[tuple[User, str]]:
    return list(
        request_session()
        .execute(
            select(User, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation.id)
            .order_by(User.email)
        )
        .all()
    )


def _page(organisation: Organisation, status: int = 200, **extra):
    return (
        render_template(
            "members.html", organisation=organisation, members=members_of(organisation), roles=ROLES, **extra
        ),
        status,
    )


@org_route("/members", "member.read", methods=["GET"])
def members_page(organisation: Organisation):
    return _page(organisation)


@org_route("/members", "member.update", methods=["POST"], endpoint="add_member")
def add_member(organisation: Organisation):
    session = request_session()
    email = request.form.get("email", "").strip()
    role = request.form.get("role", "")
    actor = signed_in_user()
    try:
        if role not in ROLES:
            raise Problem("member.bad_role", role=role or "-")
        address = accounts.normalise_email(email)
        user = session.scalar(select(User).where(func.lower(User.email) == address))
        password = None
        if user is None:
            if not may("user.create", None):
                raise Problem("user.not_found", email=address)
            password = request.form.get("password") or accounts.generate_password()
            user = accounts.create_user(
                session, address, password, realm=current_app.extensions["formserver.settings"].digest_realm, actor=actor
            )
            if request.form.get("password"):
                password = None
        _keep_a_manager(session, organisation, user, role)
        accounts.add_member(session, organisation, user, role, actor=actor)
    except Problem as problem:
        session.rollback()
        hint = _("Ask a network administrator to create the account first.") if problem.code == "user.not_found" else None
        return _page(organisation, problem.status, error=problem_text(problem), hint=hint, email=email, role=role)
    session.commit()
    if password:
        # A new account's generated password, shown once on this page.
        return _page(organisation, created=user, password=password)
    flash_text(N_("%(email)s is now %(role)s of this organisation."), "success", words={"role": role}, email=user.email)
    return redirect(url_for("web.members_page", slug=organisation.slug))


@org_route("/members/<int:user_id>/role", "member.update", methods=["POST"])
def change_role(organisation: Organisation, user_id: int):
    session = request_session()
    membership = membership_in(organisation, user_id)
    role = request.form.get("role", "")
    if role not in ROLES:
        raise Problem("member.bad_role", role=role or "-")
    _keep_a_manager(session, organisation, membership.user, role)
    accounts.add_member(session, organisation, membership.user, role, actor=signed_in_user())
    session.commit()
    flash_text(N_("%(email)s is now %(role)s of this organisation."), "success", words={"role": role}, email=membership.user.email)
    return redirect(url_for("web.members_page", slug=organisation.slug))


@org_route("/members/<int:user_id>/remove", "member.update", methods=["POST"])
def remove_member(organisation: Organisation, user_id: int):
    session = request_session()
    membership = membership_in(organisation, user_id)
    user = membership.user
    _keep_a_manager(session, organisation, user, None)
    session.delete(membership)
    audit.record(session, "member.remove", organisation=organisation, user=signed_in_user(), target=user.email)
    session.commit()
    flash_text(N_("%(email)s is no longer a member of this organisation."), "success", email=user.email)
    return redirect(url_for("web.members_page", slug=organisation.slug))


def _keep_a_manager(session, organisation: Organisation, user: User, new_role: str | None) -> None:
    """Refuse to demote or remove the last manager: nobody but an administrator could manage the organisation then."""
    if new_role == Role.manager.value:
        return
    managers = session.scalars(
        select(Membership.user_id).where(
            Membership.organisation_id == organisation.id, Membership.role == Role.manager.value
        )
    ).all()
    if managers == [user.id]:
        raise Problem("member.last_manager", email=user.email)
