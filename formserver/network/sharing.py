"""Sharing: an organisation decides that a form's submissions count in the network figures.

Off by default. Switching it on builds the form's facts from its stored submissions, switching it
off deletes them, in the same transaction as the switch: the figures change at once. Encrypted
forms are never pooled (the server cannot read them, and their organisation chose that no one
should): sharing one is refused, and encrypting a shared form withdraws it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import audit
from ..models import Form, User
from ..problems import Problem
from . import facts


def is_encrypted(form: Form) -> bool:
    return form.sealed_private_key is not None or any(version.is_encrypted for version in form.versions)


def set_shared(session: Session, key: bytes, form: Form, shared: bool, *, actor: User | None) -> bool:
    """Share the form or withdraw it; audited. Returns whether anything changed. Flushes; the caller commits."""
    if shared and is_encrypted(form):
        raise Problem("network.encrypted_form", form_id=form.form_id)
    if form.network_shared == shared:
        return False
    form.network_shared = shared
    if shared:
        facts.build_form(session, key, form)
    else:
        facts.drop_form(session, form)
    audit.record(session, "network.share", organisation=form.organisation, user=actor, target=form.form_id, shared=shared)
    session.flush()
    return True


def withdraw_encrypted(session: Session, form: Form, *, actor: User | None) -> None:
    """A form being encrypted leaves the network figures (called where encryption starts)."""
    if form.network_shared:
        form.network_shared = False
        facts.drop_form(session, form)
        audit.record(session, "network.share", organisation=form.organisation, user=actor, target=form.form_id, shared=False)
