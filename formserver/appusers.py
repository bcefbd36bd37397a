"""Device accounts: a phone that reaches the server through a token URL, with no password.

A device account belongs to one organisation. Its token URL,
``{base}/key/{token}/o/{slug}``, is the "server URL" typed into ODK Collect or
carried by the set-up QR code; whoever holds it can list and fill that
organisation's open forms and send submissions, nothing else. Revoking the
account makes the URL answer 401 from the next request on.

Also here: who may use a form that has assignments, and the QR set-up payload
(ODK Collect's settings, zlib-compressed and base64-encoded).
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import zlib
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from . import audit
from .permissions import role_in
from .models import AppUser, Form, FormAssignment, Membership, Organisation, User, utcnow
from .problems import Problem

MAX_NAME = 200


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= MAX_NAME:
        raise Problem("appuser.bad_name")
    return name


def new_token() -> str:
    """64 URL-safe characters (384 random bits)."""
    return secrets.token_urlsafe(48)


def create_app_user(session: Session, organisation: Organisation, name: str, *, actor: User | None = None) -> AppUser:
    """Create a device account; a revoked account of the same name comes back with a new token."""
    name = _clean_name(name)
    existing = session.scalar(
        select(AppUser).where(AppUser.organisation_id == organisation.id, AppUser.name == name)
    )
    if existing is not None and existing.revoked_at is None:
        raise Problem("appuser.exists", name=name)
    if existing is not None:
        app_user = existing
        app_user.token = new_token()
        app_user.revoked_at = None
        app_user.created_at = utcnow()
        app_user.created_by_id = actor.id if actor else None
    else:
        app_user = AppUser(
            organisation_id=organisation.id, name=name, token=new_token(), created_by_id=actor.id if actor else None
        )
        session.add(app_user)
    session.flush()
    audit.record(
        session,
        "app_user.create",
        organisation=organisation,
        user=actor,
        target=name,
        renewed=existing is not None,
    )
    return app_user


def app_users_of(session: Session, organisation: Organisation) -> list[AppUser]:
    """Every device account of the organisation, revoked ones included, by name."""
    return list(
        session.scalars(select(AppUser).where(AppUser.organisation_id == organisation.id).order_by(AppUser.name))
    )


def app_user_by_name(session: Session, organisation: Organisation, name: str) -> AppUser:
    app_user = session.scalar(
        select(AppUser).where(AppUser.organisation_id == organisation.id, AppUser.name == " ".join(name.split()))
    )
    if app_user is None:
        raise Problem("appuser.not_found", name=name)
    return app_user


def revoke_app_user(session: Session, organisation: Organisation, name: str, *, actor: User | None = None) -> AppUser:
    """Revoke a device account: its token URL answers 401 from now on. Revoking twice changes nothing."""
    app_user = app_user_by_name(session, organisation, name)
    if app_user.revoked_at is None:
        app_user.revoked_at = utcnow()
        session.flush()
        audit.record(session, "app_user.revoke", organisation=organisation, user=actor, target=app_user.name)
    return app_user


def active_app_user_by_token(session: Session, token: str) -> AppUser | None:
    """The device account of a token URL, or None when the token is unknown or revoked."""
    if not token or len(token) > 64:
        return None
    app_user = session.scalar(select(AppUser).where(AppUser.token == token))
    if app_user is None or app_user.revoked_at is not None:
        return None
    return app_user


def server_url(base_url: str, organisation: Organisation) -> str:
    """The Collect server URL for people who sign in with e-mail and password."""
    return f"{base_url.rstrip('/')}/o/{organisation.slug}"


def token_url(base_url: str, organisation: Organisation, app_user: AppUser) -> str:
    """The Collect server URL of a device account: no password needed."""
    return f"{base_url.rstrip('/')}/key/{app_user.token}/o/{organisation.slug}"


def form_is_assigned_to(
    session: Session, form: Form | int, *, user: User | None = None, app_user: AppUser | None = None
) -> bool:
    """A form without assignments is open to everyone who may collect; with some, only to those assigned."""
    form_pk = form if isinstance(form, int) else form.id
    has_any = session.scalar(select(exists().where(FormAssignment.form_id == form_pk)))
    if not has_any:
        return True
    return assigned(session, form_pk, user=user, app_user=app_user)


def assigned(session: Session, form_pk: int, *, user: User | None = None, app_user: AppUser | None = None) -> bool:
    if app_user is not None:
        condition = FormAssignment.app_user_id == app_user.id
    elif user is not None:
        condition = FormAssignment.user_id == user.id
    else:
        return False
    return bool(session.scalar(select(exists().where(FormAssignment.form_id == form_pk, condition))))


@dataclass(frozen=True)
class Assignee:
    """One account a form is assigned to: ``key`` (``app_user:ID`` or ``user:ID``) names it in web forms."""

    key: str
    name: str  # a device account's name or a person's e-mail address

    @property
    def is_device(self) -> bool:
        return self.key.startswith("app_user:")

    @property
    def label(self) -> str:
        return f"device {self.name}" if self.is_device else self.name


def _assignee(user: User | None, app_user: AppUser | None) -> Assignee:
    if app_user is not None:
        return Assignee(f"app_user:{app_user.id}", app_user.name)
    return Assignee(f"user:{user.id}", user.email)


def assignments_of(session: Session, form: Form) -> list[Assignee]:
    """Who a form is assigned to; empty: every account of its organisation."""
    found = []
    for assignment in session.scalars(select(FormAssignment).where(FormAssignment.form_id == form.id)):
        if assignment.app_user_id is not None:
            found.append(_assignee(None, session.get(AppUser, assignment.app_user_id)))
        else:
            found.append(_assignee(session.get(User, assignment.user_id), None))
    return sorted(found, key=lambda assignee: assignee.label)


def assignable(session: Session, organisation: Organisation) -> list[Assignee]:
    """Accounts a form of the organisation can be assigned to: active device accounts and members who may send."""
    devices = [_assignee(None, a) for a in app_users_of(session, organisation) if a.revoked_at is None]
    people = session.execute(
        select(User.id, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id, Membership.role.in_(("collector", "manager")))
        .order_by(User.email)
    ).all()
    return devices + [Assignee(f"user:{user_id}", email) for user_id, email in people]


def assignee_by_key(session: Session, organisation: Organisation, key: str) -> dict:
    """``{"app_user": …}`` or ``{"user": …}`` for an ``Assignee.key`` of this organisation; 404 problem otherwise."""
    kind, _, number = (key or "").partition(":")
    if number.isdigit():
        if kind == "app_user":
            app_user = session.get(AppUser, int(number))
            if app_user is not None and app_user.organisation_id == organisation.id:
                return {"app_user": app_user}
        elif kind == "user":
            user = session.get(User, int(number))
            if user is not None and role_in(session, user, organisation) is not None:
                return {"user": user}
    raise Problem("appuser.not_found", name=key)


def assign_form(
    session: Session, form: Form, *, user: User | None = None, app_user: AppUser | None = None, actor: User | None = None
) -> None:
    """Restrict ``form`` to the accounts assigned to it (this one added); assigning twice changes nothing.

    A person must be a member of the form's organisation, a device account must belong to it.
    """
    organisation = session.get(Organisation, form.organisation_id)
    if app_user is not None:
        if app_user.organisation_id != organisation.id:
            raise Problem("appuser.not_found", name=app_user.name)
        values = {"app_user_id": app_user.id}
    else:
        if role_in(session, user, organisation) is None:
            raise Problem("member.not_found", email=user.email, slug=organisation.slug)
        values = {"user_id": user.id}
    if assigned(session, form.id, user=user, app_user=app_user):
        return
    session.add(FormAssignment(form_id=form.id, **values))
    session.flush()
    who = _assignee(user, app_user).label
    audit.record(session, "form.assign", organisation=organisation, user=actor, target=form.form_id, to=who)


def unassign_form(
    session: Session, form: Form, *, user: User | None = None, app_user: AppUser | None = None, actor: User | None = None
) -> None:
    """Remove one assignment; a form left without any is open to every account of its organisation again."""
    who = _assignee(user, app_user).label
    condition = FormAssignment.app_user_id == app_user.id if app_user is not None else FormAssignment.user_id == user.id
    assignment = session.scalar(select(FormAssignment).where(FormAssignment.form_id == form.id, condition))
    if assignment is None:
        raise Problem("form.not_assigned", form_id=form.form_id, who=who)
    session.delete(assignment)
    session.flush()
    organisation = session.get(Organisation, form.organisation_id)
    audit.record(session, "form.unassign", organisation=organisation, user=actor, target=form.form_id, to=who)


def collect_settings(server_url: str, project_name: str) -> dict:
    """ODK Collect's settings for a project whose server is ``server_url`` (a token URL needs no password)."""
    return {
        "general": {
            "server_url": server_url,
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
        },
        "admin": {},
        "project": {"name": project_name},
    }


def qr_payload(settings: dict) -> str:
    """The QR code's text: base64 of the zlib stream of the settings as UTF-8 JSON, as Collect reads it."""
    data = json.dumps(settings, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def read_qr_payload(payload: str) -> dict:
    """The settings inside a QR payload (what Collect does when it scans one)."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def qr_png(payload: str) -> bytes:
    """A PNG image of the QR code, large enough to scan from a screen or a printed sheet."""
    import segno

    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()
