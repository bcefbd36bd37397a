"""Permissions are verbs granted to roles; routes ask ``can(user, verb, organisation)``.

Network administrators may do everything everywhere. Collectors never read or
export submissions: their accounts live on phones that get lost.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Membership, Organisation, User
from .network.access import may_read_figures

READ = {"organisation.read", "form.read", "submission.read", "export.create", "export.read", "attachment.read"}
COLLECT = {"organisation.read", "form.list_open", "submission.create"}
MANAGE = READ | {
    "form.create",
    "form.update",
    "form.list_open",
    "member.read",
    "member.update",
    "app_user.create",
    "app_user.read",
    "app_user.revoke",
    "submission.create",
    "submission.update",
    "submission.resolve_conflict",
    "audit.read",
    "network.share",  # count a form's submissions in the network figures (network/sharing.py)
}
# Publishing the network's figures at a public address and revoking them (network/snapshots.py): a
# network-wide verb in no role, so network administrators only (network/access.py may_publish).
NETWORK_PUBLISH = "network.publish"
NETWORK_ADMIN_ONLY = {"organisation.create", "user.create", "audit.read_all"}
# Network-wide verbs with their own rule (network/access.py): reading the pooled figures is for
# analysts and managers of an organisation that shares, besides network administrators.
NETWORK_READ = "network.read"

VERBS_BY_ROLE: dict[str, frozenset[str]] = {
    "manager": frozenset(MANAGE),
    "viewer": frozenset(READ | {"form.list_open"}),
    "collector": frozenset(COLLECT),
}


def role_in(session: Session, user: User, organisation: Organisation) -> str | None:
    return session.scalar(
        select(Membership.role).where(Membership.user_id == user.id, Membership.organisation_id == organisation.id)
    )


def can(session: Session, user: User | None, verb: str, organisation: Organisation | None = None) -> bool:
    if user is None:
        return False
    if user.is_admin:
        return True
    if verb == NETWORK_READ:
        return may_read_figures(session, user)
    if organisation is None or verb in NETWORK_ADMIN_ONLY:
        return False
    role = role_in(session, user, organisation)
    return role is not None and verb in VERBS_BY_ROLE.get(role, frozenset())
