"""Who a phone is: a device account's token URL, or a person with HTTP Digest (Basic on https only).

ODK Collect sends credentials only after a 401 challenge, then preemptively on
every request with the same nonce and a growing nonce count. Nonces are the
hex time they were made plus an HMAC of it with the secret key, so every
worker and every restart accepts them without shared state; after
``NONCE_LIFETIME`` a correct answer gets 401 with ``stale=true`` and Collect
retries with the new nonce. Nonce counts are not tracked (Collect reuses a
nonce with nc+1, and workers share nothing): within a nonce's lifetime a
captured request could be replayed to the same URL, which is why the internet
should reach formserver over TLS.

Digest is checked against ``User.digest_ha1`` = MD5(email:realm:password), the
only thing Digest can be checked against: see README "Phones: ODK Collect".
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import Authorization
from werkzeug.wsgi import get_host

from .. import audit, permissions
from ..accounts import password_matches, refuse_while_slowed
from ..config import Settings
from ..db import read_first
from ..models import AppUser, Organisation, User, utcnow
from ..problems import Problem

NONCE_LIFETIME = 3600  # seconds
APP_USER_VERBS = frozenset({"organisation.read", "form.list_open", "submission.create"})


@dataclass(frozen=True)
class OrganisationRef:
    """What a phone's request needs of its organisation (read without loading the ORM entity)."""

    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class AppUserRef:
    id: int
    organisation_id: int
    name: str


@dataclass
class Access:
    """The organisation a request is for, who is asking, and the absolute URL prefix for links."""

    organisation: OrganisationRef
    user: User | None
    app_user: AppUserRef | None
    base_url: str

    def can(self, session: Session, verb: str) -> bool:
        if self.app_user is not None:
            return verb in APP_USER_VERBS and self.app_user.organisation_id == self.organisation.id
        return permissions.can(session, self.user, verb, self.organisation)


# --------------------------------------------------------------------------- nonces


def make_nonce(secret: str, now: float | None = None) -> str:
    stamp = format(int(now if now is not None else time.time()), "x")
    return f"{stamp}.{_sign(secret, stamp)}"


def _sign(secret: str, stamp: str) -> str:
    return hmac.new(secret.encode("utf-8"), b"digest-nonce:" + stamp.encode("ascii"), hashlib.sha256).hexdigest()[:40]


def nonce_state(secret: str, nonce: str, now: float | None = None) -> str:
    """``valid``, ``stale`` (ours but too old) or ``invalid``."""
    stamp, _, mac = (nonce or "").partition(".")
    try:
        made = int(stamp, 16)
    except ValueError:
        return "invalid"
    if not hmac.compare_digest(mac, _sign(secret, stamp)):
        return "invalid"
    age = (now if now is not None else time.time()) - made
    if age < -60:
        return "invalid"
    return "stale" if age > NONCE_LIFETIME else "valid"


def challenges(settings: Settings, *, https: bool, stale: bool = False) -> list[str]:
    """The WWW-Authenticate values of a 401: Digest always, Basic only over https."""
    digest = f'Digest realm="{settings.digest_realm}", qop="auth", nonce="{make_nonce(settings.secret_key)}", algorithm=MD5'
    if stale:
        digest += ", stale=true"
    values = [digest]
    if https:
        values.append(f'Basic realm="{settings.digest_realm}", charset="UTF-8"')
    return values


