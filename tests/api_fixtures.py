"""Helpers for the API tests: bearer tokens for the web world's people, and calls with them."""

from __future__ import annotations

import base64

import pytest

from formserver.api.auth import open_session
from formserver.models import User

from .web_fixtures import PASSWORD


def token_for(app, user_id: int) -> str:
    with app.app_context():
        with app.extensions["formserver.db"].session_scope() as session:
            token, _row = open_session(session, session.get(User, user_id))
            return token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def basic(email: str, password: str = PASSWORD) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


@pytest.fixture
def api(app, client, web):
    """(client, world, headers by role): bearer headers for admin, manager, viewer, collector and the other manager."""
    tokens = {role: bearer(token_for(app, user_id)) for role, user_id in web.users.items()}
    tokens["other manager"] = bearer(token_for(app, web.other.manager))
    return client, web, tokens
