"""Published snapshots: a shown table frozen at a public, unguessable address for advocacy.

A snapshot keeps only what ``workbook.to_json`` gives of a ``ShownTable`` (the numbers and marks as
shown, the labels, the request), the names of the organisations it included and its title; its chart
is drawn again from those shown figures (``charts.chart_svg``). Nothing it was computed from is
kept, so it stays as published when an organisation later withdraws its form, and only revoking it
(a network administrator, audited) takes it down.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..models import NetworkSnapshot, Organisation, User, utcnow
from .table import ShownTable
from .workbook import from_json, to_json

TOKEN_BYTES = 32  # 256 bits: an address nobody guesses


def publish(session: Session, shown: ShownTable, *, title: str, actor: User | None) -> NetworkSnapshot:
    """Freeze ``shown`` under ``title`` at a new public token; audited. The caller commits."""
    names = dict(session.execute(select(Organisation.slug, Organisation.name).where(Organisation.slug.in_(shown.organisations))).all())
    snapshot = NetworkSnapshot(
        token=secrets.token_urlsafe(TOKEN_BYTES),
        form_id=shown.request.form_id,
        title=title,
        content=to_json(shown),
        organisations=[names.get(slug, slug) for slug in shown.organisations],
        created_by_id=actor.id if actor else None,
    )
    session.add(snapshot)
    session.flush()
    audit.record(session, "network.snapshot_publish", user=actor, target=f"snapshot {snapshot.id}",
                 form_id=snapshot.form_id, title=title, organisations=snapshot.organisations)
    return snapshot


def revoke(session: Session, snapshot: NetworkSnapshot, *, actor: User | None) -> bool:
    """Take a snapshot down for good (its address answers 410 Gone); audited. False if it already was."""
    if snapshot.revoked_at is not None:
        return False
    snapshot.revoked_at = utcnow()
    snapshot.revoked_by_id = actor.id if actor else None
    audit.record(session, "network.snapshot_revoke", user=actor, target=f"snapshot {snapshot.id}",
                 form_id=snapshot.form_id, title=snapshot.title)
    return True


def by_token(session: Session, token: str) -> NetworkSnapshot | None:
    """The snapshot at a public address, revoked or not (the page tells them apart)."""
    if not token or len(token) > 64:
        return None
    return session.scalar(select(NetworkSnapshot).where(NetworkSnapshot.token == token))


def every_snapshot(session: Session) -> list[NetworkSnapshot]:
    """Newest first, revoked ones included: the administrators' list."""
    return list(session.scalars(select(NetworkSnapshot).order_by(NetworkSnapshot.created_at.desc(), NetworkSnapshot.id.desc())))


def shown_table(snapshot: NetworkSnapshot) -> ShownTable:
    """The table as it was published."""
    return from_json(snapshot.content)
