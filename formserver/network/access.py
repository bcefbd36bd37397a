"""Who may read the network's figures: those who give, see.

Network administrators and network analysts; managers of an organisation that shares at least one
form. Viewers and collectors do not (their role is the organisation's records, or none of them),
nor managers of organisations that share nothing. Reading the figures gives no access to any
organisation's records: an analyst who is a member of no organisation gets 404 on every
organisation page (``web/access.py``).
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..models import Form, Membership, Role, User


def may_read_figures(session: Session, user: User | None) -> bool:
    if user is None:
        return False
    if user.is_admin or user.is_analyst:
        return True
    shares = exists().where(Form.organisation_id == Membership.organisation_id, Form.network_shared.is_(True))
    return bool(
        session.scalar(
            select(exists().where(Membership.user_id == user.id, Membership.role == Role.manager.value, shares))
        )
    )


def may_publish(user: User | None) -> bool:
    """Publishing a snapshot at a public address, and revoking one: network administrators only."""
    return user is not None and user.is_admin