# --------------------------------------------------------------------------- digest


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def digest_response(
    ha1: str, *, method: str, uri: str, nonce: str, nc: str | None, cnonce: str | None, qop: str | None, algorithm: str | None
) -> str:
    """RFC 2617's request-digest for a stored HA1 (MD5 or MD5-sess, qop auth or none)."""
    if (algorithm or "MD5").upper() == "MD5-SESS":
        ha1 = _md5(f"{ha1}:{nonce}:{cnonce or ''}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def request_uri(environ: dict) -> str:
    """The request target as the client sent it (gunicorn: RAW_URI), or rebuilt from the WSGI environ."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if "://" in raw.split("?", 1)[0]:
            parts = urlsplit(raw)
            raw = parts.path + (f"?{parts.query}" if parts.query else "")
        return raw
    path = quote((environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or ""), safe="/;=,~!$&'()*+:@")
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


def _same_uri(digested: str, raw: str) -> bool:
    if "://" in digested.split("?", 1)[0]:
        parts = urlsplit(digested)
        digested = parts.path + (f"?{parts.query}" if parts.query else "")
    return digested == raw or unquote(digested) == unquote(raw)


def check_digest(session: Session, settings: Settings, credentials: Authorization, method: str, environ: dict) -> User:
    """The user whose Digest answer is right for this request; raises the 401 problem otherwise."""
    params = credentials.parameters
    username = (params.get("username") or "").strip().lower()
    nonce = params.get("nonce") or ""
    uri = params.get("uri") or ""
    qop = params.get("qop")
    if params.get("realm") != settings.digest_realm or not username or not params.get("response"):
        raise Problem("appuser.sign_in_required")
    if qop is not None and qop != "auth":
        raise Problem("appuser.sign_in_required")
    state = nonce_state(settings.secret_key, nonce)
    if state == "invalid" or not _same_uri(uri, request_uri(environ)):
        raise Problem("appuser.sign_in_required")
    user = session.scalar(_BY_EMAIL, {"email": username})
    if user is None or not user.digest_ha1:
        raise Problem("appuser.sign_in_required")
    now = utcnow()
    refuse_while_slowed(user.failed_phone_sign_ins or 0, user.last_failed_phone_sign_in_at, now)
    expected = digest_response(
        user.digest_ha1,
        method=method,
        uri=uri,
        nonce=nonce,
        nc=params.get("nc"),
        cnonce=params.get("cnonce"),
        qop=qop,
        algorithm=params.get("algorithm"),
    )
    if not hmac.compare_digest(expected, (params.get("response") or "").lower()):
        _count_wrong_password(session, user, now)
    if state == "stale":
        raise Problem("appuser.sign_in_required", stale=True)
    _forget_wrong_passwords(session, user)
    return user


def _count_wrong_password(session: Session, user: User, now) -> None:
    """One more wrong password from a phone (kept, and audited, even though the request fails); then 401."""
    failures = (user.failed_phone_sign_ins or 0) + 1
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_phone_sign_ins=User.failed_phone_sign_ins + 1, last_failed_phone_sign_in_at=now)
    )
    audit.record(session, "user.sign_in_failed", user=user, target=user.email, failures=failures, source="phone")
    session.commit()
    raise Problem("appuser.sign_in_required")


def _forget_wrong_passwords(session: Session, user: User) -> None:
    if user.failed_phone_sign_ins:
        session.execute(
            update(User).where(User.id == user.id).values(failed_phone_sign_ins=0, last_failed_phone_sign_in_at=None)
        )
        session.commit()


# --------------------------------------------------------------------------- basic (https only)

_BASIC_VERIFIED: dict[tuple[int, str], str] = {}


def check_basic(session: Session, credentials: Authorization) -> User:
    """The user of a Basic header; the slow password hash is checked once per password per process."""
    username = (credentials.username or "").strip().lower()
    password = credentials.password or ""
    user = session.scalar(_BY_EMAIL, {"email": username}) if username else None
    if user is None or not password:
        raise Problem("appuser.sign_in_required")
    now = utcnow()
    refuse_while_slowed(user.failed_phone_sign_ins or 0, user.last_failed_phone_sign_in_at, now)
    key = (user.id, user.password_hash)
    fingerprint = hashlib.sha256(f"{user.password_hash}\0{password}".encode("utf-8")).hexdigest()
    if _BASIC_VERIFIED.get(key) != fingerprint:
        if not password_matches(user, password):
            _count_wrong_password(session, user, now)
        if len(_BASIC_VERIFIED) > 1000:
            _BASIC_VERIFIED.clear()
        _BASIC_VERIFIED[key] = fingerprint
    _forget_wrong_passwords(session, user)
    return user


# --------------------------------------------------------------------------- one entry point


def authenticate(session: Session, settings: Settings, environ: dict, *, slug: str, token: str | None) -> Access:
    """Who is asking (the request's WSGI environ), for which organisation; raises a 401/403/404 problem otherwise.

    Read from the environ itself, so that the Flask routes and the plain ``/submission`` endpoint
    authenticate the same way.
    """
    root_url = root_url_of(environ)
    method = environ.get("REQUEST_METHOD", "")
    authorization = Authorization.from_header(environ.get("HTTP_AUTHORIZATION"))
    if token is not None:
        row = read_first(session, _BY_TOKEN, {"token": token}) if 0 < len(token) <= 64 else None
        if row is None or row["revoked"]:
            raise Problem("appuser.token_invalid")
        if row["slug"] != slug:
            raise Problem("appuser.no_access", slug=slug)
        return Access(
            OrganisationRef(row["organisation_id"], row["slug"], row["organisation_name"]),
            None,
            AppUserRef(row["id"], row["organisation_id"], row["name"]),
            f"{root_url}/key/{token}/o/{slug}",
        )
    if authorization is None:
        raise Problem("appuser.sign_in_required")
    if authorization.type == "digest" and authorization.parameters:
        user = check_digest(session, settings, authorization, method, environ)
    elif authorization.type == "basic" and is_https(environ):
        user = check_basic(session, authorization)
    else:
        raise Problem("appuser.sign_in_required")
    row = read_first(session, _BY_SLUG, {"slug": slug})
    if row is None:
        raise Problem("organisation.not_found", slug=slug)
    return Access(OrganisationRef(row["id"], row["slug"], row["name"]), user, None, f"{root_url}/o/{slug}")


def is_https(environ: dict) -> bool:
    return environ.get("wsgi.url_scheme") == "https"


def root_url_of(environ: dict) -> str:
    """The scheme, host and script root the phone used (after ProxyFix, behind a trusted proxy)."""
    return f"{environ.get('wsgi.url_scheme', 'http')}://{get_host(environ)}{quote(environ.get('SCRIPT_NAME', ''))}"


# Built once: every request from a phone runs one of these.
_APP_USER, _ORGANISATION = AppUser.__table__, Organisation.__table__
_BY_TOKEN = (
    select(
        _APP_USER.c.id,
        _APP_USER.c.organisation_id,
        _APP_USER.c.name,
        _APP_USER.c.revoked_at.is_not(None).label("revoked"),
        _ORGANISATION.c.slug,
        _ORGANISATION.c.name.label("organisation_name"),
    )
    .select_from(_APP_USER.join(_ORGANISATION, _ORGANISATION.c.id == _APP_USER.c.organisation_id))
    .where(_APP_USER.c.token == bindparam("token"))
)
_BY_SLUG = select(_ORGANISATION.c.id, _ORGANISATION.c.slug, _ORGANISATION.c.name).where(
    _ORGANISATION.c.slug == bindparam("slug")
)
_BY_EMAIL = select(User).where(User.email == bindparam("email"))
