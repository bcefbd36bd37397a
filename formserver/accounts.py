"""Organisations, users and memberships."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit
from .models import Membership, Organisation, Role, User
from .problems import Problem

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD = 10


def create_organisation(session: Session, slug: str, name: str, *, actor: User | None = None) -> Organisation:
    if not _SLUG.match(slug):
        raise Problem("organisation.bad_slug", slug=slug)
    if session.scalar(select(Organisation).where(Organisation.slug == slug)):
        raise Problem("organisation.exists", slug=slug)
    organisation = Organisation(slug=slug, name=name)
    session.add(organisation)
    session.flush()
    audit.record(session, "organisation.create", organisation=organisation, user=actor, target=slug)
    return organisation


def organisation_by_slug(session: Session, slug: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise Problem("organisation.not_found", slug=slug)
    return organisation


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise Problem("user.bad_email", email=email)
    return email


def create_user(
    session: Session,
    email: str,
    password: str,
    *,
    realm: str,
    is_admin: bool = False,
    is_analyst: bool = False,
    actor: User | None = None,
) -> User:
    email = normalise_email(email)
    if session.scalar(select(User).where(func.lower(User.email) == email)):
        raise Problem("user.exists", email=email)
    user = User(email=email, is_admin=is_admin, is_analyst=is_analyst, password_hash="")
    set_password(user, password, realm=realm)
    session.add(user)
    session.flush()
    audit.record(session, "user.create", user=actor, target=email, admin=is_admin, **({"analyst": True} if is_analyst else {}))
    return user


def set_analyst(session: Session, user: User, is_analyst: bool, *, actor: User | None = None) -> None:
    """Make someone a network analyst (network figures only, no organisation's records) or not; audited."""
    if user.is_analyst != is_analyst:
        user.is_analyst = is_analyst
        audit.record(session, "user.analyst", user=actor, target=user.email, analyst=is_analyst)
        session.flush()


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise Problem("user.not_found", email=email)
    return user


def set_password(user: User, password: str, *, realm: str) -> None:
    """Keep a modern hash for web sign-in and MD5(user:realm:password) for HTTP Digest from phones."""
    if len(password) < MIN_PASSWORD:
        raise Problem("user.weak_password")
    user.password_hash = generate_password_hash(password)
    user.digest_ha1 = digest_ha1(user.email, realm, password)


def digest_ha1(username: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{username}:{realm}:{password}".encode("utf-8")).hexdigest()


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def add_member(session: Session, organisation: Organisation, user: User, role: str, *, actor: User | None = None) -> Membership:
    """Give ``user`` a role in ``organisation``, or change the role they already have."""
    if role not in {r.value for r in Role}:
        raise Problem("member.bad_role", role=role)
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == organisation.id)
    )
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=organisation.id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    audit.record(session, "member.set", organisation=organisation, user=actor, target=user.email, role=role)
    return membership


# -- wrong passwords in a row slow an account down ---------------------------------------------------

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=1)


def sign_in_delay(failures: int) -> timedelta:
    """How long to refuse sign-ins after ``failures`` failures in a row: none for the first few, then doubling."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_DELAY * (2 ** (failures - FREE_FAILURES)), LONGEST_DELAY)


def refuse_while_slowed(failures: int, last_failed_at: datetime | None, now: datetime) -> None:
    """``signin.throttled`` while the account waits after ``failures`` wrong passwords in a row: the
    password is then not even checked, so guessing gains nothing (web, API and phones alike)."""
    delay = sign_in_delay(failures)
    if delay and last_failed_at is not None:
        wait = last_failed_at + delay - now
        if wait > timedelta(0):
            seconds = int(wait.total_seconds()) + 1
            raise Problem("signin.throttled", minutes=max(1, -(-seconds // 60)))
