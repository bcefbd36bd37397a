"""The audit log: who did what, to which organisation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import AppUser, AuditEvent, Organisation, User


def record(
    session: Session,
    action: str,
    *,
    organisation: Organisation | None = None,
    user: User | None = None,
    app_user: AppUser | None = None,
    target: str | None = None,
    **details: object,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        organisation_id=organisation.id if organisation else None,
        actor_user_id=user.id if user else None,
        actor_app_user_id=app_user.id if app_user else None,
        target=target,
        details=details,
    )
    session.add(event)
    return event
