"""Setting up phones: device accounts with their QR code and URL, and how collectors sign in from ODK Collect."""

from __future__ import annotations

import base64

from flask import redirect, render_template, request, url_for

from .. import appusers
from ..db import request_session
from ..models import Organisation
from ..problems import Problem
from .access import app_user_in, may, org_route
from .auth import signed_in_user
from ..translations import N_
from .i18n import flash_text, problem_text


def base_url() -> str:
    """This server's address as the browser reached it (through the proxy when there is one)."""
    return request.url_root.rstrip("/")


def qr_data_uri(settings: dict) -> str:
    png = appusers.qr_png(appusers.qr_payload(settings))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _page(organisation: Organisation, status: int = 200, **extra):
    user = signed_in_user()
    server = appusers.server_url(base_url(), organisation)
    personal = appusers.collect_settings(server, organisation.name)
    personal["general"]["username"] = user.email  # the password is typed on the phone, never put in a QR code
    accounts = appusers.app_users_of(request_session(), organisation) if may("app_user.read") else []
    return (
        render_template(
            "phones.html",
            organisation=organisation,
            server_url=server,
            personal_qr=qr_data_uri(personal),
            accounts=accounts,
            **extra,
        ),
        status,
    )


@org_route("/phones", "form.list_open", methods=["GET"])
def phones_page(organisation: Organisation):
    return _page(organisation)


@org_route("/phones", "app_user.create", methods=["POST"], endpoint="create_phone")
def create_phone(organisation: Organisation):
    session = request_session()
    name = request.form.get("name", "")
    try:
        app_user = appusers.create_app_user(session, organisation, name, actor=signed_in_user())
    except Problem as problem:
        session.rollback()
        return _page(organisation, problem.status, error=problem_text(problem), name=name)
    session.commit()
    flash_text(N_("Device account %(name)s created: scan its QR code with ODK Collect."), "success", name=app_user.name)
    return redirect(url_for("web.phone_page", slug=organisation.slug, app_user_id=app_user.id))


@org_route("/phones/<int:app_user_id>", "app_user.read", methods=["GET"])
def phone_page(organisation: Organisation, app_user_id: int):
    app_user = app_user_in(organisation, app_user_id)
    url = qr = None
    if app_user.revoked_at is None:
        url = appusers.token_url(base_url(), organisation, app_user)
        qr = qr_data_uri(appusers.collect_settings(url, f"{organisation.name} ({app_user.name})"))
    return render_template("phone.html", organisation=organisation, app_user=app_user, url=url, qr=qr)


@org_route("/phones/<int:app_user_id>/revoke", "app_user.revoke", methods=["POST"])
def revoke_phone(organisation: Organisation, app_user_id: int):
    app_user = app_user_in(organisation, app_user_id)
    session = request_session()
    if app_user.revoked_at is None:
        appusers.revoke_app_user(session, organisation, app_user.name, actor=signed_in_user())
        session.commit()
        flash_text(N_("Device account %(name)s is revoked: its QR code and URL no longer work."), "success", name=app_user.name)
    return redirect(url_for("web.phones_page", slug=organisation.slug))
