"""Signing in and out, slowed-down guessing, idle sessions, CSRF tokens and cookies.

Plain functions where they can be (``check_sign_in``; the slow-down is ``accounts.sign_in_delay``) so that
tests call them without HTTP; the request hooks are installed by ``init_app``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from datetime import datetime, timedelta

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import accounts, audit
from ..db import request_session
from ..models import User, WebSession, utcnow
from ..problems import Problem
from ..translations import N_

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# However active, a browser signs in again after a day (as ODK Central's sessions), so that rows of
# browsers that were closed without signing out can be cleared.
SESSION_LIFETIME = timedelta(hours=24)


class SignedIn(UserMixin):
    """What flask-login keeps in the cookie: the user, a fingerprint of the password the session was opened
    with, and the token of its ``WebSession`` row.

    Changing the password changes the fingerprint, which ends every other session of that user; signing out
    deletes the row, which ends every copy of this cookie.
    """

    def __init__(self, user: User, token: str):
        self.user = user
        self.token = token

    def get_id(self) -> str:
        return f"{self.user.id}.{password_fingerprint(self.user)}.{self.token}"


def password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def signed_in_user() -> User | None:
    """The signed-in user of this request, or None."""
    if current_user and current_user.is_authenticated:
        return current_user.user
    return None


# -- sign-in, slowed down after repeated failures ------------------------------------------------


def check_sign_in(
    session: Session, email: str, password: str, *, now: datetime | None = None, counts_of=None, **audit_details
) -> User:
    """The user with this e-mail and password, or ``Problem`` (``signin.failed`` or ``signin.throttled``).

    While a user is being slowed down, the password is not even checked, so guessing gains nothing.
    ``counts_of(user)`` is where the failures are counted (the user for the web; the REST API counts its
    own, so that a stale password in a scheduled script does not lock the person out of the web).
    """
    now = now or utcnow()
    address = (email or "").strip().lower()
    user = session.scalar(select(User).where(func.lower(User.email) == address)) if address else None
    if user is None:
        check_password_hash(_dummy_hash(), password or "")  # as slow as for a known address
        raise Problem("signin.failed")
    counts = counts_of(user) if counts_of else user
    accounts.refuse_while_slowed(counts.failed_sign_ins or 0, counts.last_failed_sign_in_at, now)
    if not password or not accounts.password_matches(user, password):
        counts.failed_sign_ins = (counts.failed_sign_ins or 0) + 1
        counts.last_failed_sign_in_at = now
        audit.record(
            session, "user.sign_in_failed", user=user, target=user.email, failures=counts.failed_sign_ins, **audit_details
        )
        raise Problem("signin.failed")
    counts.failed_sign_ins = 0
    counts.last_failed_sign_in_at = None
    return user


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def start_session(database: Session, user: User) -> None:
    """A fresh session for a user who just proved who they are (no fixation: the old one is dropped and its
    row deleted, as are this user's rows past their lifetime); the caller commits."""
    language = session.get("lang")
    end_session(database)
    database.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.created_at < utcnow() - SESSION_LIFETIME))
    token = secrets.token_urlsafe(32)
    database.add(WebSession(user_id=user.id, token_sha256=_token_digest(token)))
    login_user(SignedIn(user, token))
    session.permanent = True
    session["seen"] = int(time.time())
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    if language:
        session["lang"] = language


def end_session(database: Session) -> None:
    """Sign this browser out: its row goes (the caller commits), so a copy of the cookie is worth nothing."""
    if current_user and current_user.is_authenticated:
        database.execute(delete(WebSession).where(WebSession.token_sha256 == _token_digest(current_user.token)))
    logout_user()
    session.clear()


def end_every_session(database: Session, user: User) -> None:
    """Every browser of this user signs in again (a new password); the caller commits."""
    database.execute(delete(WebSession).where(WebSession.user_id == user.id))


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- CSRF ----------------------------------------------------------------------------------------


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def csrf_ok() -> bool:
    expected = session.get(CSRF_FIELD)
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    return bool(expected) and hmac.compare_digest(str(expected).encode(), str(given).encode())


# -- cookies -------------------------------------------------------------------------------------


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over https (directly or through the proxy)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        try:
            return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure
        except RuntimeError:  # outside a request
            return bool(app.config.get("SESSION_COOKIE_SECURE"))


# -- request hooks ---------------------------------------------------------------------------------


def init_auth(app: Flask) -> None:
    settings = app.extensions["formserver.settings"]
    app.session_interface = SessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_idle_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
    )
    manager = LoginManager()
    manager.login_view = "web.login"
    manager.login_message = None
    manager.session_protection = None  # the password fingerprint and the idle limit do this job
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    manager.init_app(app)


def _load_user(user_id: str) -> SignedIn | None:
    number, _, rest = user_id.partition(".")
    fingerprint, _, token = rest.partition(".")
    if not number.isdigit() or not token:
        return None
    user = request_session().scalar(
        select(User)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            User.id == int(number),
            WebSession.token_sha256 == _token_digest(token),
            WebSession.created_at >= utcnow() - SESSION_LIFETIME,
        )
    )
    if user is None or not hmac.compare_digest(password_fingerprint(user), fingerprint):
        return None
    return SignedIn(user, token)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _unauthorized():
    if wants_json():
        abort(401)
    return redirect(url_for("web.login", next=_local_path(request.full_path)))


def _local_path(path: str) -> str:
    return path[:-1] if path.endswith("?") else path


def before_web_request():
    """Every web request: a size limit, idle sessions end, changes need the session's CSRF token."""
    request.max_content_length = current_app.extensions["formserver.settings"].accept_content_length
    if current_user.is_authenticated:
        idle = timedelta(minutes=current_app.extensions["formserver.settings"].session_idle_minutes)
        seen = session.get("seen")
        now = int(time.time())
        if seen is None or now - int(seen) > idle.total_seconds():
            database = request_session()
            end_session(database)
            database.commit()
            from .i18n import flash_text

            flash_text(N_("Your session ended after a period without activity. Please sign in again."), "info")
            if wants_json():
                abort(401)
            return redirect(url_for("web.login", next=_local_path(request.full_path) if request.method == "GET" else None))
        session["seen"] = now
    if request.method in UNSAFE_METHODS and not csrf_ok():
        g.csrf_refused = True
        abort(400, description="csrf")
    return None
