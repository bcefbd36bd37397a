"""Signing in and out of the API (``/v1/sessions``) and who the caller is (``/v1/users/current``)."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import delete

from .. import audit
from ..db import request_session
from ..models import ApiSession
from . import json
from .access import actor_route, public_route
from .auth import Actor, check_password, open_session, session_of_token, token_digest
from .errors import ApiError


@public_route("/sessions", methods=["POST"])
def create_session():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400.2, field="email, password")
    for field in ("email", "password"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise ApiError(400.2, field=field)
    session = request_session()
    user = check_password(session, body["email"], body["password"])
    token, row = open_session(session, user)
    audit.record(session, "user.sign_in", user=user, target=user.email, source="api")
    session.commit()
    return jsonify(token=token, createdAt=json.iso(row.created_at), expiresAt=json.iso(row.expires_at))


@actor_route("/sessions/<token>", methods=["DELETE"])
def delete_session(actor: Actor, token: str):
    """Sign a token out: one's own, or anyone's for a network administrator."""
    session = request_session()
    row = session_of_token(session, token)
    if row is None:
        raise ApiError(404.1)
    if actor.user is None or (row.user_id != actor.user.id and not actor.user.is_admin):
        raise ApiError(403.1)
    session.execute(delete(ApiSession).where(ApiSession.token_sha256 == token_digest(token)))
    audit.record(session, "user.sign_out", user=actor.user, source="api")
    session.commit()
    return jsonify(success=True)


@actor_route("/users/current", methods=["GET"])
def current_user(actor: Actor):
    if actor.user is None:
        raise ApiError(403.1)
    return jsonify(json.user(actor.user))
