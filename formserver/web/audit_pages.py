"""The audit log: who signed in, uploaded, changed states, exported, downloaded attachments, managed phones."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import and_, func, or_, select

from ..db import request_session
from ..models import AppUser, AuditEvent, Membership, Organisation, User
from .access import org_route, user_route

PAGE_SIZE = 100
PERSONAL_ACTIONS = ("user.sign_in", "user.sign_in_failed", "user.sign_out", "user.password")


def audit_query(organisation: Organisation | None):
    """Events of one organisation, plus the sign-ins and password changes of its members; all events when None."""
    query = select(AuditEvent)
    if organisation is not None:
        members = select(Membership.user_id).where(Membership.organisation_id == organisation.id)
        query = query.where(
            or_(
                AuditEvent.organisation_id == organisation.id,
                and_(
                    AuditEvent.organisation_id.is_(None),
                    AuditEvent.action.in_(PERSONAL_ACTIONS),
                    AuditEvent.actor_user_id.in_(members),
                ),
            )
        )
    action = request.args.get("action", "").strip()
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    return query


def _page(organisation: Organisation | None, template: str):
    session = request_session()
    query = audit_query(organisation)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = max(1, request.args.get("page", 1, type=int) or 1)
    events = session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    users = dict(
        session.execute(select(User.id, User.email).where(User.id.in_({e.actor_user_id for e in events if e.actor_user_id}))).all()
    )
    app_users = dict(
        session.execute(
            select(AppUser.id, AppUser.name).where(AppUser.id.in_({e.actor_app_user_id for e in events if e.actor_app_user_id}))
        ).all()
    )
    slugs = dict(session.execute(select(Organisation.id, Organisation.slug)).all()) if organisation is None else {}
    return render_template(
        template,
        organisation=organisation,
        events=events,
        users=users,
        app_users=app_users,
        slugs=slugs,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
        action=request.args.get("action", ""),
    )


@org_route("/audit", "audit.read", methods=["GET"])
def audit_log(organisation: Organisation):
    return _page(organisation, "audit.html")


@user_route("/admin/audit", "audit.read_all", methods=["GET"])
def admin_audit():
    return _page(None, "audit.html")
