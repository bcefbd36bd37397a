"""Who is calling the API: bearer tokens of ``POST /v1/sessions``, device tokens, and HTTP Basic over HTTPS.

Tokens are random and kept only as their SHA-256, expire 24 hours after they were
made (as Central's do) and end when the password changes. HTTP Basic (Excel, Power
BI and ruODK sign in this way) is refused over plain HTTP: the password would
cross a village Wi-Fi in clear. Wrong API passwords are slowed down like the
web's, but counted apart (``ApiSignInFailures``). A Basic check that succeeded is
remembered for a minute in the worker, so paging a feed does not pay for the
password hash on every page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import appusers
from ..central import DEVICE_ACCOUNT_IDS
from ..db import request_session
from ..models import ApiSession, ApiSignInFailures, AppUser, User, utcnow
from ..web.auth import check_sign_in, password_fingerprint
from .errors import ApiError

TOKEN_LIFETIME = timedelta(hours=24)
BASIC_MEMORY_SECONDS = 60


@dataclass(frozen=True)
class Actor:
    """A person (``user``) or a phone (``app_user``) calling the API."""

    user: User | None = None
    app_user: AppUser | None = None

    @property
    def id(self) -> int:
        return self.user.id if self.user else DEVICE_ACCOUNT_IDS + self.app_user.id


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def api_failures(session: Session):
    """``counts_of`` for ``check_sign_in``: the API's own count of wrong passwords for a user."""

    def counts_of(user: User) -> ApiSignInFailures:
        counts = session.get(ApiSignInFailures, user.id)
        if counts is None:
            counts = ApiSignInFailures(user_id=user.id, failed_sign_ins=0)
            session.add(counts)
        return counts

    return counts_of


def check_password(session: Session, email: str, password: str) -> User:
    """The user, or ``Problem`` (failed or throttled); commits the count either way."""
    try:
        user = check_sign_in(session, email, password, counts_of=api_failures(session), source="api")
    except Exception:
        session.commit()
        raise
    session.commit()
    return user


def open_session(session: Session, user: User, *, now: datetime | None = None) -> tuple[str, ApiSession]:
    """A new bearer token for a user who proved who they are; the token itself is returned once, never stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(48)
    row = ApiSession(
        user_id=user.id,
        token_sha256=token_digest(token),
        password_fingerprint=password_fingerprint(user),
        created_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    session.add(row)
    session.execute(delete(ApiSession).where(ApiSession.user_id == user.id, ApiSession.expires_at < now))
    session.commit()
    return token, row


def session_of_token(session: Session, token: str, *, now: datetime | None = None) -> ApiSession | None:
    """The live API session of a token: known, not expired, opened with the user's current password."""
    row = session.scalar(select(ApiSession).where(ApiSession.token_sha256 == token_digest(token)))
    if row is None or row.expires_at <= (now or utcnow()):
        return None
    user = session.get(User, row.user_id)
    if user is None or not hmac.compare_digest(row.password_fingerprint, password_fingerprint(user)):
        return None
    return row


def current_actor() -> Actor | None:
    """The caller of this request (looked up once), or None when no credentials were given.

    Wrong credentials are an ``ApiError`` (401), never a quiet fall back to anonymous."""
    if "api_actor" not in g:
        g.api_actor = _actor_from_headers()
    return g.api_actor


def _actor_from_headers() -> Actor | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if not header:
        return None
    if scheme == "bearer":
        return _bearer(credentials.strip())
    if scheme == "basic":
        return _basic(credentials.strip())
    raise ApiError(401.2)


def _bearer(token: str) -> Actor:
    session = request_session()
    row = session_of_token(session, token) if token else None
    if row is not None:
        return Actor(user=session.get(User, row.user_id))
    app_user = appusers.active_app_user_by_token(session, token)
    if app_user is not None:
        return Actor(app_user=app_user)
    raise ApiError(401.2)


_remembered: dict[str, tuple[float, int, str]] = {}


def _basic(credentials: str) -> Actor:
    if not request.is_secure:
        raise ApiError(401.3)
    try:
        email, _, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401.2) from None
    session = request_session()
    key = hmac.new(current_app.secret_key.encode(), f"{email}\0{password}".encode(), "sha256").hexdigest()
    remembered = _remembered.get(key)
    if remembered and remembered[0] > time.monotonic():
        user = session.get(User, remembered[1])
        if user is not None and password_fingerprint(user) == remembered[2]:
            return Actor(user=user)
    user = check_password(session, email, password)
    _forget_old()
    _remembered[key] = (time.monotonic() + BASIC_MEMORY_SECONDS, user.id, password_fingerprint(user))
    return Actor(user=user)


def _forget_old() -> None:
    now = time.monotonic()
    for key in [k for k, (until, _u, _f) in _remembered.items() if until <= now]:
        del _remembered[key]
